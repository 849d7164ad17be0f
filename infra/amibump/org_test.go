package amibump_test

import (
	"archive/zip"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/infra/amibump"
)

// orgSynth is the organisation's stack and its member, synthesized once for
// this file.
type orgSynth struct {
	org    *synthesized // AmibumpOrg
	member *synthesized // the member stack, from its template file
	o      *amibump.Org
	raw    []byte // the member template as written
}

var orgOnce struct {
	done bool
	s    *orgSynth
	err  error
}

const (
	orgOU   = "ou-ab12-cd34ef56"
	orgRoot = "r-ab12"
)

func orgProps(t testing.TB) amibump.OrgProps {
	member := amibump.Defaults()
	member.FunctionSource = functionSource(t)
	member.CIOrgID, member.ReadOnlyTrust = ciOrg, []string{ciOrg}
	member.AlarmEmail, member.LogLevel = "ops@example.com", "WARN"
	return amibump.OrgProps{
		Member: member, OrganizationalUnitIDs: []string{orgOU, orgRoot}, Regions: []string{"eu-west-1", "us-east-1"},
		CallAs: "DELEGATED_ADMIN",
	}
}

func orgStacks(t *testing.T) *orgSynth {
	t.Helper()
	if !orgOnce.done {
		orgOnce.done = true
		orgOnce.s, orgOnce.err = synthOrg(t)
	}
	if orgOnce.err != nil {
		t.Fatal(orgOnce.err)
	}
	return orgOnce.s
}

func synthOrg(t testing.TB) (s *orgSynth, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("synth: %v", r)
		}
	}()
	app, err := testApp()
	if err != nil {
		return nil, err
	}
	stack := awscdk.NewStack(app, jsii.String("AmibumpOrg"), nil)
	props := orgProps(t)
	props.MemberAspects = []awscdk.IAspect{cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)})}
	s = &orgSynth{o: amibump.NewOrg(stack, "Org", &props)}
	s.org = &synthesized{stack: stack, template: assertions.Template_FromStack(stack, nil)}
	if s.raw, err = os.ReadFile(s.o.Member.TemplatePath); err != nil {
		return nil, err
	}
	s.member = &synthesized{stack: s.o.Member.Stack, construct: s.o.Member.Amibump}
	for _, x := range []struct {
		dst *synthesized
		src []byte
	}{{s.member, s.raw}, {s.org, mustJSON(s.org.template.ToJSON())}} {
		if err := json.Unmarshal(x.src, &x.dst.json); err != nil {
			return nil, err
		}
	}
	var parsed map[string]any
	if err := json.Unmarshal(s.raw, &parsed); err != nil {
		return nil, err
	}
	s.member.template = assertions.Template_FromJSON(&parsed, nil)
	return s, nil
}

func mustJSON(v any) []byte {
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	return b
}

// The StackSet: service-managed, deployed automatically to the OUs and
// regions, accounts that leave losing their stack, no failure stopping an
// operation, regions in parallel, the member template by URL.
func TestOrgStackSet(t *testing.T) {
	s := orgStacks(t)
	sets := s.org.resources("AWS::CloudFormation::StackSet")
	if len(sets) != 1 {
		t.Fatalf("%d StackSets, want 1", len(sets))
	}
	for _, set := range sets {
		got := map[string]any{}
		for _, k := range []string{"StackSetName", "PermissionModel", "CallAs", "AutoDeployment", "Capabilities", "OperationPreferences", "StackInstancesGroup", "ManagedExecution"} {
			got[k] = set[k]
		}
		want := normalize(map[string]any{
			"StackSetName": "amibump", "PermissionModel": "SERVICE_MANAGED", "CallAs": "DELEGATED_ADMIN",
			"AutoDeployment":       map[string]any{"Enabled": true, "RetainStacksOnAccountRemoval": false},
			"Capabilities":         []string{"CAPABILITY_IAM", "CAPABILITY_NAMED_IAM"},
			"OperationPreferences": map[string]any{"FailureTolerancePercentage": 100, "MaxConcurrentPercentage": 100, "RegionConcurrencyType": "PARALLEL"},
			"StackInstancesGroup": []any{map[string]any{
				"DeploymentTargets": map[string]any{"OrganizationalUnitIds": []string{orgOU, orgRoot}},
				"Regions":           []string{"eu-west-1", "us-east-1"},
			}},
			"ManagedExecution": map[string]any{"Active": true},
		})
		if diff := cmp.Diff(want, normalize(got)); diff != "" {
			t.Errorf("StackSet (-want +got):\n%s", diff)
		}
		if set["TemplateBody"] != nil || set["TemplateURL"] == nil {
			t.Errorf("the StackSet must name its template by TemplateURL (TemplateBody holds at most 51,200 bytes); got TemplateBody %v, TemplateURL %v",
				set["TemplateBody"] != nil, set["TemplateURL"])
		}
	}
}

// The StackSet sets every parameter of the member template that has no
// default, and no parameter the template does not declare; the values are the
// organisation's settings.
func TestOrgStackSetParameters(t *testing.T) {
	s := orgStacks(t)
	var set map[string]any
	for _, r := range s.org.resources("AWS::CloudFormation::StackSet") {
		set = r
	}
	given := map[string]any{}
	for _, p := range set["Parameters"].([]any) {
		p := p.(map[string]any)
		given[p["ParameterKey"].(string)] = p["ParameterValue"]
	}
	declared := s.member.json["Parameters"].(map[string]any)
	for name, p := range declared {
		if _, hasDefault := p.(map[string]any)["Default"]; !hasDefault && given[name] == nil {
			t.Errorf("member parameter %s has no default and the StackSet does not set it", name)
		}
	}
	for name := range given {
		if declared[name] == nil {
			t.Errorf("the StackSet sets %s, which the member template does not declare", name)
		}
	}
	want := normalize(map[string]any{
		amibump.ParamCodeBucketPrefix:   map[string]any{"Fn::Join": []any{"", []any{"amibump-code-", map[string]any{"Ref": "AWS::AccountId"}}}},
		amibump.ParamCodeKey:            s.o.Member.Code.Key,
		amibump.ParamReadOnlyRoleRegion: "eu-west-1",
		amibump.ParamAlarmEmail:         "ops@example.com",
		amibump.ParamLogLevel:           "WARN",
	})
	if diff := cmp.Diff(want, normalize(given)); diff != "" {
		t.Errorf("StackSet parameters (-want +got):\n%s", diff)
	}
}

// The member template deploys in an account that never ran cdk bootstrap:
// no bootstrap bucket, role, version parameter or rule, and no asset.
func TestOrgMemberNeedsNoBootstrap(t *testing.T) {
	s := orgStacks(t)
	for _, ref := range []string{"cdk-hnb659fds", "BootstrapVersion", "/cdk-bootstrap/"} {
		if strings.Contains(string(s.raw), ref) {
			t.Errorf("the member template refers to %q, a CDK bootstrap resource", ref)
		}
	}
	manifest, err := os.ReadFile(strings.TrimSuffix(s.o.Member.TemplatePath, ".template.json") + ".assets.json")
	if err == nil && strings.Contains(string(manifest), `"files": {`) && !strings.Contains(string(manifest), `"files": {}`) {
		t.Errorf("the member stack has file assets, which need a bootstrap bucket:\n%s", manifest)
	}
	if !strings.Contains(string(mustJSON(s.org.json)), "cdk-hnb659fds") {
		t.Error("the organisation's stack does not publish the member template as an asset; is the test looking at the right stack?")
	}
}

// CloudFormation's limits: TemplateBody holds 51,200 bytes (CreateStackSet,
// hence TemplateURL), a template by URL at most 460,800 bytes (the
// CreateStackSet reference; other pages say 1 MB: the harsher figure).
func TestOrgMemberTemplateSize(t *testing.T) {
	s := orgStacks(t)
	const urlLimit = 460800
	t.Logf("member template: %d bytes (TemplateBody limit 51,200; TemplateURL %d)", len(s.raw), urlLimit)
	if len(s.raw) > urlLimit {
		t.Errorf("the member template is %d bytes, over CloudFormation's %d for a template by URL", len(s.raw), urlLimit)
	}
}

// The member's function reads its zip from <prefix>-<its region>, under the
// key the StackSet gives; the zip holds exactly the bootstrap binary, and its
// key names its SHA-256.
func TestOrgMemberCode(t *testing.T) {
	s := orgStacks(t)
	fn := s.member.resources("AWS::Lambda::Function")[s.member.id(s.member.construct.Function)]
	want := normalize(map[string]any{
		"S3Bucket": map[string]any{"Fn::Join": []any{"-", []any{map[string]any{"Ref": amibump.ParamCodeBucketPrefix}, map[string]any{"Ref": "AWS::Region"}}}},
		"S3Key":    map[string]any{"Ref": amibump.ParamCodeKey},
	})
	if diff := cmp.Diff(want, normalize(fn["Code"])); diff != "" {
		t.Errorf("function code (-want +got):\n%s", diff)
	}
	raw, err := os.ReadFile(s.o.Member.Code.Path)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256(raw)
	if !strings.Contains(s.o.Member.Code.Key, hex.EncodeToString(sum[:])[:16]) || !strings.HasPrefix(s.o.Member.Code.Key, "amibump/function-arm64-") {
		t.Errorf("code key %s does not name the architecture and the zip's hash", s.o.Member.Code.Key)
	}
	zr, err := zip.OpenReader(s.o.Member.Code.Path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = zr.Close() }()
	if len(zr.File) != 1 || zr.File[0].Name != "bootstrap" || zr.File[0].Mode().Perm() != 0o755 {
		t.Errorf("the zip holds %v; want only bootstrap, mode 0755", zr.File)
	}
}

// The per-account settings: the log level and the alarm address from
// parameters, amibump-readonly only in the ReadOnlyRoleRegion (a role name is
// the account's, in every region).
func TestOrgMemberSettingsFromParameters(t *testing.T) {
	s := orgStacks(t)
	m := s.member
	fn := m.resources("AWS::Lambda::Function")[m.id(m.construct.Function)]
	if diff := cmp.Diff(normalize(map[string]any{"Ref": amibump.ParamLogLevel}), normalize(fn["LoggingConfig"].(map[string]any)["ApplicationLogLevel"])); diff != "" {
		t.Errorf("log level (-want +got):\n%s", diff)
	}
	resources := m.json["Resources"].(map[string]any)
	conditions := map[string]string{}
	for id, r := range resources {
		r := r.(map[string]any)
		if c, ok := r["Condition"].(string); ok {
			conditions[r["Type"].(string)+" "+id] = c
		}
	}
	var subs, roles []string
	for k, c := range conditions {
		switch {
		case strings.HasPrefix(k, "AWS::SNS::Subscription ") && c == "HasAlarmEmail":
			subs = append(subs, k)
		case strings.HasPrefix(k, "AWS::IAM::Role ") && c == "IsReadOnlyRoleRegion":
			roles = append(roles, k)
		}
	}
	if len(subs) != 1 || len(roles) != 1 || len(conditions) != 2 {
		t.Errorf("conditional resources %v; want one subscription on HasAlarmEmail and amibump-readonly on IsReadOnlyRoleRegion", conditions)
	}
	if n := len(m.resources("AWS::SNS::Subscription")); n != 1 {
		t.Errorf("%d subscriptions; want only the parameter's", n)
	}
	wantConds := normalize(map[string]any{
		"HasAlarmEmail":        map[string]any{"Fn::Not": []any{map[string]any{"Fn::Equals": []any{map[string]any{"Ref": amibump.ParamAlarmEmail}, ""}}}},
		"IsReadOnlyRoleRegion": map[string]any{"Fn::Equals": []any{map[string]any{"Ref": "AWS::Region"}, map[string]any{"Ref": amibump.ParamReadOnlyRoleRegion}}},
	})
	if diff := cmp.Diff(wantConds, normalize(m.json["Conditions"])); diff != "" {
		t.Errorf("conditions (-want +got):\n%s", diff)
	}
}

func TestOrgNagAwsSolutions(t *testing.T) {
	s := orgStacks(t)
	checkNag(t, s.org)
	checkNag(t, s.member)
}

func TestOrgMemberNoHardCodedPartition(t *testing.T) {
	checkNoHardCodedPartition(t, orgStacks(t).member)
}

// Bad organisation settings: each problem names its key and what it allows.
func TestOrgPropsValidate(t *testing.T) {
	p := orgProps(t)
	p.OrganizationalUnitIDs = []string{"ou-x", "123456789012"}
	p.Regions = []string{"eu-west-1", "Europe", "eu-west-1"}
	p.CallAs = "ADMIN"
	err := p.Validate()
	for _, want := range []string{
		`orgTargets.organizationalUnitIds: "ou-x" is not allowed`, `"123456789012"`, "ou-ab12-cd34ef56",
		`orgTargets.regions: "Europe" is not allowed`, `orgTargets.regions: "eu-west-1" is listed twice`,
		`orgCallAs: "ADMIN" is not allowed; want SELF`,
	} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
	empty := amibump.OrgProps{Member: p.Member, CallAs: "SELF"}
	err = empty.Validate()
	for _, want := range []string{"orgTargets.organizationalUnitIds: empty", "orgTargets.regions: empty"} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("error %v does not say %q", err, want)
		}
	}
}
