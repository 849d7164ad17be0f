package conformance

import (
	"context"
	"fmt"
	"slices"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
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
