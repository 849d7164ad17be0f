package amibump

import (
	"archive/zip"
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/awslambda"
	"github.com/aws/aws-cdk-go/awscdk/v2/awss3"
	"github.com/aws/aws-cdk-go/awscdk/v2/awssns"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
)

// The member template's parameters: the StackSet sets each for every
// account; update-stack-instances --parameter-overrides changes them for
// some (update-stack-instances --parameter-overrides).
const (
	// ParamCodeBucketPrefix: the code buckets' name without the region; the
	// member reads its code from <prefix>-<its region>.
	ParamCodeBucketPrefix = "CodeBucketPrefix"
	// ParamCodeKey: the function's zip in that bucket.
	ParamCodeKey = "CodeKey"
	// ParamReadOnlyRoleRegion: the region whose stack creates the account's
	// amibump-readonly (a role name is the account's, in every region).
	ParamReadOnlyRoleRegion = "ReadOnlyRoleRegion"
	// ParamAlarmEmail: where this account's alarms are mailed; empty = none.
	ParamAlarmEmail = "AlarmEmail"
	// ParamLogLevel: the function's application log level.
	ParamLogLevel = "LogLevel"
)

// CodeBucketPrefix starts the name of every code bucket:
// amibump-code-<management account>-<region>.
const CodeBucketPrefix = "amibump-code"

// MemberStackID names the member stack in its cloud assembly.
const MemberStackID = "AmibumpMember"

// Member is the stack the StackSet deploys in each account and region: the
// amibump construct, with no CDK bootstrap resource (no asset: its code comes
// from the region's code bucket), and a few settings as parameters.
type Member struct {
	Stack        awscdk.Stack
	Amibump      *Amibump
	TemplatePath string
	Code         CodeZip
}

// CodeZip is the function's zip, written into the cloud assembly for
// `make publish-code`, and the key it is published under.
type CodeZip struct{ Path, Key string }

// newMember synthesizes the member stack into an assembly of its own, beside
// scope's, with scope's context (the feature flags).
func newMember(scope constructs.Construct, props *OrgProps) *Member {
	outdir := filepath.Join(outdirOf(scope), "member-"+strings.ReplaceAll(*scope.Node().Path(), "/", "-"))
	app := awscdk.NewApp(&awscdk.AppProps{Outdir: jsii.String(outdir), Context: contextOf(scope)})
	stack := awscdk.NewStack(app, jsii.String(MemberStackID), &awscdk.StackProps{
		Description: jsii.String("amibump (organisation member): keeps Auto Scaling groups launching the release in production"),
		Synthesizer: awscdk.NewBootstraplessSynthesizer(&awscdk.BootstraplessSynthesizerProps{}),
	})
	for _, aspect := range props.MemberAspects {
		awscdk.Aspects_Of(stack).Add(aspect, nil)
	}
	m := &Member{Stack: stack}
	mp := props.Member
	mp.Architecture = architectureOf(scope, &props.Member)
	zip, err := functionZip(&mp, mp.Architecture, outdir)
	if err != nil {
		panic(err.Error())
	}
	m.Code = zip
	params := memberParameters(stack, &props.Member)
	bucket := awss3.Bucket_FromBucketName(stack, jsii.String("CodeBucket"),
		awscdk.Fn_Join(jsii.String("-"), &[]*string{params[ParamCodeBucketPrefix].ValueAsString(), awscdk.Aws_REGION()}))
	mp.Code = awslambda.Code_FromBucket(bucket, params[ParamCodeKey].ValueAsString(), nil)
	// The key names the zip's hash: new code is a new key, so no object
	// version is needed for the function to be updated.
	awscdk.Annotations_Of(bucket).AcknowledgeWarning(jsii.String("@aws-cdk/aws-lambda:codeFromBucketObjectVersionNotSpecified"),
		jsii.String("the code key names the zip's SHA-256: new code is a new key"))
	mp.AlarmEmail = "" // a parameter instead
	m.Amibump = New(stack, "Amibump", &mp)
	memberSettings(stack, m.Amibump, params)
	app.Synth(nil)
	m.TemplatePath = filepath.Join(outdir, MemberStackID+".template.json")
	return m
}

// contextOf is scope's context as a map, for another app: jsii hands it over
// as a map or a pointer to one.
func contextOf(scope constructs.Construct) *map[string]any {
	switch c := scope.Node().GetAllContext(nil).(type) {
	case *map[string]any:
		return c
	case map[string]any:
		return &c
	}
	return nil
}

// memberParameters declares the member template's parameters.
func memberParameters(stack awscdk.Stack, props *Props) map[string]awscdk.CfnParameter {
	param := func(id, description string, p *awscdk.CfnParameterProps) awscdk.CfnParameter {
		p.Type, p.Description = jsii.String("String"), jsii.String(description)
		return awscdk.NewCfnParameter(stack, jsii.String(id), p)
	}
	return map[string]awscdk.CfnParameter{
		ParamCodeBucketPrefix: param(ParamCodeBucketPrefix, "code buckets' name without the region: the function's code is in <prefix>-<region>",
			&awscdk.CfnParameterProps{AllowedPattern: jsii.String(`^[a-z0-9][a-z0-9.-]{1,40}$`)}),
		ParamCodeKey: param(ParamCodeKey, "the function's zip in the code bucket", &awscdk.CfnParameterProps{MinLength: jsii.Number(1)}),
		ParamAlarmEmail: param(ParamAlarmEmail, "where this account's alarms are mailed; empty for none",
			&awscdk.CfnParameterProps{Default: jsii.String(""), AllowedPattern: jsii.String(`^([^@\s]+@[^@\s]+)?$`)}),
		ParamLogLevel: param(ParamLogLevel, "the function's application log level",
			&awscdk.CfnParameterProps{Default: jsii.String(props.LogLevel), AllowedValues: jsii.Strings(LogLevels...)}),
	}
}

// memberSettings applies the parameters the construct cannot take as
// tokens: the log level, the alarm subscription, the read-only role's region.
func memberSettings(stack awscdk.Stack, a *Amibump, params map[string]awscdk.CfnParameter) {
	fn := a.Function.Node().DefaultChild().(awslambda.CfnFunction)
	fn.AddPropertyOverride(jsii.String("LoggingConfig.ApplicationLogLevel"), params[ParamLogLevel].ValueAsString())
	hasEmail := awscdk.NewCfnCondition(stack, jsii.String("HasAlarmEmail"), &awscdk.CfnConditionProps{
		Expression: awscdk.Fn_ConditionNot(awscdk.Fn_ConditionEquals(params[ParamAlarmEmail].ValueAsString(), jsii.String(""))),
	})
	sub := awssns.NewCfnSubscription(stack, jsii.String("AlarmEmailSubscription"), &awssns.CfnSubscriptionProps{
		TopicArn: a.Topic.TopicArn(), Protocol: jsii.String("email"), Endpoint: params[ParamAlarmEmail].ValueAsString(),
	})
	sub.CfnOptions().SetCondition(hasEmail)
	if a.ReadOnlyRole != nil { // the parameter only where there is a role: cfn-lint refuses an unused one
		region := awscdk.NewCfnParameter(stack, jsii.String(ParamReadOnlyRoleRegion), &awscdk.CfnParameterProps{
			Type: jsii.String("String"), Description: jsii.String("the region whose stack creates amibump-readonly (IAM is global)"),
			AllowedPattern: jsii.String(`^[a-z]{2}(-[a-z]+)+-[0-9]$`),
		})
		here := awscdk.NewCfnCondition(stack, jsii.String("IsReadOnlyRoleRegion"), &awscdk.CfnConditionProps{
			Expression: awscdk.Fn_ConditionEquals(awscdk.Aws_REGION(), region.ValueAsString()),
		})
		a.ReadOnlyRole.Node().DefaultChild().(awscdk.CfnResource).CfnOptions().SetCondition(here)
	}
}

// zipTime is every zip entry's time: a fixed one, so that the same binary
// gives the same zip and the same key.
var zipTime = time.Date(2000, 1, 1, 0, 0, 0, 0, time.UTC)

// functionZip builds the function for arch and zips it as bootstrap into
// outdir/code; its key names the architecture and the zip's SHA-256, so a
// new build is a new key, and a change of the member stacks.
func functionZip(props *Props, arch, outdir string) (CodeZip, error) {
	dir := filepath.Join(outdir, "build-"+arch)
	if err := BuildFunction(props.FunctionSource, arch, dir); err != nil {
		return CodeZip{}, err
	}
	binary, err := os.ReadFile(filepath.Join(dir, "bootstrap"))
	if err != nil {
		return CodeZip{}, err
	}
	var buf bytes.Buffer
	zw := zip.NewWriter(&buf)
	h := &zip.FileHeader{Name: "bootstrap", Method: zip.Deflate, Modified: zipTime}
	h.SetMode(0o755)
	w, err := zw.CreateHeader(h)
	if err == nil {
		_, err = w.Write(binary)
	}
	if err == nil {
		err = zw.Close()
	}
	if err != nil {
		return CodeZip{}, fmt.Errorf("zip the function: %w", err)
	}
	sum := sha256.Sum256(buf.Bytes())
	name := fmt.Sprintf("function-%s-%s.zip", arch, hex.EncodeToString(sum[:])[:16])
	path := filepath.Join(outdir, "code", name)
	if err := os.RemoveAll(filepath.Dir(path)); err != nil { // only this build's zip, for make publish-code
		return CodeZip{}, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return CodeZip{}, err
	}
	return CodeZip{Path: path, Key: "amibump/" + name}, os.WriteFile(path, buf.Bytes(), 0o644)
}
