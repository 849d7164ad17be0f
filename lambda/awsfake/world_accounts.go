package awsfake

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
)

// Trust is a role's trust policy, as the fake models it: the accounts whose
// principals may assume the role (Principal {"AWS": "<account id>"} or the
// account's root ARN) and the organisation whose principals may
// (Principal "*" with aws:PrincipalOrgID). An empty Trust trusts nobody.
type Trust struct {
	Accounts []string
	OrgID    string
}

// BusStatement is one Allow statement of an event bus's resource policy for
// events:PutEvents (PutPermission, AWS::Events::EventBusPolicy): the
// principals it names (account ids, IAM ARNs of roles, users or an account's
// root, or "*"), an aws:PrincipalOrgID condition, and events:source and
// events:detail-type conditions (none = any).
type BusStatement struct {
	Principals  []string
	OrgID       string
	Sources     []string
	DetailTypes []string
}

// Credentials are the temporary credentials AssumeRole returns.
type Credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
	Expiration                                 time.Time
}

// assumeRoleDuration is AssumeRole's default session duration (one hour).
const assumeRoleDuration = time.Hour

// roleKey and busKey name a role and a bus across the World.
type (
	roleKey struct{ account, name string }
	busKey  struct {
		scope Scope
		name  string
	}
)

// SetOrganization makes accounts members of the organisation orgID (what
// aws:PrincipalOrgID reads for their principals).
func (w *World) SetOrganization(orgID string, accounts ...string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, a := range accounts {
		w.orgs[a] = orgID
	}
}

// AddRole makes the IAM role name in account, assumable by whom trust allows.
// Adding it again replaces its trust.
func (w *World) AddRole(account, name string, trust Trust) {
	if !accountPattern.MatchString(account) {
		panic(fmt.Sprintf("awsfake: account %q is not 12 digits", account))
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.roles[roleKey{account, name}] = trust
}

// AssumeRole is STS AssumeRole for the caller of accessKey: when roleARN names
// a role whose trust allows the caller's account (or the caller's
// organisation), it returns temporary credentials whose key signs as
// assumed-role/<role>/<session> in the role's account, so that the next
// requests signed with it are served by that account's Clouds. Anything else
// is AccessDenied, with one message whether the role is missing or does not
// trust the caller, as STS answers (behaviour ledger, "Accounts").
func (w *World) AssumeRole(accessKey, roleARN, session string) (Credentials, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	caller, ok := w.keys[accessKey]
	if !ok {
		return Credentials{}, fmt.Errorf("%w: %q", ErrUnknownKey, accessKey)
	}
	if session == "" {
		return Credentials{}, errorf("ValidationError", "1 validation error detected: Value null at 'roleSessionName' failed to satisfy constraint: Member must not be null")
	}
	account, name, ok := parseRoleARN(roleARN)
	trust, exists := w.roles[roleKey{account, name}]
	if !ok || !exists || !w.trusts(trust, caller.Account) {
		return Credentials{}, errorf("AccessDenied", "User: %s is not authorized to perform: sts:AssumeRole on resource: %s",
			caller.ARN(partitionOfARN(roleARN)), roleARN)
	}
	n := w.ids.next()
	key := fmt.Sprintf("ASIA%016X", uint64(n)^fnv(roleARN))
	w.keys[key] = Identity{Account: account, User: name, Role: name, Session: session}
	return Credentials{AccessKeyID: key, SecretAccessKey: fmt.Sprintf("secret%d", n), SessionToken: fmt.Sprintf("token%d", n),
		Expiration: w.clock.Now().Add(assumeRoleDuration)}, nil
}

// trusts reports whether trust lets a principal of account assume the role,
// with w.mu held.
func (w *World) trusts(trust Trust, account string) bool {
	if slices.Contains(trust.Accounts, account) {
		return true
	}
	return trust.OrgID != "" && w.orgs[account] == trust.OrgID
}

// parseRoleARN reads arn:<partition>:iam::<account>:role/<name>.
func parseRoleARN(arn string) (account, name string, ok bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "iam" || !strings.HasPrefix(parts[5], "role/") {
		return "", "", false
	}
	name = strings.TrimPrefix(parts[5], "role/")
	name = name[strings.LastIndex(name, "/")+1:] // a path is not part of the name
	return parts[4], name, accountPattern.MatchString(parts[4]) && name != ""
}

func partitionOfARN(arn string) string {
	if parts := strings.SplitN(arn, ":", 3); len(parts) == 3 && parts[0] == "arn" && parts[1] != "" {
		return parts[1]
	}
	return Partition
}

// PutBusPolicy sets the resource policy of the bus name in scope s (replacing
// the one it had): the statements that let other accounts put events on it.
func (w *World) PutBusPolicy(s Scope, name string, statements ...BusStatement) {
	if err := s.validate(); err != nil {
		panic("awsfake: " + err.Error())
	}
	w.mu.Lock()
	defer w.mu.Unlock()
	w.busPolicies[busKey{s, name}] = slices.Clone(statements)
}

// PutEvents is EventBridge PutEvents signed with accessKey for region. An
// entry whose EventBusName is the ARN of another account's bus in the region
// goes to that account's Cloud when both allow it: the caller's own
// permission set (if its Cloud has one) must allow events:PutEvents on the bus
// ARN, as for its own buses (else the whole call is AccessDeniedException and
// nothing is put), and the bus's resource policy must allow the caller for
// the entry (its account, its role or user ARN, its organisation; the
// events:source and events:detail-type conditions), else that entry alone
// fails inside the output (AccessDeniedException,
// NotAuthorizedForSourceException or NotAuthorizedForDetailTypeException;
// behaviour ledger, "Accounts"). Every other entry is the caller's own
// Cloud's, as Cloud PutEvents answers it. It locks one Cloud at a time.
func (w *World) PutEvents(ctx context.Context, accessKey, region string, in *eventbridge.PutEventsInput) (*eventbridge.PutEventsOutput, error) {
	own, caller, err := w.Resolve(accessKey, region)
	if err != nil {
		return nil, err
	}
	if in == nil || len(in.Entries) == 0 || len(in.Entries) > 10 {
		return own.EventBridge().PutEvents(ctx, in)
	}
	targets, refusals, cross := w.busTargets(own, caller, in.Entries)
	if err := own.authorizeCrossAccount(cross); err != nil {
		return nil, err
	}
	out := &eventbridge.PutEventsOutput{Entries: make([]ebtypes.PutEventsResultEntry, len(in.Entries))}
	for i, r := range refusals {
		if r != nil {
			out.Entries[i] = *r
			out.FailedEntryCount++
		}
	}
	for _, cloud := range uniqueClouds(targets) {
		var idx []int
		part := &eventbridge.PutEventsInput{EndpointId: in.EndpointId}
		for i, c := range targets {
			if c == cloud {
				idx = append(idx, i)
				part.Entries = append(part.Entries, in.Entries[i])
			}
		}
		res, err := cloud.EventBridge().PutEvents(ctx, part)
		if err != nil {
			return nil, err
		}
		for j, i := range idx {
			out.Entries[i] = res.Entries[j]
		}
		out.FailedEntryCount += res.FailedEntryCount
	}
	return out, nil
}

// authorizeCrossAccount checks the caller's own permission set for the
// entries bound for other accounts' buses (IAM User Guide, "Cross-account
// policy evaluation logic": the identity policy must allow them too), as
// Cloud PutEvents checks the entries for its own buses: a refusal is the
// whole call's AccessDeniedException, recorded in Denials.
func (c *Cloud) authorizeCrossAccount(entries []ebtypes.PutEventsRequestEntry) error {
	if len(entries) == 0 {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return wrap(svcEventBridge, "PutEvents", c.authorize(svcEventBridge, "PutEvents", &eventbridge.PutEventsInput{Entries: entries}))
}

// busTargets picks each entry's Cloud (nil for an entry a bus policy
// refuses, with its refusal) and lists the entries bound for other
// accounts' buses.
func (w *World) busTargets(own *Cloud, caller Identity, entries []ebtypes.PutEventsRequestEntry) (
	targets []*Cloud, refusals []*ebtypes.PutEventsResultEntry, cross []ebtypes.PutEventsRequestEntry) {
	w.mu.Lock()
	defer w.mu.Unlock()
	targets = make([]*Cloud, len(entries))
	refusals = make([]*ebtypes.PutEventsResultEntry, len(entries))
	for i, e := range entries {
		targets[i] = own
		busARN := derefString(e.EventBusName)
		s, name, ok := parseBusARN(busARN)
		if !ok || s.Region != own.Scope().Region || s.Account == caller.Account {
			continue
		}
		cross = append(cross, e)
		if code, msg := w.busRefusal(busKey{s, name}, caller, e); code != "" {
			targets[i] = nil
			refusals[i] = &ebtypes.PutEventsResultEntry{ErrorCode: ptr(code), ErrorMessage: ptr(msg)}
			continue
		}
		targets[i] = w.cloud(s)
	}
	return targets, refusals, cross
}

// busRefusal is the error code and message a bus's policy refuses caller's
// entry e with, or "" when a statement allows it, with w.mu held. The checks
// go from the principal to the narrowest condition: no statement naming the
// caller (and its organisation) is AccessDeniedException; statements naming
// it, but none allowing the entry's source, NotAuthorizedForSourceException;
// one allowing the source but none with it the detail-type,
// NotAuthorizedForDetailTypeException.
func (w *World) busRefusal(bus busKey, caller Identity, e ebtypes.PutEventsRequestEntry) (code, msg string) {
	partition := bus.scope.Partition()
	code = "AccessDeniedException"
	msg = fmt.Sprintf("User: %s is not authorized to perform: events:PutEvents on resource: %s because no resource-based policy allows the events:PutEvents action",
		caller.ARN(partition), derefString(e.EventBusName))
	for _, st := range w.busPolicies[bus] {
		principal := slices.ContainsFunc(st.Principals, func(p string) bool {
			return p == "*" || p == caller.Account || p == fmt.Sprintf("arn:%s:iam::%s:root", partition, caller.Account) ||
				p == caller.PrincipalARN(partition)
		})
		switch {
		case !principal, st.OrgID != "" && w.orgs[caller.Account] != st.OrgID:
			continue
		case len(st.Sources) > 0 && !slices.Contains(st.Sources, derefString(e.Source)):
			if code == "AccessDeniedException" {
				code, msg = "NotAuthorizedForSourceException", "You do not have permissions to publish events with this source onto this event bus."
			}
			continue
		case len(st.DetailTypes) > 0 && !slices.Contains(st.DetailTypes, derefString(e.DetailType)):
			code, msg = "NotAuthorizedForDetailTypeException", "You do not have permissions to publish events with this detail type onto this event bus."
			continue
		}
		return "", ""
	}
	return code, msg
}

// parseBusARN reads arn:<partition>:events:<region>:<account>:event-bus/<name>.
func parseBusARN(arn string) (Scope, string, bool) {
	parts := strings.SplitN(arn, ":", 6)
	if len(parts) != 6 || parts[0] != "arn" || parts[2] != "events" || !strings.HasPrefix(parts[5], "event-bus/") {
		return Scope{}, "", false
	}
	s := Scope{Account: parts[4], Region: parts[3]}
	return s, strings.TrimPrefix(parts[5], "event-bus/"), s.validate() == nil
}

// uniqueClouds lists the Clouds of cs once each, in order, without nil.
func uniqueClouds(cs []*Cloud) []*Cloud {
	var out []*Cloud
	for _, c := range cs {
		if c != nil && !slices.Contains(out, c) {
			out = append(out, c)
		}
	}
	return out
}
