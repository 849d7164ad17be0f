package awsfake

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
)

// Policy is an IAM identity-based policy: the permission set a cloud can run
// under (WithPolicy, SetPolicy). Without one, every call is allowed.
//
// The evaluator is IAM's (IAM User Guide, "Policy evaluation logic" and "IAM
// JSON policy elements: Condition operators"), cut to what amibump's role uses:
//   - an explicit Deny wins over any Allow; no matching Allow is an implicit deny;
//   - Action and Resource: one string or a list, with * and ? wildcards
//     (actions compared without regard to case);
//   - Condition: every operator and every key of a statement must hold, any of
//     a key's values may match; operators StringEquals, StringNotEquals,
//     StringEqualsIgnoreCase, StringNotEqualsIgnoreCase, StringLike,
//     StringNotLike, ArnEquals, ArnLike, ArnNotEquals, ArnNotLike, Bool and
//     Null, each with the ForAllValues: and ForAnyValue: set prefixes and the
//     IfExists suffix; a key absent from the request matches no positive
//     operator, every negated one, ForAllValues (IAM: "returns true if there
//     are no keys in the request") and nothing with ForAnyValue;
//   - keys: aws:ResourceTag/<key>, ec2:ResourceTag/<key>,
//     autoscaling:ResourceTag/<key>, aws:RequestTag/<key>, aws:TagKeys,
//     ec2:CreateAction and aws:CalledVia (set on what a service calls with the
//     caller's permissions: DescribeImageReferences' scans), and
//     kms:GrantIsForAWSResource (true on the grant EC2 creates on a key for
//     the caller's copy).
//
// A statement with an operator or key the evaluator does not know is read the
// harsher way: an Allow does not apply, a Deny does. NotAction, NotResource
// and Principal are refused when the policy is parsed.
type Policy struct {
	Version   string
	Statement []Statement
}

// Statement is one statement of a Policy.
type Statement struct {
	Sid       string
	Effect    string // Allow or Deny
	Action    []string
	Resource  []string
	Condition map[string]map[string][]string // operator → key → values
}

// stringList is IAM's "a string or a list of strings" (booleans and numbers
// are read as their text, as IAM compares them).
type stringList []string

func (l *stringList) UnmarshalJSON(b []byte) error {
	var one any
	if err := json.Unmarshal(b, &one); err != nil {
		return err
	}
	text := func(v any) (string, error) {
		switch v := v.(type) {
		case string:
			return v, nil
		case bool, float64:
			return fmt.Sprint(v), nil
		}
		return "", fmt.Errorf("%s: want a string or a list of strings", b)
	}
	if list, ok := one.([]any); ok {
		for _, v := range list {
			s, err := text(v)
			if err != nil {
				return err
			}
			*l = append(*l, s)
		}
		return nil
	}
	s, err := text(one)
	*l = stringList{s}
	return err
}

// ParsePolicy reads a policy document (IAM's JSON). Elements the evaluator
// does not model (NotAction, NotResource, Principal, …) are an error, so a
// permission set is never read as granting less, or more, than it says.
func ParsePolicy(b []byte) (Policy, error) {
	var raw struct {
		Version   string
		Id        string
		Statement []struct {
			Sid       string
			Effect    string
			Action    stringList
			Resource  stringList
			Condition map[string]map[string]stringList
		}
	}
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&raw); err != nil {
		return Policy{}, fmt.Errorf("awsfake: policy: %w (the evaluator models Version, Statement, Sid, Effect, Action, Resource and Condition)", err)
	}
	p := Policy{Version: raw.Version}
	for i, s := range raw.Statement {
		if s.Effect != "Allow" && s.Effect != "Deny" {
			return Policy{}, fmt.Errorf("awsfake: policy: statement %d (%s): Effect %q, want Allow or Deny", i, s.Sid, s.Effect)
		}
		if len(s.Action) == 0 || len(s.Resource) == 0 {
			return Policy{}, fmt.Errorf("awsfake: policy: statement %d (%s): Action and Resource are required", i, s.Sid)
		}
		st := Statement{Sid: s.Sid, Effect: s.Effect, Action: s.Action, Resource: s.Resource}
		if len(s.Condition) > 0 {
			st.Condition = map[string]map[string][]string{}
			for op, keys := range s.Condition {
				st.Condition[op] = map[string][]string{}
				for k, v := range keys {
					st.Condition[op][k] = v
				}
			}
		}
		p.Statement = append(p.Statement, st)
	}
	return p, nil
}

// ReadPolicy reads a policy document from a file, such as the function's
// role as the infra tests write it (testdata/iam/function-role.json).
func ReadPolicy(path string) (Policy, error) {
	b, err := os.ReadFile(path)
	if err != nil {
		return Policy{}, fmt.Errorf("awsfake: %w", err)
	}
	p, err := ParsePolicy(b)
	if err != nil {
		return Policy{}, fmt.Errorf("%s: %w", path, err)
	}
	return p, nil
}

// Without returns a copy of p without action in any statement (statements
// left with no action are dropped): the permission set with one grant removed.
func (p Policy) Without(action string) Policy {
	out := Policy{Version: p.Version}
	for _, s := range p.Statement {
		s.Action = slicesDelete(s.Action, func(a string) bool { return strings.EqualFold(a, action) })
		if len(s.Action) > 0 {
			out.Statement = append(out.Statement, s)
		}
	}
	return out
}

// InRegion returns a copy of p for a stack deployed in region rather than
// the fake's default Region: every resource ARN that names Region names
// region instead (the golden role is resolved for the default scope).
func (p Policy) InRegion(region string) Policy {
	out := Policy{Version: p.Version}
	for _, s := range p.Statement {
		s.Resource = slices.Clone(s.Resource)
		for i, r := range s.Resource {
			s.Resource[i] = strings.Replace(r, ":"+Region+":", ":"+region+":", 1)
		}
		out.Statement = append(out.Statement, s)
	}
	return out
}

func slicesDelete(in []string, drop func(string) bool) []string {
	var out []string
	for _, s := range in {
		if !drop(s) {
			out = append(out, s)
		}
	}
	return out
}

// request is one authorization IAM makes: an action on a resource (an ARN,
// or * for actions that support no resource-level permissions), with the
// condition keys the request carries.
type request struct {
	action, resource string
	keys             map[string][]string // by canonical key name (canonicalKey)
}

// decision is IAM's answer to a request, and why, for the error message.
type decision struct {
	allowed bool
	reason  string // "because no identity-based policy allows …", or the Deny's Sid
}

// decide evaluates r: an explicit Deny wins, then any Allow, else implicit deny.
func (p *Policy) decide(r request) decision {
	allowed := false
	for _, s := range p.Statement {
		if !s.matches(r) {
			continue
		}
		if s.Effect == "Deny" {
			return decision{reason: fmt.Sprintf("with an explicit deny in an identity-based policy (statement %q)", s.Sid)}
		}
		allowed = true
	}
	if allowed {
		return decision{allowed: true}
	}
	return decision{reason: "because no identity-based policy allows the " + r.action + " action"}
}

// matches: the statement's action and resource cover r and its conditions hold.
// A condition the evaluator cannot read makes an Allow miss and a Deny match.
func (s Statement) matches(r request) bool {
	if !anyGlob(s.Action, r.action, true) || !anyGlob(s.Resource, r.resource, false) {
		return false
	}
	for op, keys := range s.Condition {
		for key, want := range keys {
			ok, known := evalCondition(op, key, want, r.keys)
			if !known {
				return s.Effect == "Deny"
			}
			if !ok {
				return false
			}
		}
	}
	return true
}

func anyGlob(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if fold {
			p, s = strings.ToLower(p), strings.ToLower(s)
		}
		if glob(p, s) {
			return true
		}
	}
	return false
}

// glob matches s against a pattern where * is any run of characters and ? any one.
func glob(pattern, s string) bool {
	px, sx := 0, 0
	star, mark := -1, 0
	for sx < len(s) {
		switch {
		case px < len(pattern) && (pattern[px] == '?' || pattern[px] == s[sx]):
			px++
			sx++
		case px < len(pattern) && pattern[px] == '*':
			star, mark = px, sx
			px++
		case star >= 0:
			px = star + 1
			mark++
			sx = mark
		default:
			return false
		}
	}
	for px < len(pattern) && pattern[px] == '*' {
		px++
	}
	return px == len(pattern)
}

// tagKeyPrefixes are the condition keys that name a tag after their slash.
var tagKeyPrefixes = []string{"aws:resourcetag/", "aws:requesttag/", "ec2:resourcetag/", "autoscaling:resourcetag/"}

// canonicalKey is a condition key as the evaluator stores it: IAM compares key
// names without regard to case, but a tag key after the slash is the tag's own.
// ok is false for a key the evaluator does not model.
func canonicalKey(key string) (string, bool) {
	lower := strings.ToLower(key)
	for _, p := range tagKeyPrefixes {
		if strings.HasPrefix(lower, p) && len(key) > len(p) {
			return p + key[len(p):], true
		}
	}
	switch lower {
	case "aws:tagkeys", "ec2:createaction", "aws:calledvia", "kms:grantisforawsresource":
		return lower, true
	}
	return "", false
}

// evalCondition evaluates one operator on one key; known is false when the
// operator or the key is not one the evaluator models.
func evalCondition(op, key string, want []string, keys map[string][]string) (ok, known bool) {
	k, known := canonicalKey(key)
	if !known {
		return false, false
	}
	base, set := op, ""
	for _, prefix := range []string{"ForAllValues:", "ForAnyValue:"} {
		if rest, found := strings.CutPrefix(op, prefix); found {
			base, set = rest, prefix
		}
	}
	base, ifExists := strings.CutSuffix(base, "IfExists")
	have, present := keys[k]
	present = present && len(have) > 0
	if base == "Null" {
		if set != "" || ifExists || len(want) != 1 {
			return false, false
		}
		return (strings.EqualFold(want[0], "true")) == !present, true
	}
	match, negated, known := operator(base)
	if !known {
		return false, false
	}
	one := func(v string) bool { // the operator on one value of the request
		for _, w := range want {
			if match(w, v) {
				return !negated
			}
		}
		return negated
	}
	switch {
	case !present && set == "ForAllValues:":
		return true, true
	case !present && set == "ForAnyValue:":
		return false, true
	case !present:
		return ifExists || negated, true
	case set == "ForAllValues:":
		for _, v := range have {
			if !one(v) {
				return false, true
			}
		}
		return true, true
	}
	for _, v := range have { // ForAnyValue, or a single-valued key
		if one(v) {
			return true, true
		}
	}
	return false, true
}

// operator returns the comparison of a condition operator (policy value,
// request value) and whether the operator negates it.
func operator(name string) (match func(want, have string) bool, negated, known bool) {
	exact := func(w, h string) bool { return w == h }
	fold := strings.EqualFold
	like := func(w, h string) bool { return glob(w, h) }
	switch name {
	case "StringEquals":
		return exact, false, true
	case "StringNotEquals":
		return exact, true, true
	case "StringEqualsIgnoreCase":
		return fold, false, true
	case "StringNotEqualsIgnoreCase":
		return fold, true, true
	case "StringLike", "ArnEquals", "ArnLike": // ArnEquals and ArnLike behave alike in IAM
		return like, false, true
	case "StringNotLike", "ArnNotEquals", "ArnNotLike":
		return like, true, true
	case "Bool":
		return fold, false, true
	}
	return nil, false, false
}
