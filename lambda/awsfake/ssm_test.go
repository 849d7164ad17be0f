package awsfake_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"

	"github.com/amibump/amibump/lambda/awsfake"
)

func putImage(name, value string, overwrite bool) *ssm.PutParameterInput {
	return &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(value), Type: ssmtypes.ParameterTypeString,
		DataType: aws.String("aws:ec2:image"), Overwrite: aws.Bool(overwrite)}
}

func TestPutParameter(t *testing.T) {
	ctx := context.Background()
	c := awsfake.New()
	ami := c.AddImage(awsfake.Image{Name: "base"})
	s := c.SSM()
	out, err := s.PutParameter(ctx, putImage("/amibump/web", ami, false))
	if err != nil || out.Version != 1 {
		t.Fatalf("create: %+v, %v; want version 1", out, err)
	}
	_, err = s.PutParameter(ctx, putImage("/amibump/web", ami, false))
	wantCode(t, err, "ParameterAlreadyExists")
	// The same value again, with Overwrite, is a new version: SSM does not compare values.
	if out, err := s.PutParameter(ctx, putImage("/amibump/web", ami, true)); err != nil || out.Version != 2 {
		t.Fatalf("overwrite: %+v, %v; want version 2", out, err)
	}
	got, err := s.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/amibump/web")})
	if err != nil || aws.ToString(got.Parameter.Value) != ami || got.Parameter.Version != 2 || aws.ToString(got.Parameter.DataType) != "aws:ec2:image" ||
		!strings.HasSuffix(aws.ToString(got.Parameter.ARN), ":parameter/amibump/web") {
		t.Fatalf("get: %+v, %v", got, err)
	}
	v1, err := s.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/amibump/web:1")})
	if err != nil || v1.Parameter.Version != 1 || aws.ToString(v1.Parameter.Selector) != ":1" {
		t.Errorf("get version 1: %+v, %v", v1, err)
	}
	_, err = s.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/amibump/web:9")})
	wantCode(t, err, "ParameterVersionNotFound")
	_, err = s.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/amibump/none")})
	wantCode(t, err, "ParameterNotFound")
}

func TestPutParameterValidation(t *testing.T) {
	ctx := context.Background()
	c := awsfake.New()
	ami := c.AddImage(awsfake.Image{Name: "base"})
	c.AddParameter("/amibump/text", "hello", "text")
	tests := []struct {
		name string
		in   *ssm.PutParameterInput
		code string
	}{
		{"reserved name", putImage("/aws/service/x", ami, false), "ValidationException"},
		{"bad character", putImage("/amibump/a b", ami, false), "ValidationException"},
		{"hierarchy without a leading slash", putImage("amibump/web", ami, false), "ValidationException"},
		{"too deep", putImage(strings.Repeat("/a", 16), ami, false), "HierarchyLevelLimitExceededException"},
		{"no type on create", &ssm.PutParameterInput{Name: aws.String("/amibump/x"), Value: aws.String(ami)}, "ValidationException"},
		{"unknown data type", &ssm.PutParameterInput{Name: aws.String("/amibump/x"), Value: aws.String(ami), Type: ssmtypes.ParameterTypeString, DataType: aws.String("aws:ec2:ami")}, "ValidationException"},
		{"data type changed to aws:ec2:image", putImage("/amibump/text", ami, true), "ValidationException"},
		{"type changed", &ssm.PutParameterInput{Name: aws.String("/amibump/text"), Value: aws.String("x"), Type: ssmtypes.ParameterTypeSecureString, Overwrite: aws.Bool(true)}, "HierarchyTypeMismatchException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := c.SSM().PutParameter(ctx, tt.in)
			wantCode(t, err, tt.code)
		})
	}
}

func TestImageParameterValidatedAsynchronously(t *testing.T) {
	ctx := context.Background()
	clock := awsfake.NewManualClock(t0)
	c := awsfake.New(awsfake.WithClock(clock), awsfake.WithImageDelay(time.Minute))
	inst := c.AddInstance(awsfake.Instance{})
	img, err := c.EC2().CreateImage(ctx, &ec2.CreateImageInput{InstanceId: aws.String(inst), Name: aws.String("web-1")})
	if err != nil {
		t.Fatal(err)
	}
	for _, value := range []string{"ami-0000000000000dead", "not-an-ami", aws.ToString(img.ImageId)} {
		out, err := c.SSM().PutParameter(ctx, putImage("/amibump/web", value, true))
		if err != nil || out.Version != 1 {
			t.Errorf("put %s: %+v, %v; want accepted (validation is asynchronous)", value, out, err)
		}
	}
	if _, ok := c.Parameter("/amibump/web"); ok {
		t.Error("a missing, malformed or pending AMI must not be stored")
	}
	if got := c.ParameterFailures(); len(got) != 3 {
		t.Errorf("failures %q, want 3", got)
	}
	clock.Advance(time.Minute)
	if _, err := c.SSM().PutParameter(ctx, putImage("/amibump/web", aws.ToString(img.ImageId), true)); err != nil {
		t.Fatal(err)
	}
	if p, ok := c.Parameter("/amibump/web"); !ok || aws.ToString(p.Value) != aws.ToString(img.ImageId) {
		t.Errorf("available AMI: %+v, %v; want stored", p, ok)
	}
}

func TestGetParameters(t *testing.T) {
	c := awsfake.New()
	c.AddParameter("/amibump/a", "x", "text")
	out, err := c.SSM().GetParameters(context.Background(), &ssm.GetParametersInput{Names: []string{"/amibump/a", "/amibump/b"}})
	if err != nil || len(out.Parameters) != 1 || len(out.InvalidParameters) != 1 || out.InvalidParameters[0] != "/amibump/b" {
		t.Errorf("got %+v, %v", out, err)
	}
	_, err = c.SSM().GetParameters(context.Background(), &ssm.GetParametersInput{Names: make([]string, 11)})
	wantCode(t, err, "ValidationException")
}

func TestSSMFaults(t *testing.T) {
	c := awsfake.New()
	c.FailNext("GetParameter", awsfake.SSMThrottle())
	_, err := c.SSM().GetParameter(context.Background(), &ssm.GetParameterInput{Name: aws.String("/amibump/a")})
	wantCode(t, err, "ThrottlingException")
	c.Deny("PutParameter")
	_, err = c.SSM().PutParameter(context.Background(), putImage("/amibump/a", "ami-12345678", true))
	wantCode(t, err, "AccessDeniedException")
}

func TestLaunchImageResolvesParameter(t *testing.T) {
	c := awsfake.New()
	ami := c.AddImage(awsfake.Image{Name: "base"})
	c.AddParameter("/amibump/web", ami, "aws:ec2:image")
	lt := c.AddLaunchTemplate("web", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String("resolve:ssm:/amibump/web")})
	if got, err := c.LaunchImage(lt, "$Latest"); err != nil || got != ami {
		t.Errorf("got %s, %v; want %s", got, err, ami)
	}
}

func TestCreateTagsOnLaunchTemplates(t *testing.T) {
	ctx := context.Background()
	c := awsfake.New()
	lt := c.AddLaunchTemplate("web", map[string]string{"a": "1"}, ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-12345678")})
	tag := func(k, v string) []ec2types.Tag { return []ec2types.Tag{{Key: aws.String(k), Value: aws.String(v)}} }
	if _, err := c.EC2().CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{lt}, Tags: tag("a", "2")}); err != nil {
		t.Fatal(err)
	}
	got, _ := c.LaunchTemplate(lt)
	if len(got.Tags) != 1 || aws.ToString(got.Tags[0].Value) != "2" {
		t.Errorf("tags %+v, want a=2", got.Tags)
	}
	_, err := c.EC2().CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{lt, "lt-0123456789abcdef0"}, Tags: tag("b", "1")})
	wantCode(t, err, "InvalidLaunchTemplateId.NotFound")
	if got, _ := c.LaunchTemplate(lt); len(got.Tags) != 1 {
		t.Errorf("tags %+v: a failed call must change nothing", got.Tags)
	}
	_, err = c.EC2().CreateTags(ctx, &ec2.CreateTagsInput{Resources: []string{lt}, Tags: tag("aws:x", "1")})
	wantCode(t, err, "InvalidParameterValue")
}

// TestImageParameterValidationTakesTime: with a validation delay, a write of
// data type aws:ec2:image is not readable until EC2 has validated it (reads
// return the version before, or ParameterNotFound for a new parameter), and a
// second write meanwhile is refused with TooManyUpdates.
func TestImageParameterValidationTakesTime(t *testing.T) {
	ctx := context.Background()
	clock := awsfake.NewManualClock(t0)
	c := awsfake.New(awsfake.WithClock(clock), awsfake.WithParameterValidation(10*time.Second))
	first, second := c.AddImage(awsfake.Image{Name: "web-1"}), c.AddImage(awsfake.Image{Name: "web-2"})
	s := c.SSM()
	get := func() (string, error) {
		out, err := s.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String("/amibump/web")})
		if err != nil {
			return "", err
		}
		return aws.ToString(out.Parameter.Value), nil
	}
	if out, err := s.PutParameter(ctx, putImage("/amibump/web", first, false)); err != nil || out.Version != 1 {
		t.Fatalf("create: %+v, %v; want version 1 accepted", out, err)
	}
	_, err := get()
	wantCode(t, err, "ParameterNotFound")
	_, err = s.PutParameter(ctx, putImage("/amibump/web", second, true))
	wantCode(t, err, "TooManyUpdates")
	if ref, err := launchParameter(c, "/amibump/web"); err == nil {
		t.Errorf("a launch resolves %s before the parameter exists", ref)
	}
	clock.Advance(10 * time.Second)
	if got, err := get(); err != nil || got != first {
		t.Fatalf("after validation: %q, %v; want %s", got, err, first)
	}
	if out, err := s.PutParameter(ctx, putImage("/amibump/web", second, true)); err != nil || out.Version != 2 {
		t.Fatalf("overwrite: %+v, %v; want version 2 accepted", out, err)
	}
	if got, err := get(); err != nil || got != first {
		t.Errorf("during validation: %q, %v; want the version before, %s", got, err, first)
	}
	clock.Advance(10 * time.Second)
	if got, err := get(); err != nil || got != second {
		t.Errorf("after validation: %q, %v; want %s", got, err, second)
	}
}

// launchParameter is what a launch from a template resolving name would run.
func launchParameter(c *awsfake.Cloud, name string) (string, error) {
	lt := c.AddLaunchTemplate("probe-"+strings.ReplaceAll(strings.Trim(name, "/"), "/", "-"), nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String("resolve:ssm:" + name)})
	return c.LaunchImage(lt, "$Latest")
}

// TestParameterTier: a write that names no tier gets the account's default;
// an Advanced parameter never goes back to Standard; GetParameterHistory
// tells the tier of each version.
func TestParameterTier(t *testing.T) {
	ctx := context.Background()
	c := awsfake.New()
	ami := c.AddImage(awsfake.Image{Name: "base"})
	s := c.SSM()
	tierOf := func(name string) ssmtypes.ParameterTier {
		out, err := s.GetParameterHistory(ctx, &ssm.GetParameterHistoryInput{Name: aws.String(name)})
		if err != nil || len(out.Parameters) == 0 {
			t.Fatalf("history of %s: %+v, %v", name, out, err)
		}
		return out.Parameters[len(out.Parameters)-1].Tier
	}
	if out, err := s.PutParameter(ctx, putImage("/amibump/web", ami, false)); err != nil || out.Tier != ssmtypes.ParameterTierStandard {
		t.Fatalf("create: %+v, %v; want Standard, the default", out, err)
	}
	c.SetDefaultParameterTier(ssmtypes.ParameterTierAdvanced)
	if out, err := s.PutParameter(ctx, putImage("/amibump/web", ami, true)); err != nil || out.Tier != ssmtypes.ParameterTierAdvanced || tierOf("/amibump/web") != ssmtypes.ParameterTierAdvanced {
		t.Fatalf("overwrite without a tier under an Advanced default: %+v, %v; want it made Advanced", out, err)
	}
	c.SetDefaultParameterTier(ssmtypes.ParameterTierStandard)
	_, err := s.PutParameter(ctx, putImage("/amibump/web", ami, true))
	wantCode(t, err, "ValidationException")
	in := putImage("/amibump/web", ami, true)
	in.Tier = ssmtypes.ParameterTierAdvanced
	if _, err := s.PutParameter(ctx, in); err != nil || tierOf("/amibump/web") != ssmtypes.ParameterTierAdvanced {
		t.Errorf("overwrite naming Advanced: %v; want accepted, still Advanced", err)
	}
	c.SetStandardParameterQuotaReached(true)
	_, err = s.PutParameter(ctx, putImage("/amibump/api", ami, false))
	wantCode(t, err, "ParameterLimitExceeded")
	in = putImage("/amibump/api", ami, false)
	in.Tier = ssmtypes.ParameterTierIntelligentTiering
	if out, err := s.PutParameter(ctx, in); err != nil || out.Tier != ssmtypes.ParameterTierAdvanced {
		t.Errorf("new, Intelligent-Tiering, at the standard quota: %+v, %v; want Advanced", out, err)
	}
}

// DeleteTags removes a tag given with a value only when the value matches,
// one given without a value whatever it is, and, with no tags, every tag but
// aws: ones; a resource that does not exist fails the whole call.
func TestDeleteTagsOnLaunchTemplates(t *testing.T) {
	ctx := context.Background()
	c := awsfake.New()
	lt := c.AddLaunchTemplate("web", map[string]string{"a": "1", "b": "2", "c": "3"}, ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-12345678")})
	del := func(resources []string, tags ...ec2types.Tag) error {
		_, err := c.EC2().DeleteTags(ctx, &ec2.DeleteTagsInput{Resources: resources, Tags: tags})
		return err
	}
	keys := func() map[string]string {
		got, _ := c.LaunchTemplate(lt)
		m := map[string]string{}
		for _, tg := range got.Tags {
			m[aws.ToString(tg.Key)] = aws.ToString(tg.Value)
		}
		return m
	}
	if err := del([]string{lt}, ec2types.Tag{Key: aws.String("a"), Value: aws.String("other")}); err != nil {
		t.Fatal(err)
	}
	if _, ok := keys()["a"]; !ok {
		t.Errorf("tags %v: a=1 removed by a request naming a=other", keys())
	}
	wantCode(t, del([]string{lt, "lt-0123456789abcdef0"}, ec2types.Tag{Key: aws.String("a")}), "InvalidLaunchTemplateId.NotFound")
	if _, ok := keys()["a"]; !ok {
		t.Errorf("tags %v: a failed call must change nothing", keys())
	}
	if err := del([]string{lt}, ec2types.Tag{Key: aws.String("a"), Value: aws.String("1")}, ec2types.Tag{Key: aws.String("b")}); err != nil {
		t.Fatal(err)
	}
	if got := keys(); len(got) != 1 || got["c"] != "3" {
		t.Errorf("tags %v, want only c=3", got)
	}
	if err := del([]string{lt}); err != nil {
		t.Fatal(err)
	}
	if got := keys(); len(got) != 0 {
		t.Errorf("tags %v, want none after a request naming no tags", got)
	}
}
