// Package amibump is the CDK construct that deploys amibump into one account and
// region: the event bus and its archive, the rules, the function with its
// role, the failure queues, the alarms and the stack outputs.
package amibump

import (
	"errors"
	"fmt"
	"maps"
	"net/mail"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"

	"github.com/amibump/amibump/lambda/event"
)

// Props are the settings of one amibump deployment. Field comments name the
// cdk.json context key each comes from; Validate names those keys too, so an
// operator reading an error knows which -c key=value to fix.
type Props struct {
	BusName              string   // busName: the event bus CI puts deploy-finished events on
	CISource             string   // ciSource: the Source of deploy-finished events
	CIPrincipals         []string // ciPrincipals: account ids or IAM role ARNs allowed to put events; empty = this account only
	ArchiveRetentionDays int      // archiveRetentionDays: days the archive keeps deploy-finished events; 0 = forever
	ReconcileMinutes     int      // reconcileMinutes: minutes between reconcile runs
	Architecture         string   // architecture: arm64 | x86_64; empty = DefaultArchitecture of the deployment's region
	AlarmEmail           string   // alarmEmail: where alarms are mailed; empty = no subscription
	LogRetentionDays     int      // logRetentionDays: a retention CloudWatch Logs allows; 0 = never expire
	LogLevel             string   // logLevel: the function's application log level
	// kmsKeyArns: customer managed KMS keys that encrypt the EBS volumes of the
	// instances amibump images; the role may use them as CreateImage needs.
	// In a DR region also the keys a copy uses: the source region's keys of
	// its AMIs and this region's default KMS key for EBS when that is a
	// customer managed key (keys of any region of the partition).
	// Empty: the role has no KMS permission at all.
	KMSKeyARNs []string
	// ssmParameterPrefix: the SSM parameters amibump may write the current
	// release's AMI id to (launch templates tagged amibump:ssm-parameter):
	// names under this prefix only. Passed to the function as AMIBUMP_SSM_PREFIX.
	SSMParameterPrefix string
	// reservedConcurrency: how many invocations may run at once, reserved
	// out of the account's concurrency; NoReservation (the default, "none" in
	// the context) reserves nothing. EC2 throttles per account and region, so
	// the function's own request budget bounds the account's load only
	// multiplied by the number of invocations running at once.
	ReservedConcurrency int
	// restrictDeployEvents: only the ciPrincipals may put deploy-finished
	// (and rollback-requested) events on the bus, principals of this account included (a Deny on
	// aws:PrincipalArn in the bus's policy); false: any principal of this
	// account with events:PutEvents on the bus may, as well as the ciPrincipals.
	RestrictDeployEvents bool
	// ciOrgId: an AWS Organizations id (o-...) whose principals may put
	// deploy-finished events of the CI source on the bus (aws:PrincipalOrgID);
	// empty = none. With restrictDeployEvents, the ciPrincipals' Deny still
	// applies: a principal of the organisation that is not a ciPrincipal is
	// refused.
	CIOrgID string
	// readOnlyTrust: account ids, or an organisation id (o-...), whose
	// principals may assume the read-only role amibump-readonly (what
	// amibump status reads); empty = no such role.
	ReadOnlyTrust []string
	// resultsBusArn: an event bus (another account's or region's) that this
	// stack forwards its bump-finished events to; empty = none.
	ResultsBusARN string
	// replicaRegions: the disaster-recovery regions, of this stack's
	// partition, whose amibump stacks (same account, same busName) get this
	// stack's promoted results at once, so that their templates tagged
	// amibump:replicate-from=<this region> copy the release without waiting
	// for their reconcile (push); empty = none (the DR regions pull only).
	// Not in aws-cn or aws-us-gov: EventBridge routes no events between
	// their regions (ChinaAndGovCloudPullOnly).
	ReplicaRegions []string
	// copyKmsKeyArn: the customer managed KMS key, of this stack's partition
	// and region, that encrypts the copies this region's function makes of
	// another region's release (templates tagged amibump:replicate-from);
	// empty = none: EC2 picks the copy's key, the region's default KMS key
	// for EBS for an encrypted source or with EBS encryption by default on
	// (list it in KMSKeyARNs when that default is a customer managed key,
	// and the source region's keys too). Passed to the function as
	// AMIBUMP_COPY_KMS_KEY_ARN; the role may use this key as copying needs.
	CopyKmsKeyARN string

	// FunctionSource is the directory of the function's main package, built with
	// `go build` during synth. Relative paths are relative to the working
	// directory (the repository root under `cdk synth`). Ignored when Code is set.
	FunctionSource string
	// Code, when set, is used as the function's code instead of building
	// FunctionSource: for an embedding app that ships its own artifact.
	Code awslambda.Code
}

// Defaults returns the default settings, as cdk.json lists them.
func Defaults() Props {
	return Props{
		BusName:              event.DefaultBusName,
		CISource:             event.DefaultCISource,
		ArchiveRetentionDays: 90,
		ReconcileMinutes:     10,
		Architecture:         "",
		LogRetentionDays:     90,
		LogLevel:             "INFO",
		SSMParameterPrefix:   "/amibump/",
		ReservedConcurrency:  NoReservation,
		FunctionSource:       "./lambda",
	}
}

// NoReservation is the ReservedConcurrency that reserves no concurrency: the
// function runs on the account's unreserved concurrency, as functions do by
// default. It is not Lambda's reserved concurrency of 0, which throttles every
// invocation; the context spells it "none", and a 0 there is refused.
//
// It is the default because Lambda refuses a reservation that leaves the
// account less than its minimum unreserved concurrency (100 in an account at
// the default quota of 1,000), and new accounts start with a lower concurrency
// quota: a reservation by default would fail the first deploy there.
const NoReservation = 0

// Architectures are the allowed values of architecture (empty: the default).
var Architectures = []string{"arm64", "x86_64"}

// DefaultArchitecture is the function's architecture when the architecture
// setting is empty: arm64 (Graviton, cheaper per GB-second), except in the
// aws-cn partition (Beijing cn-north-1, Ningxia cn-northwest-1). Lambda's
// documentation says only that arm64 is offered in "most" Regions and refers
// to the pricing page for which; the China Regions' documentation does not
// confirm it for Beijing or Ningxia, so there the default is x86_64, which
// every Region offers. An unknown region (an environment-agnostic synth
// outside the CDK CLI) gets arm64.
func DefaultArchitecture(region string) string {
	if strings.HasPrefix(region, "cn-") {
		return "x86_64"
	}
	return "arm64"
}

// LogLevels are the allowed values of logLevel (Lambda's application log levels).
var LogLevels = []string{"TRACE", "DEBUG", "INFO", "WARN", "ERROR", "FATAL"}

// LogRetentionDays are the retentions CloudWatch Logs allows, 0 meaning never
// expire: the days of the CDK's retentions (the log groups'), in order.
var LogRetentionDays = slices.Sorted(maps.Keys(retentions))

const (
	maxReconcileMinutes = 1440
	maxArchiveDays      = 36500
	maxConcurrency      = 1000
)

var (
	// Custom event bus names: no "/" (that marks partner buses), at most 256.
	busNamePattern = regexp.MustCompile(`^[A-Za-z0-9._-]{1,256}$`)
	// Event sources are free text for EventBridge; keep them to what a CI system
	// would use, and never in the aws. namespace EventBridge reserves.
	sourcePattern  = regexp.MustCompile(`^[A-Za-z0-9._/-]{1,256}$`)
	accountPattern = regexp.MustCompile(`^[0-9]{12}$`)
	// Role ARNs in any partition (aws, aws-cn, aws-us-gov), paths allowed.
	roleARNPattern = regexp.MustCompile(`^arn:aws(-[a-z]+)*:iam::[0-9]{12}:role/[\w+=,.@/-]{1,512}$`)
	// KMS key ARNs in any partition: single-Region keys (a UUID) and
	// multi-Region keys (mrk- and 32 hex digits).
	// An SSM parameter path: / then segments of SSM's name characters, each
	// ending in /; at most 15 levels and 1011 characters in a full name, so
	// the prefix keeps room for a template name.
	ssmPrefixPattern = regexp.MustCompile(`^/([A-Za-z0-9_.-]+/){1,14}$`)
	// An AWS Organizations id and an event bus ARN in any partition.
	orgIDPattern     = regexp.MustCompile(`^o-[a-z0-9]{10,32}$`)
	busARNPattern    = regexp.MustCompile(`^arn:aws(-[a-z]+)*:events:[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}:[0-9]{12}:event-bus/[A-Za-z0-9._-]{1,256}$`)
	kmsKeyARNPattern = regexp.MustCompile(`^arn:aws(-[a-z]+)*:kms:[a-z]{2,4}(-[a-z]+)+-[0-9]{1,2}:[0-9]{12}:key/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}|mrk-[0-9a-f]{32})$`)
)

// Validate returns every problem with p, joined, each naming the context key
// and what it allows; nil when p can be deployed.
func (p *Props) Validate() error {
	var errs []error
	bad := func(key string, value any, allowed string) {
		errs = append(errs, fmt.Errorf("%s: %v is not allowed; want %s", key, quote(value), allowed))
	}
	if !busNamePattern.MatchString(p.BusName) || p.BusName == "default" {
		bad("busName", p.BusName, `1-256 characters of A-Z a-z 0-9 . _ -, not "default"`)
	}
	if !sourcePattern.MatchString(p.CISource) || strings.HasPrefix(p.CISource, "aws.") {
		bad("ciSource", p.CISource, `1-256 characters of A-Z a-z 0-9 . _ / -, not starting with "aws."`)
	}
	for _, principal := range p.CIPrincipals {
		if !accountPattern.MatchString(principal) && !roleARNPattern.MatchString(principal) {
			bad("ciPrincipals", principal, "a 12-digit account id or an IAM role ARN (arn:<partition>:iam::<account>:role/<name>)")
		}
	}
	if p.RestrictDeployEvents && len(p.CIPrincipals) == 0 {
		errs = append(errs, errors.New("restrictDeployEvents: true needs ciPrincipals: with none, no principal at all could put deploy-finished events; "+
			"list the CI's account ids or role ARNs in ciPrincipals, or leave restrictDeployEvents false"))
	}
	errs = append(errs, p.validateAccounts()...)
	errs = append(errs, p.validateRegions()...)
	if p.ArchiveRetentionDays < 0 || p.ArchiveRetentionDays > maxArchiveDays {
		bad("archiveRetentionDays", p.ArchiveRetentionDays, fmt.Sprintf("a whole number of days from 0 (forever) to %d", maxArchiveDays))
	}
	if p.ReconcileMinutes < 1 || p.ReconcileMinutes > maxReconcileMinutes {
		bad("reconcileMinutes", p.ReconcileMinutes, fmt.Sprintf("a whole number of minutes from 1 to %d", maxReconcileMinutes))
	}
	if p.Architecture != "" && !slices.Contains(Architectures, p.Architecture) {
		bad("architecture", p.Architecture, strings.Join(Architectures, " or ")+", or empty for arm64 (x86_64 in the China Regions)")
	}
	if p.AlarmEmail != "" {
		if addr, err := mail.ParseAddress(p.AlarmEmail); err != nil || addr.Address != p.AlarmEmail {
			bad("alarmEmail", p.AlarmEmail, "an email address such as ops@example.com, or empty for none")
		}
	}
	if !slices.Contains(LogRetentionDays, p.LogRetentionDays) {
		bad("logRetentionDays", p.LogRetentionDays, "one of "+joinInts(LogRetentionDays)+" (0 = never expire)")
	}
	for _, key := range p.KMSKeyARNs {
		if !kmsKeyARNPattern.MatchString(key) {
			bad("kmsKeyArns", key, "KMS key ARNs (arn:<partition>:kms:<region>:<account>:key/<key id>); not alias ARNs or key ids, "+
				"which an IAM policy cannot grant a key's use by")
		}
	}
	if p.ReservedConcurrency < NoReservation || p.ReservedConcurrency > maxConcurrency {
		bad("reservedConcurrency", p.ReservedConcurrency, fmt.Sprintf(`a whole number from 1 to %d, or "none" for no reservation`, maxConcurrency))
	}
	if !validSSMPrefix(p.SSMParameterPrefix) {
		bad("ssmParameterPrefix", p.SSMParameterPrefix, "a parameter path such as /amibump/: starting and ending with /, "+
			"1 to 14 levels of A-Z a-z 0-9 _ . -, at most 500 characters, the first level not starting with aws or ssm (SSM reserves those)")
	}
	if !slices.Contains(LogLevels, p.LogLevel) {
		bad("logLevel", p.LogLevel, strings.Join(LogLevels, ", "))
	}
	if p.Code == nil && p.FunctionSource == "" {
		errs = append(errs, errors.New("functionSource: empty; want the directory of the function's main package, such as ./lambda"))
	}
	return errors.Join(errs...)
}

// validateAccounts checks the settings that reach other accounts: ciOrgId,
// readOnlyTrust, resultsBusArn.
func (p *Props) validateAccounts() []error {
	var errs []error
	bad := func(key string, value any, allowed string) {
		errs = append(errs, fmt.Errorf("%s: %v is not allowed; want %s", key, quote(value), allowed))
	}
	if p.CIOrgID != "" && !orgIDPattern.MatchString(p.CIOrgID) {
		bad("ciOrgId", p.CIOrgID, "an AWS Organizations id such as o-a1b2c3d4e5, or empty for none")
	}
	orgs := 0
	for _, who := range p.ReadOnlyTrust {
		switch {
		case orgIDPattern.MatchString(who):
			if orgs++; orgs == 2 {
				bad("readOnlyTrust", who, "at most one organisation id: an account belongs to one organisation")
			}
		case !accountPattern.MatchString(who):
			bad("readOnlyTrust", who, "12-digit account ids or an AWS Organizations id such as o-a1b2c3d4e5")
		}
	}
	if p.ResultsBusARN != "" && !busARNPattern.MatchString(p.ResultsBusARN) {
		bad("resultsBusArn", p.ResultsBusARN, "an event bus ARN (arn:<partition>:events:<region>:<account>:event-bus/<name>), or empty for none")
	}
	return errs
}

// validSSMPrefix: a path SSM allows parameter names under. "/" alone is not
// one: it would let amibump write every parameter of the account.
func validSSMPrefix(prefix string) bool {
	first := strings.ToLower(strings.SplitN(strings.TrimPrefix(prefix, "/"), "/", 2)[0])
	return ssmPrefixPattern.MatchString(prefix) && len(prefix) <= 500 &&
		!strings.HasPrefix(first, "aws") && !strings.HasPrefix(first, "ssm")
}

func quote(v any) string {
	if s, ok := v.(string); ok {
		return strconv.Quote(s)
	}
	return fmt.Sprint(v)
}

func joinInts(ns []int) string {
	s := make([]string, len(ns))
	for i, n := range ns {
		s[i] = strconv.Itoa(n)
	}
	return strings.Join(s, ", ")
}
