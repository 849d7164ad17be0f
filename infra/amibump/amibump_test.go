package amibump_test

import (
	"encoding/json"
	"reflect"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/amibump/amibump/infra/amibump"
	"github.com/amibump/amibump/lambda/bump"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/jsii-runtime-go"
	"github.com/google/go-cmp/cmp"
)

// The stack with every default setting: this file's one synth.
var defaults once

func defaultStack(t *testing.T) *synthesized {
	return defaults.get(t, func(t testing.TB) amibump.Props {
		p := amibump.Defaults()
		p.FunctionSource = functionSource(t)
		return p
	}, nil)
}

func TestDefaultResourceCounts(t *testing.T) {
	s := defaultStack(t)
	tests := []struct {
		typ  string
		want int
	}{
		{"AWS::Events::EventBus", 1},
		{"AWS::Events::EventBusPolicy", 0}, // no CI principals: this account only
		{"AWS::Events::Archive", 1},
		{"AWS::Events::Rule", 5},
		{"AWS::Lambda::Function", 1}, // no CDK helper functions (log retention)
		{"AWS::Lambda::EventInvokeConfig", 1},
		{"AWS::Lambda::Permission", 5},
		{"AWS::Logs::LogGroup", 1},
		{"AWS::IAM::Role", 1},
		{"AWS::SQS::Queue", 2},
		{"AWS::SQS::QueuePolicy", 2},
		{"AWS::SNS::Topic", 1},
		{"AWS::SNS::Subscription", 0}, // no alarmEmail
		{"AWS::KMS::Key", 1},
		{"AWS::CloudWatch::Alarm", 4},
		{"AWS::CloudWatch::Dashboard", 1},
		{"AWS::EventSchemas::Registry", 1},
		{"AWS::EventSchemas::Schema", 2},
	}
	for _, tt := range tests {
		t.Run(tt.typ, func(t *testing.T) {
			check(t, func() {
				s.template.ResourceCountIs(jsii.String(tt.typ), jsii.Number(float64(tt.want)))
			})
		})
	}
}

func TestEventPatterns(t *testing.T) {
	s := defaultStack(t)
	bus := s.id(s.construct.Bus)
	tests := []struct {
		name  string
		props map[string]any
	}{
		{"deploy-finished from CI on the amibump bus", map[string]any{
			"EventBusName": map[string]any{"Ref": bus},
			"EventPattern": assertions.Match_ObjectEquals(&map[string]any{
				"source": []string{"ci.jenkins"}, "detail-type": []string{"deploy-finished"},
			}),
		}},
		{"AMI state change on the default bus", map[string]any{
			"EventBusName": assertions.Match_Absent(),
			"EventPattern": assertions.Match_ObjectEquals(&map[string]any{
				"source": []string{"aws.ec2"}, "detail-type": []string{"EC2 AMI State Change"},
				"detail": map[string]any{"State": []string{"available", "failed"}},
			}),
		}},
		{"promotions forwarded from other regions on the amibump bus", map[string]any{
			"EventBusName": map[string]any{"Ref": bus},
			"EventPattern": assertions.Match_ObjectEquals(&map[string]any{
				"source": []string{"amibump"}, "detail-type": []string{"bump-finished"},
				"detail": map[string]any{"status": []string{"promoted"}, "region": []any{map[string]any{"anything-but": map[string]any{"Ref": "AWS::Region"}}}},
			}),
		}},
		{"reconcile schedule", map[string]any{
			"ScheduleExpression": "rate(10 minutes)",
			"EventPattern":       assertions.Match_Absent(),
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, func() {
				s.template.HasResourceProperties(jsii.String("AWS::Events::Rule"), tt.props)
			})
		})
	}
}

func TestEveryRuleTargetsTheFunctionWithRetriesAndDeadLetterQueue(t *testing.T) {
	s := defaultStack(t)
	fn, dlq := s.id(s.construct.Function), s.id(s.construct.DeadLetterQueue)
	for id, rule := range s.resources("AWS::Events::Rule") {
		t.Run(id, func(t *testing.T) {
			targets := rule["Targets"].([]any)
			if len(targets) != 1 {
				t.Fatalf("got %d targets, want 1", len(targets))
			}
			target := targets[0].(map[string]any)
			want := map[string]any{"Fn::GetAtt": []any{fn, "Arn"}}
			if diff := cmp.Diff(want, target["Arn"]); diff != "" {
				t.Errorf("target (-want +got):\n%s", diff)
			}
			want = map[string]any{"Arn": map[string]any{"Fn::GetAtt": []any{dlq, "Arn"}}}
			if diff := cmp.Diff(want, target["DeadLetterConfig"]); diff != "" {
				t.Errorf("dead-letter config (-want +got):\n%s", diff)
			}
			retry, _ := target["RetryPolicy"].(map[string]any)
			if retry["MaximumRetryAttempts"] == nil || retry["MaximumEventAgeInSeconds"] == nil {
				t.Errorf("retry policy %v, want attempts and event age", retry)
			}
		})
	}
}

func TestFunction(t *testing.T) {
	s := defaultStack(t)
	check(t, func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::Function"), map[string]any{
			"Runtime":       "provided.al2023",
			"Handler":       "bootstrap",
			"Architectures": []string{"arm64"},
			"Timeout":       900,
			"MemorySize":    256,
			"Role":          map[string]any{"Fn::GetAtt": []any{s.id(s.construct.Role), "Arn"}},
			"LoggingConfig": map[string]any{
				"LogFormat":           "JSON",
				"ApplicationLogLevel": "INFO",
				"LogGroup":            map[string]any{"Ref": s.id(s.construct.LogGroup)},
			},
			"Environment": map[string]any{"Variables": assertions.Match_ObjectEquals(&map[string]any{
				"AMIBUMP_EVENT_BUS":        map[string]any{"Ref": s.id(s.construct.Bus)},
				"AMIBUMP_SSM_PREFIX":       "/amibump/",
				"AMIBUMP_RECONCILE_PERIOD": "10m",
			})},
			// No reservation by default: a new account's concurrency quota
			// leaves no room for one, and the first deploy would fail.
			"ReservedConcurrentExecutions": assertions.Match_Absent(),
		})
	})
	check(t, func() {
		s.template.HasResourceProperties(jsii.String("AWS::Lambda::EventInvokeConfig"), map[string]any{
			"FunctionName":             map[string]any{"Ref": s.id(s.construct.Function)},
			"MaximumRetryAttempts":     2,
			"MaximumEventAgeInSeconds": 21600,
			"DestinationConfig": map[string]any{"OnFailure": map[string]any{
				"Destination": map[string]any{"Fn::GetAtt": []any{s.id(s.construct.Queue), "Arn"}},
			}},
		})
	})
	check(t, func() {
		s.template.HasResourceProperties(jsii.String("AWS::Logs::LogGroup"), map[string]any{"RetentionInDays": 90})
	})
}

func TestQueuesAreEncryptedAndTLSOnly(t *testing.T) {
	s := defaultStack(t)
	for _, q := range []string{s.id(s.construct.Queue), s.id(s.construct.DeadLetterQueue)} {
		t.Run(q, func(t *testing.T) {
			if got := s.resources("AWS::SQS::Queue")[q]["SqsManagedSseEnabled"]; got != true {
				t.Errorf("SqsManagedSseEnabled = %v, want true", got)
			}
			check(t, func() {
				s.template.HasResourceProperties(jsii.String("AWS::SQS::QueuePolicy"), map[string]any{
					"Queues": []any{map[string]any{"Ref": q}},
					"PolicyDocument": map[string]any{"Statement": assertions.Match_ArrayWith(&[]any{assertions.Match_ObjectLike(&map[string]any{
						"Effect":    "Deny",
						"Condition": map[string]any{"Bool": map[string]any{"aws:SecureTransport": "false"}},
					})})},
				})
			})
		})
	}
}

func TestArchive(t *testing.T) {
	s := defaultStack(t)
	check(t, func() {
		s.template.HasResourceProperties(jsii.String("AWS::Events::Archive"), map[string]any{
			"SourceArn":        map[string]any{"Fn::GetAtt": []any{s.id(s.construct.Bus), "Arn"}},
			"RetentionDays":    90,
			"KmsKeyIdentifier": assertions.Match_Absent(),
			"EventPattern": assertions.Match_ObjectEquals(&map[string]any{
				"source": []string{"ci.jenkins"}, "detail-type": []string{"deploy-finished"},
			}),
		})
	})
}

func TestAlarms(t *testing.T) {
	s := defaultStack(t)
	topic := map[string]any{"Ref": s.id(s.construct.Topic)}
	tests := []struct {
		name, metric string
		dimension    map[string]any
	}{
		{"function errors", "Errors", map[string]any{"Name": "FunctionName", "Value": map[string]any{"Ref": s.id(s.construct.Function)}}},
		{"failure queue", "ApproximateNumberOfMessagesVisible", map[string]any{"Name": "QueueName", "Value": map[string]any{"Fn::GetAtt": []any{s.id(s.construct.Queue), "QueueName"}}}},
		{"dead-letter queue", "ApproximateNumberOfMessagesVisible", map[string]any{"Name": "QueueName", "Value": map[string]any{"Fn::GetAtt": []any{s.id(s.construct.DeadLetterQueue), "QueueName"}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, func() {
				s.template.HasResourceProperties(jsii.String("AWS::CloudWatch::Alarm"), map[string]any{
					"MetricName":         tt.metric,
					"Dimensions":         []any{tt.dimension},
					"Threshold":          1,
					"ComparisonOperator": "GreaterThanOrEqualToThreshold",
					"EvaluationPeriods":  1,
					"Period":             300,
					"AlarmActions":       []any{topic},
				})
			})
		})
	}
	check(t, func() {
		s.template.HasResourceProperties(jsii.String("AWS::SNS::Topic"), map[string]any{
			"KmsMasterKeyId": map[string]any{"Fn::GetAtt": []any{assertions.Match_AnyValue(), "Arn"}},
		})
	})
}

func TestOutputs(t *testing.T) {
	s := defaultStack(t)
	tests := []struct {
		name  string
		value any
	}{
		{"BusName", map[string]any{"Ref": s.id(s.construct.Bus)}},
		{"BusArn", map[string]any{"Fn::GetAtt": []any{s.id(s.construct.Bus), "Arn"}}},
		{"FunctionName", map[string]any{"Ref": s.id(s.construct.Function)}},
		{"FailureQueueUrl", map[string]any{"Ref": s.id(s.construct.Queue)}},
		{"DeadLetterQueueUrl", map[string]any{"Ref": s.id(s.construct.DeadLetterQueue)}},
		{"AlarmTopicArn", map[string]any{"Ref": s.id(s.construct.Topic)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			check(t, func() {
				s.template.HasOutput(jsii.String(tt.name), map[string]any{"Value": tt.value})
			})
		})
	}
}

// partitioned is how a synthesized ARN starts: from the partition pseudo parameter.
func arn(rest ...any) map[string]any {
	return map[string]any{"Fn::Join": []any{"", append([]any{"arn:", map[string]any{"Ref": "AWS::Partition"}}, rest...)}}
}

func TestRoleStatements(t *testing.T) {
	s := defaultStack(t)
	region, account := map[string]any{"Ref": "AWS::Region"}, map[string]any{"Ref": "AWS::AccountId"}
	var (
		instances       = arn(":ec2:", region, ":", account, ":instance/*")
		images          = arn(":ec2:", region, "::image/*")
		snapshots       = arn(":ec2:", region, "::snapshot/*")
		launchTemplates = arn(":ec2:", region, ":", account, ":launch-template/*")
		groups          = arn(":autoscaling:", region, ":", account, ":autoScalingGroup:*:autoScalingGroupName/*")
	)
	tests := []struct {
		name      string
		actions   []string
		resources any
		condition any
	}{
		{"describe calls on any resource",
			[]string{"autoscaling:DescribeAutoScalingGroups", "autoscaling:DescribeInstanceRefreshes", "ec2:DescribeImageReferences", "ec2:DescribeImages", "ec2:DescribeInstances", "ec2:DescribeLaunchTemplateVersions", "ec2:DescribeLaunchTemplates"},
			"*", nil},
		{"create image of an instance tagged amibump:source-for",
			[]string{"ec2:CreateImage"}, instances,
			map[string]any{"Null": map[string]any{"aws:ResourceTag/amibump:source-for": "false"}}},
		{"create image of a member of an Auto Scaling group",
			[]string{"ec2:CreateImage"}, instances,
			map[string]any{"Null": map[string]any{"aws:ResourceTag/aws:autoscaling:groupName": "false"}}},
		{"create image and snapshots only tagged amibump:launch-template in the request",
			[]string{"ec2:CreateImage"}, []any{images, snapshots},
			map[string]any{"Null": map[string]any{"aws:RequestTag/amibump:launch-template": "false"}}},
		{"tags only while creating an image",
			[]string{"ec2:CreateTags"}, []any{images, snapshots},
			map[string]any{"StringEquals": map[string]any{"ec2:CreateAction": "CreateImage"}}},
		{"launch template changes only on templates tagged amibump:app",
			[]string{"ec2:CreateLaunchTemplateVersion", "ec2:DeleteLaunchTemplateVersions", "ec2:ModifyLaunchTemplate"}, launchTemplates,
			map[string]any{"Null": map[string]any{"aws:ResourceTag/amibump:app": "false"}}},
		{"the drift-reported tag only, on managed templates only",
			[]string{"ec2:CreateTags"}, launchTemplates,
			map[string]any{
				"Null":                      map[string]any{"aws:ResourceTag/amibump:app": "false"},
				"ForAllValues:StringEquals": map[string]any{"aws:TagKeys": []any{"amibump:drift-reported"}},
			}},
		{"deregister only images amibump made",
			[]string{"ec2:DeregisterImage"}, images,
			map[string]any{"Null": map[string]any{"aws:ResourceTag/amibump:launch-template": "false"}}},
		{"deprecate, disable, protect and unprotect only images amibump made",
			[]string{"ec2:DisableImage", "ec2:DisableImageDeregistrationProtection", "ec2:EnableImageDeprecation", "ec2:EnableImageDeregistrationProtection"}, images,
			map[string]any{"Null": map[string]any{"aws:ResourceTag/amibump:launch-template": "false"}}},
		{"delete only snapshots amibump made",
			[]string{"ec2:DeleteSnapshot"}, snapshots,
			map[string]any{"Null": map[string]any{"aws:ResourceTag/amibump:launch-template": "false"}}},
		{"instance refresh (started, or cancelled by a rollback) only of Auto Scaling groups tagged amibump:instance-refresh=true",
			[]string{"autoscaling:CancelInstanceRefresh", "autoscaling:StartInstanceRefresh"}, groups,
			map[string]any{"StringEquals": map[string]any{"autoscaling:ResourceTag/amibump:instance-refresh": "true"}}},
		{"read, write and resolve (EC2 on the function's behalf) SSM parameters under /amibump/ only",
			[]string{"ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters", "ssm:PutParameter"}, arn(":ssm:", region, ":", account, ":parameter/amibump/*"), nil},
		{"put events on the amibump bus only",
			[]string{"events:PutEvents"}, map[string]any{"Fn::GetAtt": []any{s.id(s.construct.Bus), "Arn"}}, nil},
	}
	statements := s.roleStatements(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantStatement(t, statements, tt.actions, tt.resources, tt.condition)
		})
	}
	for _, st := range statements {
		if slices.ContainsFunc(actions(st), func(a string) bool { return strings.HasPrefix(a, "kms:") }) {
			t.Errorf("no kmsKeyArns, yet the role may use KMS: %v", st)
		}
	}
}

// wantStatement fails unless one statement allows exactly actions on
// resources under condition.
func wantStatement(t *testing.T, statements []map[string]any, actionList []string, resources, condition any) {
	t.Helper()
	var candidates []string
	for _, st := range statements {
		if !slices.Equal(actions(st), actionList) {
			continue
		}
		got := map[string]any{"Resource": st["Resource"], "Condition": st["Condition"], "Effect": st["Effect"]}
		want := map[string]any{"Resource": normalize(resources), "Condition": normalize(condition), "Effect": "Allow"}
		diff := cmp.Diff(want, got)
		if diff == "" {
			return
		}
		candidates = append(candidates, diff)
	}
	t.Errorf("no statement allows exactly %v as wanted; statements with those actions (-want +got):\n%s",
		actionList, strings.Join(candidates, "\n"))
}

// Every AWS call the function's code declares is allowed, and nothing else.
// The calls are read from the interfaces in lambda/bump at test time, so a call
// added there without a grant fails here.
func TestRoleAllowsExactlyTheFunctionsCalls(t *testing.T) {
	s := defaultStack(t)
	want := map[string]bool{}
	for prefix, iface := range map[string]reflect.Type{
		"ec2":         reflect.TypeFor[bump.EC2](),
		"autoscaling": reflect.TypeFor[bump.AutoScaling](),
		"events":      reflect.TypeFor[bump.Events](),
		"ssm":         reflect.TypeFor[bump.SSM](),
	} {
		for i := range iface.NumMethod() {
			action := prefix + ":" + iface.Method(i).Name
			want[action] = true
			for _, extra := range alsoAuthorizes[action] {
				want[extra] = true
			}
		}
	}
	got := map[string]bool{}
	for _, st := range s.roleStatements(t) {
		for _, a := range actions(st) {
			if !plumbing[a] {
				got[a] = true
			}
		}
	}
	if diff := cmp.Diff(sortedKeys(want), sortedKeys(got)); diff != "" {
		t.Errorf("role actions (-calls the function makes +actions the role allows):\n%s", diff)
	}
}

// alsoAuthorizes lists, per SDK operation, the further IAM actions AWS checks
// when the function makes that call the way it does.
var alsoAuthorizes = map[string][]string{
	// CreateImage with TagSpecifications: tagging on create is authorized as
	// ec2:CreateTags (with ec2:CreateAction = CreateImage).
	"ec2:CreateImage": {"ec2:CreateTags"},
	// DeregisterImage with DeleteAssociatedSnapshots: each snapshot deletion is
	// authorized as ec2:DeleteSnapshot (without it the result reports
	// missing-permissions and the snapshot stays).
	"ec2:DeregisterImage": {"ec2:DeleteSnapshot"},
	// CreateLaunchTemplateVersion with an ImageId resolve:ssm:<parameter>: EC2
	// resolves the parameter with the caller's ssm:GetParameters.
	"ec2:CreateLaunchTemplateVersion": {"ssm:GetParameters"},
	// PutParameter of data type aws:ec2:image: Systems Manager checks the
	// caller's ec2:DescribeImages.
	"ssm:PutParameter": {"ec2:DescribeImages"},
	// DescribeImageReferences of instances, launch templates and SSM
	// parameters: EC2 scans them with the caller's permissions.
	"ec2:DescribeImageReferences": {"ec2:DescribeInstances", "ec2:DescribeLaunchTemplates", "ec2:DescribeLaunchTemplateVersions",
		"ssm:DescribeParameters", "ssm:GetParameters"},
}

// plumbing are the actions the role holds for Lambda itself, not for the
// function's code: writing its log group, sending to its on-failure queue.
var plumbing = map[string]bool{
	"logs:CreateLogStream":   true,
	"logs:PutLogEvents":      true,
	"sqs:SendMessage":        true,
	"sqs:GetQueueAttributes": true,
	"sqs:GetQueueUrl":        true,
}

func TestNoHardCodedPartition(t *testing.T) {
	checkNoHardCodedPartition(t, defaultStack(t))
}

func TestNagAwsSolutions(t *testing.T) {
	checkNag(t, defaultStack(t))
}

func sortedKeys(m map[string]bool) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// normalize turns a Go value into what encoding/json makes of it, for cmp.
func normalize(v any) any {
	if v == nil {
		return nil
	}
	b, err := json.Marshal(v)
	if err != nil {
		panic(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		panic(err)
	}
	return out
}

func TestSchemaRegistry(t *testing.T) {
	s := defaultStack(t)
	check(t, func() {
		s.template.HasResourceProperties(jsii.String("AWS::EventSchemas::Registry"), map[string]any{"RegistryName": "amibump"})
		s.template.HasResourceProperties(jsii.String("AWS::EventSchemas::Schema"), map[string]any{
			"SchemaName": "deploy-finished",
			"Type":       "JSONSchemaDraft4",
			"Content":    assertions.Match_StringLikeRegexp(jsii.String(`"x-amazon-events-source":"ci.jenkins"`)),
		})
	})
	content := *s.construct.Schema.Content()
	var doc map[string]any
	if err := json.Unmarshal([]byte(content), &doc); err != nil {
		t.Fatalf("registered schema is not JSON: %v", err)
	}
	if _, ok := doc["definitions"].(map[string]any)["DeployFinished"]; !ok {
		t.Error("registered schema lacks definitions/DeployFinished")
	}
}

// The topic's policy replaces SNS's default one, so without an Allow for
// CloudWatch no alarm would ever be delivered; that Allow, and the key's, hold
// only for this account and these alarms.
func TestAlarmsMayPublishToTheTopic(t *testing.T) {
	s := defaultStack(t)
	var alarmARNs []any
	for _, alarm := range s.construct.Alarms {
		name := s.resources("AWS::CloudWatch::Alarm")[s.id(alarm)]["AlarmName"]
		if name == nil {
			t.Fatalf("alarm %s has no fixed name; the policies cannot name it", s.id(alarm))
		}
		alarmARNs = append(alarmARNs, arn(":cloudwatch:", map[string]any{"Ref": "AWS::Region"}, ":",
			map[string]any{"Ref": "AWS::AccountId"}, ":alarm:", name))
	}
	condition := map[string]any{
		"StringEquals": map[string]any{"aws:SourceAccount": map[string]any{"Ref": "AWS::AccountId"}},
		"ArnEquals":    map[string]any{"aws:SourceArn": alarmARNs},
	}
	cloudWatch := map[string]any{"Service": "cloudwatch.amazonaws.com"}
	topic := s.id(s.construct.Topic)
	tests := []struct {
		name, typ, policy string
		statement         map[string]any
	}{
		{"topic policy", "AWS::SNS::TopicPolicy", "PolicyDocument", map[string]any{
			"Sid": "AlarmsPublish", "Effect": "Allow", "Principal": cloudWatch, "Action": "sns:Publish",
			"Resource": map[string]any{"Ref": topic}, "Condition": condition,
		}},
		{"key policy", "AWS::KMS::Key", "KeyPolicy", map[string]any{
			"Sid": "AlarmsUseTheKey", "Effect": "Allow", "Principal": cloudWatch,
			"Action": []any{"kms:Decrypt", "kms:GenerateDataKey*"}, "Resource": "*", "Condition": condition,
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var found []string
			for _, r := range s.resources(tt.typ) {
				for _, st := range r[tt.policy].(map[string]any)["Statement"].([]any) {
					st := st.(map[string]any)
					if st["Sid"] != tt.statement["Sid"] {
						continue
					}
					if diff := cmp.Diff(normalize(tt.statement), st); diff != "" {
						t.Errorf("statement (-want +got):\n%s", diff)
					}
					found = append(found, st["Sid"].(string))
				}
			}
			if len(found) != 1 {
				t.Errorf("found %d statements %s, want 1", len(found), tt.statement["Sid"])
			}
		})
	}
	// No other statement lets CloudWatch (or anyone) use the key or topic unconditioned.
	for _, r := range s.resources("AWS::KMS::Key") {
		for _, st := range r["KeyPolicy"].(map[string]any)["Statement"].([]any) {
			st := st.(map[string]any)
			if p, _ := st["Principal"].(map[string]any); p["Service"] != nil && st["Condition"] == nil {
				t.Errorf("key policy lets service %v use the key unconditioned: %v", p["Service"], st)
			}
		}
	}
}

// The role may touch SSM only to read and write parameters under the prefix,
// and let EC2 resolve them (ssm:GetParameters) into new template versions;
// beyond the prefix, only EC2 may list and read parameters for the function,
// for DescribeImageReferences (aws:CalledVia).
func TestSSMWritesOnlyUnderThePrefix(t *testing.T) {
	for _, tt := range []struct {
		name, prefix string
		stack        func(*testing.T) *synthesized
	}{
		{"default prefix", "amibump/", defaultStack},
		{"custom prefix", "releases/shop/", customStack},
	} {
		t.Run(tt.name, func(t *testing.T) {
			var ssm []map[string]any
			for _, st := range tt.stack(t).roleStatements(t) {
				if slices.ContainsFunc(actions(st), func(a string) bool { return strings.HasPrefix(strings.ToLower(a), "ssm:") }) {
					ssm = append(ssm, map[string]any{"Action": actions(st), "Resource": st["Resource"], "Condition": st["Condition"]})
				}
			}
			viaEC2 := map[string]any{"ForAnyValue:StringEquals": map[string]any{"aws:CalledVia": []string{"ec2-images.amazonaws.com"}}}
			want := normalize([]map[string]any{{
				"Action":    []string{"ssm:GetParameter", "ssm:GetParameterHistory", "ssm:GetParameters", "ssm:PutParameter"},
				"Resource":  arn(":ssm:", map[string]any{"Ref": "AWS::Region"}, ":", map[string]any{"Ref": "AWS::AccountId"}, ":parameter/"+tt.prefix+"*"),
				"Condition": nil,
			}, {
				"Action": []string{"ssm:DescribeParameters"}, "Resource": "*", "Condition": viaEC2,
			}, {
				"Action":    []string{"ssm:GetParameters"},
				"Resource":  arn(":ssm:", map[string]any{"Ref": "AWS::Region"}, ":", map[string]any{"Ref": "AWS::AccountId"}, ":parameter/*"),
				"Condition": viaEC2,
			}})
			if diff := cmp.Diff(want, normalize(ssm)); diff != "" {
				t.Errorf("SSM statements of the role (-want +got):\n%s", diff)
			}
		})
	}
}
