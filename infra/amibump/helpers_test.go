package amibump_test

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/amibump/amibump/infra/amibump"
	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// outdir holds the cloud assemblies of this package's synths.
var outdir string

func TestMain(m *testing.M) {
	// The CDK CLI's region decides the default architecture of an
	// environment-agnostic stack; the tests set their stacks' regions themselves.
	_ = os.Unsetenv("CDK_DEFAULT_REGION")
	useSupportedNode()
	var err error
	if outdir, err = os.MkdirTemp("", "amibump-cdk-test-"); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	code := m.Run()
	jsii.Close()
	_ = os.RemoveAll(outdir)
	os.Exit(code)
}

// useSupportedNode points jsii at the Node.js that make node installed into
// .cache/node (22, an LTS line the CDK supports) when there is one, so that
// go test ./infra/... runs on it even where the machine's node is older. An
// explicit JSII_NODE wins.
func useSupportedNode() {
	if os.Getenv("JSII_NODE") != "" {
		return
	}
	if node, err := filepath.Abs("../../.cache/node/node_modules/.bin/node"); err == nil {
		if _, err := os.Stat(node); err == nil {
			_ = os.Setenv("JSII_NODE", node)
		}
	}
}

// synthesized is one stack, synthesized once per test file (synth spawns Node
// and takes seconds) and shared by that file's tests.
type synthesized struct {
	stack     awscdk.Stack
	construct *amibump.Amibump
	template  assertions.Template
	json      map[string]any // the template as parsed JSON
}

// functionSource is the function built into the stack under test: the real
// one, so these tests also prove that ./lambda builds for Lambda.
func functionSource(testing.TB) string { return "../../lambda" }

// synth builds a stack as the app does, with cdk.json's feature flags, with
// cdk-nag's AwsSolutions checks applied.
func synth(t testing.TB, props amibump.Props, env *awscdk.Environment) (*synthesized, error) {
	app, err := testApp()
	if err != nil {
		return nil, err
	}
	stack := awscdk.NewStack(app, jsii.String("Amibump"), &awscdk.StackProps{Env: env})
	var s synthesized
	err = func() (err error) {
		defer func() {
			if r := recover(); r != nil {
				err = fmt.Errorf("synth: %v", r)
			}
		}()
		s.construct = amibump.New(stack, "Amibump", &props)
		s.template = assertions.Template_FromStack(stack, nil)
		return nil
	}()
	if err != nil {
		return nil, err
	}
	s.stack = stack
	b, err := json.Marshal(s.template.ToJSON())
	if err != nil {
		return nil, err
	}
	if err := json.Unmarshal(b, &s.json); err != nil {
		return nil, err
	}
	return &s, nil
}

// testApp is an app as the CDK CLI runs it, with cdk.json's feature flags,
// cdk-nag's AwsSolutions checks applied, writing into a directory of its own.
func testApp() (awscdk.App, error) {
	raw, err := os.ReadFile("../../cdk.json")
	if err != nil {
		return nil, err
	}
	var cdkJSON struct{ Context map[string]any }
	if err := json.Unmarshal(raw, &cdkJSON); err != nil {
		return nil, fmt.Errorf("cdk.json: %w", err)
	}
	dir, err := os.MkdirTemp(outdir, "cdk.out-")
	if err != nil {
		return nil, err
	}
	flags := map[string]any{}
	for k, v := range cdkJSON.Context {
		if strings.HasPrefix(k, "@") { // feature flags; settings come from props
			flags[k] = v
		}
	}
	app := awscdk.NewApp(&awscdk.AppProps{Context: &flags, Outdir: jsii.String(dir)})
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
	return app, nil
}

// once synthesizes on first use and fails every test that needs it if synth failed.
type once struct {
	done bool
	s    *synthesized
	err  error
}

func (o *once) get(t *testing.T, props func(testing.TB) amibump.Props, env *awscdk.Environment) *synthesized {
	t.Helper()
	if !o.done {
		o.done = true
		o.s, o.err = synth(t, props(t), env)
	}
	if o.err != nil {
		t.Fatal(o.err)
	}
	return o.s
}

// resources returns the template's resources of one type, by logical id.
func (s *synthesized) resources(typ string) map[string]map[string]any {
	out := map[string]map[string]any{}
	for id, r := range s.json["Resources"].(map[string]any) {
		r := r.(map[string]any)
		if r["Type"] == typ {
			props, _ := r["Properties"].(map[string]any)
			out[id] = props
		}
	}
	return out
}

// checkNag fails for every AwsSolutions finding that is not suppressed.
func checkNag(t *testing.T, s *synthesized) {
	t.Helper()
	for _, kind := range []string{"error", "warning"} {
		var msgs []string
		annotations := assertions.Annotations_FromStack(s.stack)
		match := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
		found := annotations.FindError(jsii.String("*"), match)
		if kind == "warning" {
			found = annotations.FindWarning(jsii.String("*"), match)
		}
		for _, m := range *found {
			path := *m.Id //nolint:staticcheck // the only place the finding's construct path is given
			msgs = append(msgs, fmt.Sprintf("%s: %v", path, m.Entry.Data))
		}
		if len(msgs) > 0 {
			t.Errorf("cdk-nag AwsSolutions %ss, unsuppressed:\n%s", kind, strings.Join(msgs, "\n"))
		}
	}
}

// id is the logical id of a construct's CloudFormation resource.
func (s *synthesized) id(c constructs.IConstruct) string {
	return *s.stack.GetLogicalId(c.Node().DefaultChild().(awscdk.CfnElement))
}

// roleStatements are the statements of every policy attached to the function's role.
func (s *synthesized) roleStatements(t *testing.T) []map[string]any {
	t.Helper()
	role := map[string]any{"Ref": s.id(s.construct.Role)}
	var out []map[string]any
	for _, p := range s.resources("AWS::IAM::Policy") {
		if !slices.ContainsFunc(p["Roles"].([]any), func(r any) bool { return reflect.DeepEqual(r, role) }) {
			continue
		}
		for _, st := range p["PolicyDocument"].(map[string]any)["Statement"].([]any) {
			out = append(out, st.(map[string]any))
		}
	}
	if len(out) == 0 {
		t.Fatal("no policy statements attached to the function's role")
	}
	return out
}

// actions of a statement, sorted.
func actions(st map[string]any) []string {
	var out []string
	switch a := st["Action"].(type) {
	case string:
		out = []string{a}
	case []any:
		for _, x := range a {
			out = append(out, x.(string))
		}
	}
	slices.Sort(out)
	return out
}

var literalPartition = regexp.MustCompile(`arn:aws[a-z-]*:`)

// checkNoHardCodedPartition: every ARN is built from the AWS::Partition pseudo
// parameter, so the template deploys in aws-cn as it does in aws.
func checkNoHardCodedPartition(t *testing.T, s *synthesized) {
	t.Helper()
	b, err := json.Marshal(s.json)
	if err != nil {
		t.Fatal(err)
	}
	if found := literalPartition.FindAllString(string(b), -1); len(found) > 0 {
		t.Errorf("template has ARNs with a literal partition: %v", found)
	}
	if !strings.Contains(string(b), `{"Ref":"AWS::Partition"}`) {
		t.Error("template never refers to AWS::Partition; are the ARNs built from it?")
	}
}

// check runs a CDK assertion, which panics on failure, as a test error, so one
// failed assertion does not end the whole run.
func check(t *testing.T, assertion func()) {
	t.Helper()
	defer func() {
		if r := recover(); r != nil {
			t.Errorf("%v", r)
		}
	}()
	assertion()
}
