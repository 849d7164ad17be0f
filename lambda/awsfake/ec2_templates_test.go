package awsfake_test

import (
	"context"
	"strings"
	"testing"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/google/go-cmp/cmp"
)

var baseData = ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000000000000aaa"),
	InstanceType: ec2types.InstanceTypeT3Micro, KeyName: aws.String("ops")}

func TestCreateLaunchTemplateVersion(t *testing.T) {
	tests := []struct {
		name     string
		in       func(lt string) *ec2.CreateLaunchTemplateVersionInput
		want     *ec2types.ResponseLaunchTemplateData
		wantCode string
	}{
		{"from $Latest inherits and overrides the image", func(lt string) *ec2.CreateLaunchTemplateVersionInput {
			return &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt), SourceVersion: aws.String("$Latest"),
				LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000000000000bbb")}}
		}, &ec2types.ResponseLaunchTemplateData{ImageId: aws.String("ami-00000000000000bbb"), InstanceType: ec2types.InstanceTypeT3Micro, KeyName: aws.String("ops")}, ""},
		{"by name from a number", func(string) *ec2.CreateLaunchTemplateVersionInput {
			return &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateName: aws.String("web"), SourceVersion: aws.String("1"),
				LaunchTemplateData: &ec2types.RequestLaunchTemplateData{UserData: aws.String("IyE=")}}
		}, &ec2types.ResponseLaunchTemplateData{ImageId: aws.String("ami-00000000000000aaa"), InstanceType: ec2types.InstanceTypeT3Micro, KeyName: aws.String("ops"), UserData: aws.String("IyE=")}, ""},
		{"without a source inherits nothing", func(lt string) *ec2.CreateLaunchTemplateVersionInput {
			return &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt),
				LaunchTemplateData: &ec2types.RequestLaunchTemplateData{ImageId: aws.String("ami-00000000000000bbb")}}
		}, &ec2types.ResponseLaunchTemplateData{ImageId: aws.String("ami-00000000000000bbb")}, ""},
		{"missing source version", func(lt string) *ec2.CreateLaunchTemplateVersionInput {
			return &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt), SourceVersion: aws.String("7"),
				LaunchTemplateData: &ec2types.RequestLaunchTemplateData{}}
		}, nil, "InvalidLaunchTemplateId.VersionNotFound"},
		{"unknown template id", func(string) *ec2.CreateLaunchTemplateVersionInput {
			return &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String("lt-0123456789abcdef0"), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{}}
		}, nil, "InvalidLaunchTemplateId.NotFound"},
		{"malformed template id", func(string) *ec2.CreateLaunchTemplateVersionInput {
			return &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String("web"), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{}}
		}, nil, "InvalidLaunchTemplateId.Malformed"},
		{"unknown template name", func(string) *ec2.CreateLaunchTemplateVersionInput {
			return &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateName: aws.String("api"), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{}}
		}, nil, "InvalidLaunchTemplateName.NotFoundException"},
		{"unsupported field is refused", func(lt string) *ec2.CreateLaunchTemplateVersionInput {
			return &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt),
				LaunchTemplateData: &ec2types.RequestLaunchTemplateData{RamDiskId: aws.String("ari-1")}}
		}, nil, "InvalidParameterValue"},
		{"client token too long", func(lt string) *ec2.CreateLaunchTemplateVersionInput {
			return &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt), ClientToken: aws.String(strings.Repeat("t", 129)),
				LaunchTemplateData: &ec2types.RequestLaunchTemplateData{}}
		}, nil, "InvalidParameterValue"},
		{"no data", func(lt string) *ec2.CreateLaunchTemplateVersionInput {
			return &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt)}
		}, nil, "MissingParameter"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := awsfake.New()
			lt := cloud.AddLaunchTemplate("web", map[string]string{"amibump:app": "shop"}, baseData)
			out, err := cloud.EC2().CreateLaunchTemplateVersion(context.Background(), tt.in(lt))
			wantCode(t, err, tt.wantCode)
			if err != nil {
				if got := len(cloud.Versions(lt)); got != 1 {
					t.Errorf("versions after a failed call: got %d, want 1", got)
				}
				return
			}
			if got := aws.ToInt64(out.LaunchTemplateVersion.VersionNumber); got != 2 {
				t.Errorf("version number: got %d, want 2", got)
			}
			vs := cloud.Versions(lt)
			if diff := cmp.Diff(tt.want, vs[len(vs)-1].LaunchTemplateData, sdk); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
			got, _ := cloud.LaunchTemplate(lt)
			if aws.ToInt64(got.LatestVersionNumber) != 2 || aws.ToInt64(got.DefaultVersionNumber) != 1 {
				t.Errorf("latest/default: got %d/%d, want 2/1", aws.ToInt64(got.LatestVersionNumber), aws.ToInt64(got.DefaultVersionNumber))
			}
		})
	}
}

func TestModifyLaunchTemplate(t *testing.T) {
	tests := []struct {
		name        string
		version     string
		wantDefault int64
		wantCode    string
	}{
		{"moves the default", "2", 2, ""},
		{"unknown version", "9", 1, "InvalidLaunchTemplateId.VersionNotFound"},
		{"not a number", "$Latest", 1, "InvalidParameterValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cloud := awsfake.New()
			lt := cloud.AddLaunchTemplate("web", nil, baseData)
			ec := cloud.EC2()
			ctx := context.Background()
			if _, err := ec.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{}}); err != nil {
				t.Fatal(err)
			}
			_, err := ec.ModifyLaunchTemplate(ctx, &ec2.ModifyLaunchTemplateInput{LaunchTemplateId: aws.String(lt), DefaultVersion: aws.String(tt.version)})
			wantCode(t, err, tt.wantCode)
			got, _ := cloud.LaunchTemplate(lt)
			if aws.ToInt64(got.DefaultVersionNumber) != tt.wantDefault {
				t.Errorf("default: got %d, want %d", aws.ToInt64(got.DefaultVersionNumber), tt.wantDefault)
			}
			vs := cloud.Versions(lt)
			for _, v := range vs {
				if aws.ToBool(v.DefaultVersion) != (aws.ToInt64(v.VersionNumber) == tt.wantDefault) {
					t.Errorf("version %d DefaultVersion: got %v", aws.ToInt64(v.VersionNumber), aws.ToBool(v.DefaultVersion))
				}
			}
		})
	}
}

func TestDeleteLaunchTemplateVersions(t *testing.T) {
	cloud := awsfake.New()
	lt := cloud.AddLaunchTemplate("web", nil, baseData)
	ec := cloud.EC2()
	ctx := context.Background()
	for range 4 { // versions 2..5
		if _, err := ec.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(lt), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{}}); err != nil {
			t.Fatal(err)
		}
	}
	cloud.FailVersionDeletion(lt, 3)
	out, err := ec.DeleteLaunchTemplateVersions(ctx, &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt),
		Versions: []string{"1", "2", "3", "5", "9"}})
	if err != nil {
		t.Fatalf("partial failure: got error %v, want it reported in the output", err)
	}
	var deleted []int64
	for _, s := range out.SuccessfullyDeletedLaunchTemplateVersions {
		deleted = append(deleted, aws.ToInt64(s.VersionNumber))
	}
	failed := map[int64]ec2types.LaunchTemplateErrorCode{}
	for _, u := range out.UnsuccessfullyDeletedLaunchTemplateVersions {
		failed[aws.ToInt64(u.VersionNumber)] = u.ResponseError.Code
	}
	if diff := cmp.Diff([]int64{2, 5}, deleted); diff != "" {
		t.Errorf("deleted (-want +got):\n%s", diff)
	}
	wantFailed := map[int64]ec2types.LaunchTemplateErrorCode{
		1: ec2types.LaunchTemplateErrorCodeUnexpectedError, // the default
		3: ec2types.LaunchTemplateErrorCodeUnexpectedError, // FailVersionDeletion
		9: ec2types.LaunchTemplateErrorCodeLaunchTemplateVersionDoesNotExist,
	}
	if diff := cmp.Diff(wantFailed, failed); diff != "" {
		t.Errorf("failed (-want +got):\n%s", diff)
	}
	got, _ := cloud.LaunchTemplate(lt)
	if aws.ToInt64(got.LatestVersionNumber) != 4 {
		t.Errorf("latest after deleting 5: got %d, want 4", aws.ToInt64(got.LatestVersionNumber))
	}
	d, _ := ec.DescribeLaunchTemplateVersions(ctx, &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt), Versions: []string{"$Latest"}})
	if len(d.LaunchTemplateVersions) != 1 || aws.ToInt64(d.LaunchTemplateVersions[0].VersionNumber) != 4 {
		t.Errorf("$Latest: got %+v, want version 4", d.LaunchTemplateVersions)
	}
	many := make([]string, 201)
	for i := range many {
		many[i] = itoa(i + 1)
	}
	_, err = ec.DeleteLaunchTemplateVersions(ctx, &ec2.DeleteLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(lt), Versions: many})
	wantCode(t, err, "InvalidParameterValue")
}

func TestDescribeLaunchTemplateVersions(t *testing.T) {
	cloud := awsfake.New()
	ec := cloud.EC2()
	ctx := context.Background()
	web := cloud.AddLaunchTemplate("web", nil, baseData)
	api := cloud.AddLaunchTemplate("api", nil, baseData)
	for range 3 { // web: 1..4, default 1
		if _, err := ec.CreateLaunchTemplateVersion(ctx, &ec2.CreateLaunchTemplateVersionInput{LaunchTemplateId: aws.String(web), LaunchTemplateData: &ec2types.RequestLaunchTemplateData{}}); err != nil {
			t.Fatal(err)
		}
	}
	type ref struct {
		ID string
		V  int64
	}
	tests := []struct {
		name     string
		in       *ec2.DescribeLaunchTemplateVersionsInput
		want     []ref
		wantCode string
	}{
		{"all versions newest first", &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(web)},
			[]ref{{web, 4}, {web, 3}, {web, 2}, {web, 1}}, ""},
		{"latest and default by name", &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateName: aws.String("web"), Versions: []string{"$Latest", "$Default"}},
			[]ref{{web, 4}, {web, 1}}, ""},
		{"min and max", &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(web), MinVersion: aws.String("2"), MaxVersion: aws.String("3")},
			[]ref{{web, 3}, {web, 2}}, ""},
		{"account wide latest", &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Latest"}},
			[]ref{{web, 4}, {api, 1}}, ""},
		{"account wide latest and default", &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Latest", "$Default"}},
			[]ref{{web, 4}, {web, 1}, {api, 1}}, ""},
		{"filter is-default-version", &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(web), Filters: filters("is-default-version", "true")},
			[]ref{{web, 1}}, ""},
		{"account wide needs $Latest or $Default", &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"2"}}, nil, "InvalidParameterValue"},
		{"account wide needs versions", &ec2.DescribeLaunchTemplateVersionsInput{}, nil, "MissingParameter"},
		{"missing version", &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(web), Versions: []string{"8"}}, nil, "InvalidLaunchTemplateId.VersionNotFound"},
		{"id and name", &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(web), LaunchTemplateName: aws.String("web")}, nil, "InvalidParameterCombination"},
		{"MaxResults too big", &ec2.DescribeLaunchTemplateVersionsInput{LaunchTemplateId: aws.String(web), MaxResults: aws.Int32(201)}, nil, "InvalidParameterValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := ec.DescribeLaunchTemplateVersions(ctx, tt.in)
			wantCode(t, err, tt.wantCode)
			if err != nil {
				return
			}
			var got []ref
			for _, v := range out.LaunchTemplateVersions {
				got = append(got, ref{aws.ToString(v.LaunchTemplateId), aws.ToInt64(v.VersionNumber)})
				if v.LaunchTemplateName == nil || v.CreateTime == nil || v.DefaultVersion == nil || v.LaunchTemplateData == nil {
					t.Errorf("version %v lacks name, create time, default flag or data", got[len(got)-1])
				}
			}
			sortRefs := cmp.Transformer("", func(r []ref) map[ref]bool {
				m := map[ref]bool{}
				for _, x := range r {
					m[x] = true
				}
				return m
			})
			opt := cmp.Options{}
			if tt.in.LaunchTemplateId == nil && tt.in.LaunchTemplateName == nil {
				opt = cmp.Options{sortRefs} // order across templates is unspecified
			}
			if diff := cmp.Diff(tt.want, got, opt); diff != "" {
				t.Errorf("versions (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDescribeLaunchTemplateVersionsPaginator(t *testing.T) {
	cloud := awsfake.New(awsfake.WithPageSize(3))
	for i := range 10 {
		cloud.AddLaunchTemplate("lt-"+itoa(i), nil, baseData)
	}
	p := ec2.NewDescribeLaunchTemplateVersionsPaginator(cloud.EC2(), &ec2.DescribeLaunchTemplateVersionsInput{Versions: []string{"$Latest"}})
	n, pages := 0, 0
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		n += len(out.LaunchTemplateVersions)
	}
	if n != 10 || pages != 4 {
		t.Errorf("versions/pages: got %d/%d, want 10/4", n, pages)
	}
}

func TestDescribeLaunchTemplates(t *testing.T) {
	cloud := awsfake.New()
	web := cloud.AddLaunchTemplate("shop-web", map[string]string{"amibump:app": "shop", "amibump:env": "prod"}, baseData)
	api := cloud.AddLaunchTemplate("shop-api", map[string]string{"amibump:app": "shop", "amibump:env": "test"}, baseData)
	blog := cloud.AddLaunchTemplate("blog", nil, baseData)
	tests := []struct {
		name     string
		in       *ec2.DescribeLaunchTemplatesInput
		want     []string
		wantCode string
	}{
		{"all", &ec2.DescribeLaunchTemplatesInput{}, []string{web, api, blog}, ""},
		{"by tags", &ec2.DescribeLaunchTemplatesInput{Filters: append(filters("tag:amibump:app", "shop"), filters("tag:amibump:env", "prod")...)}, []string{web}, ""},
		{"by tag-key", &ec2.DescribeLaunchTemplatesInput{Filters: filters("tag-key", "amibump:*")}, []string{web, api}, ""},
		{"by name filter", &ec2.DescribeLaunchTemplatesInput{Filters: filters("launch-template-name", "*-api")}, []string{api}, ""},
		{"by names", &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"blog"}}, []string{blog}, ""},
		{"by ids", &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{api}}, []string{api}, ""},
		{"unknown id", &ec2.DescribeLaunchTemplatesInput{LaunchTemplateIds: []string{"lt-0123456789abcdef0"}}, nil, "InvalidLaunchTemplateId.NotFound"},
		{"unknown name", &ec2.DescribeLaunchTemplatesInput{LaunchTemplateNames: []string{"nope"}}, nil, "InvalidLaunchTemplateName.NotFoundException"},
		{"MaxResults over 200", &ec2.DescribeLaunchTemplatesInput{MaxResults: aws.Int32(201)}, nil, "InvalidParameterValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := ec2.NewDescribeLaunchTemplatesPaginator(cloud.EC2(), tt.in, func(o *ec2.DescribeLaunchTemplatesPaginatorOptions) {
				if tt.in.MaxResults == nil {
					o.Limit = 1
				}
			})
			got := []string{}
			for p.HasMorePages() {
				out, err := p.NextPage(context.Background())
				wantCode(t, err, tt.wantCode)
				if err != nil {
					return
				}
				for _, lt := range out.LaunchTemplates {
					got = append(got, aws.ToString(lt.LaunchTemplateId))
				}
			}
			if diff := cmp.Diff(tt.want, got, sortStrings); diff != "" {
				t.Errorf("templates (-want +got):\n%s", diff)
			}
		})
	}
}
