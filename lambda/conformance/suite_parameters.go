package conformance

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// parameter is a name for an SSM parameter of the run, under ParameterPrefix.
func (s *suite) parameter(what string) string { return ParameterPrefix(s.h.Run()) + what }

// putParameter is PutParameter whose parameter, if one is made, the cleaner
// removes when t ends. A new parameter carries the run's tag (SSM takes tags
// only when it creates a parameter, never with Overwrite).
func (s *suite) putParameter(t *testing.T, in *ssm.PutParameterInput) (*ssm.PutParameterOutput, error) {
	t.Helper()
	if !aws.ToBool(in.Overwrite) {
		in.Tags = []ssmtypes.Tag{{Key: aws.String(TagKey), Value: aws.String(s.h.Run())}}
	}
	out, err := s.ssm.PutParameter(t.Context(), in)
	if err == nil {
		s.h.Cleaner().Track(t, Resource{Parameter, aws.ToString(in.Name), s.h.Run()})
	}
	return out, err
}

// parameters: a new parameter needs a Type; an existing one is overwritten
// only with Overwrite (else ParameterAlreadyExists) and keeps its type
// (HierarchyTypeMismatchException); every write, the same value included,
// makes a new version; GetParameter reads name:version (a missing version is
// ParameterVersionNotFound, a missing name ParameterNotFound); GetParameters
// lists the names it did not find in InvalidParameters; names starting with
// aws or ssm are reserved.
func (s *suite) parameters(t *testing.T) {
	name := s.parameter("release")
	put := func(overwrite bool, typ ssmtypes.ParameterType) (*ssm.PutParameterOutput, error) {
		return s.putParameter(t, &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("v1"), Type: typ, Overwrite: aws.Bool(overwrite)})
	}
	_, err := put(false, "")
	wantCode(t, err, "ValidationException")
	if out, err := put(false, ssmtypes.ParameterTypeString); err != nil || out.Version != 1 {
		t.Fatalf("create %s: got %+v (%v), want version 1", name, out, err)
	}
	_, err = put(false, ssmtypes.ParameterTypeString)
	wantCode(t, err, "ParameterAlreadyExists")
	if out, err := put(true, ""); err != nil || out.Version != 2 {
		t.Errorf("overwrite %s with the same value: got %+v (%v), want version 2", name, out, err)
	}
	_, err = put(true, ssmtypes.ParameterTypeStringList)
	wantCode(t, err, "HierarchyTypeMismatchException")

	s.eventually(t, func(ctx context.Context) error {
		out, err := s.ssm.GetParameter(ctx, &ssm.GetParameterInput{Name: aws.String(name + ":1")})
		if err == nil && (aws.ToString(out.Parameter.Value) != "v1" || out.Parameter.Version != 1) {
			err = fmt.Errorf("%s:1: got %+v, want value v1, version 1", name, out.Parameter)
		}
		return err
	})
	_, err = s.ssm.GetParameter(t.Context(), &ssm.GetParameterInput{Name: aws.String(name + ":9")})
	wantCode(t, err, "ParameterVersionNotFound")
	missing := s.parameter("missing")
	_, err = s.ssm.GetParameter(t.Context(), &ssm.GetParameterInput{Name: aws.String(missing)})
	wantCode(t, err, "ParameterNotFound")
	out, err := s.ssm.GetParameters(t.Context(), &ssm.GetParametersInput{Names: []string{name, missing}})
	if err != nil || len(out.Parameters) != 1 || !slices.Equal(out.InvalidParameters, []string{missing}) {
		t.Errorf("GetParameters of %s and %s: got %+v (%v), want the first, and the second in InvalidParameters", name, missing, out, err)
	}
	_, err = s.putParameter(t, &ssm.PutParameterInput{Name: aws.String("/aws/amibump-conformance-" + s.h.Run()), Value: aws.String("v1"),
		Type: ssmtypes.ParameterTypeString})
	wantCode(t, err, "ValidationException", "AccessDeniedException")
}

// imageDataType is the data type of a parameter that holds an AMI id.
const imageDataType = "aws:ec2:image"

// imageParameter: PutParameter of data type aws:ec2:image answers with the
// new version at once, and EC2 validates the value (an available AMI of the
// account) after the call: until then reads return the version before, or
// ParameterNotFound for a new parameter. Then the parameter's references and
// the instance refresh of a group that reads it.
func (s *suite) imageParameter(t *testing.T, ami string) {
	name := s.parameter("image")
	put := func(overwrite bool) int64 {
		t.Helper()
		in := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String(ami), DataType: aws.String(imageDataType), Overwrite: aws.Bool(overwrite)}
		if !overwrite {
			in.Type = ssmtypes.ParameterTypeString
		}
		out, err := s.putParameter(t, in)
		if err != nil {
			t.Fatalf("put %s=%s (data type %s): %v", name, ami, imageDataType, err)
		}
		return out.Version
	}
	if v := put(false); v != 1 {
		t.Errorf("create %s: got version %d, want 1", name, v)
	}
	s.validated(t, name, ami, 0, 1)
	if v := put(true); v != 2 {
		t.Errorf("overwrite %s: got version %d, want 2", name, v)
	}
	s.validated(t, name, ami, 1, 2)
	t.Run("References", func(t *testing.T) { s.parameterReferences(t, ami, name) })
	t.Run("Refresh", func(t *testing.T) { s.parameterRefresh(t, name) })
}

// validated reads the parameter until it shows version want with value, every
// read before that showing version before (0: ParameterNotFound). Where the
// harness holds the clock of EC2's validation, the first read must show
// version before, and Elapse ends the validation; elsewhere reads are polled
// for up to Patience.Validated.
func (s *suite) validated(t *testing.T, name, value string, before, want int64) {
	t.Helper()
	read := func() (int64, error) {
		out, err := s.ssm.GetParameter(t.Context(), &ssm.GetParameterInput{Name: aws.String(name)})
		switch {
		case code(err) == "ParameterNotFound":
			return 0, nil
		case err != nil:
			return 0, err
		case out.Parameter.Version == want && aws.ToString(out.Parameter.Value) != value:
			return 0, fmt.Errorf("%s version %d: got value %q, want %q", name, want, aws.ToString(out.Parameter.Value), value)
		}
		return out.Parameter.Version, nil
	}
	if s.p.Validation > 0 {
		if got, err := read(); err != nil || got != before {
			t.Errorf("%s while EC2 validates version %d: read version %d (%v), want %d (0: ParameterNotFound)", name, want, got, err, before)
		}
		s.h.Elapse(s.p.Validation)
	}
	ctx, cancel := within(t, s.p, s.p.Validated)
	defer cancel()
	delay := s.p.Poll
	for {
		got, err := read()
		switch {
		case err != nil:
			t.Fatal(err)
		case got == want:
			return
		case got != before:
			t.Fatalf("%s while EC2 validates version %d: read version %d, want %d (0: ParameterNotFound)", name, want, got, before)
		}
		select {
		case <-ctx.Done():
			t.Fatalf("%s: version %d not readable within %s of its validation (reads show %d, 0: ParameterNotFound)", name, want, s.p.Validated, got)
		case <-time.After(delay):
		}
		delay = min(2*delay, 10*time.Second)
	}
}

// parameterReferences: DescribeImageReferences with resource type
// ssm:Parameter reports a parameter of data type aws:ec2:image whose value is
// the AMI, by its ARN.
func (s *suite) parameterReferences(t *testing.T, ami, name string) {
	s.eventually(t, func(ctx context.Context) error {
		var refs []ec2types.ImageReference
		p := ec2.NewDescribeImageReferencesPaginator(s.ec2, &ec2.DescribeImageReferencesInput{ImageIds: []string{ami},
			ResourceTypes: []ec2types.ResourceTypeRequest{{ResourceType: ec2types.ImageReferenceResourceTypeSsmParameter}}})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			refs = append(refs, page.ImageReferences...)
		}
		if !slices.ContainsFunc(refs, func(r ec2types.ImageReference) bool {
			return r.ResourceType == ec2types.ImageReferenceResourceTypeSsmParameter && strings.HasSuffix(aws.ToString(r.Arn), ":parameter"+name)
		}) {
			return fmt.Errorf("references of %s of type ssm:Parameter: got %+v, want parameter %s", ami, refs, name)
		}
		return nil
	})
}

// parameterRefresh: StartInstanceRefresh with AutoRollback is refused
// (ValidationError) for a group whose launch template reads an SSM parameter
// (ImageId resolve:ssm:), even with the desired configuration and the numbered
// version a rollback needs; the same request for a group whose template names
// its AMI starts.
func (s *suite) parameterRefresh(t *testing.T, name string) {
	start := func(group, lt string) error {
		_, err := s.asg.StartInstanceRefresh(t.Context(), &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String(group),
			DesiredConfiguration: &astypes.DesiredConfiguration{LaunchTemplate: &astypes.LaunchTemplateSpecification{
				LaunchTemplateId: aws.String(lt), Version: aws.String("1")}},
			Preferences: &astypes.RefreshPreferences{AutoRollback: aws.Bool(true)}})
		return err
	}
	reads := s.h.Template(t, "reads", ec2types.RequestLaunchTemplateData{ImageId: aws.String("resolve:ssm:" + name),
		InstanceType: s.h.LaunchData(t).InstanceType})
	wantCode(t, start(s.h.Group(t, "reads", reads, "1"), reads), "ValidationError")
	names := s.h.Template(t, "names", s.h.LaunchData(t))
	if err := start(s.h.Group(t, "names", names, "1"), names); err != nil {
		t.Errorf("a refresh with AutoRollback of a group whose template names its AMI: %v", err)
	}
}

// parameterTiers: a PutParameter that names no tier gets the account's
// default tier (Standard unless the account set another), on an update too;
// Advanced never goes back to Standard (asked for: ValidationException; by
// default: refused, or kept Advanced where the default is
// Intelligent-Tiering); PutParameter answers the tier, GetParameterHistory
// tells each version's, DescribeParameters the parameter's now. The parameter is Advanced for the few seconds until
// this test ends (Advanced parameters cost US$0.05 a month, prorated hourly).
func (s *suite) parameterTiers(t *testing.T) {
	name := s.parameter("tiers")
	put := func(tier ssmtypes.ParameterTier, overwrite bool) (*ssm.PutParameterOutput, error) {
		in := &ssm.PutParameterInput{Name: aws.String(name), Value: aws.String("v1"), Tier: tier, Overwrite: aws.Bool(overwrite)}
		if !overwrite {
			in.Type = ssmtypes.ParameterTypeString
		}
		return s.putParameter(t, in)
	}
	first, err := put("", false)
	if err != nil {
		t.Fatalf("create %s without a tier: %v", name, err)
	}
	if first.Tier == ssmtypes.ParameterTierAdvanced {
		t.Skip("this account's default parameter tier is Advanced: there is no Standard parameter to keep from")
	}
	if first.Tier != ssmtypes.ParameterTierStandard {
		t.Errorf("create %s without a tier: got tier %q, want Standard (the default, or what Intelligent-Tiering picks for it)", name, first.Tier)
	}
	if out, err := put(ssmtypes.ParameterTierAdvanced, true); err != nil || out.Tier != ssmtypes.ParameterTierAdvanced {
		t.Fatalf("overwrite %s as Advanced: got %+v (%v), want tier Advanced", name, out, err)
	}
	_, err = put(ssmtypes.ParameterTierStandard, true)
	wantCode(t, err, "ValidationException")
	tiers := []ssmtypes.ParameterTier{first.Tier, ssmtypes.ParameterTierAdvanced}
	if out, err := put("", true); err == nil {
		if out.Tier != ssmtypes.ParameterTierAdvanced {
			t.Errorf("overwrite Advanced %s without a tier: got tier %q, want Advanced or ValidationException", name, out.Tier)
		}
		tiers = append(tiers, out.Tier)
	} else {
		wantCode(t, err, "ValidationException")
	}
	s.eventually(t, func(ctx context.Context) error {
		var got []ssmtypes.ParameterTier
		p := ssm.NewGetParameterHistoryPaginator(s.ssm, &ssm.GetParameterHistoryInput{Name: aws.String(name)})
		for p.HasMorePages() {
			page, err := p.NextPage(ctx)
			if err != nil {
				return err
			}
			for _, h := range page.Parameters {
				got = append(got, h.Tier)
			}
		}
		if !slices.Equal(got, tiers) {
			return fmt.Errorf("history of %s: got tiers %v, want %v", name, got, tiers)
		}
		return nil
	})
	s.eventually(t, func(ctx context.Context) error {
		out, err := s.ssm.DescribeParameters(ctx, &ssm.DescribeParametersInput{ParameterFilters: []ssmtypes.ParameterStringFilter{
			{Key: aws.String("Name"), Option: aws.String("Equals"), Values: []string{name}}}})
		if err == nil && (len(out.Parameters) != 1 || out.Parameters[0].Tier != ssmtypes.ParameterTierAdvanced) {
			err = fmt.Errorf("DescribeParameters of %s: got %+v, want it with tier Advanced", name, out.Parameters)
		}
		return err
	})
}
