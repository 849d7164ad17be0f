package awsfake_test

import (
	"context"
	"errors"
	"testing"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/autoscaling"
	astypes "github.com/aws/aws-sdk-go-v2/service/autoscaling/types"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/eventbridge"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"
	"github.com/google/go-cmp/cmp"
)

func TestDescribeInstances(t *testing.T) {
	c := awsfake.New()
	web := c.AddInstance(awsfake.Instance{Tags: map[string]string{"amibump:source-for": "shop-web"}})
	stopped := c.AddInstance(awsfake.Instance{State: ec2types.InstanceStateNameStopped, Tags: map[string]string{"Name": "x"}})
	gone := c.AddInstance(awsfake.Instance{State: ec2types.InstanceStateNameTerminated})
	tests := []struct {
		name     string
		in       *ec2.DescribeInstancesInput
		want     []string
		wantCode string
	}{
		{"all", &ec2.DescribeInstancesInput{}, []string{web, stopped, gone}, ""},
		{"by tag", &ec2.DescribeInstancesInput{Filters: filters("tag:amibump:source-for", "shop-*")}, []string{web}, ""},
		{"by state", &ec2.DescribeInstancesInput{Filters: filters("instance-state-name", "running", "stopped")}, []string{web, stopped}, ""},
		{"by tag-key", &ec2.DescribeInstancesInput{Filters: filters("tag-key", "Name")}, []string{stopped}, ""},
		{"by id", &ec2.DescribeInstancesInput{InstanceIds: []string{gone}}, []string{gone}, ""},
		{"by id and filter", &ec2.DescribeInstancesInput{InstanceIds: []string{gone, web}, Filters: filters("instance-id", web)}, []string{web}, ""},
		{"unknown id", &ec2.DescribeInstancesInput{InstanceIds: []string{"i-0123456789abcdef0"}}, nil, "InvalidInstanceID.NotFound"},
		{"malformed id", &ec2.DescribeInstancesInput{InstanceIds: []string{"web"}}, nil, "InvalidInstanceID.Malformed"},
		{"ids with MaxResults", &ec2.DescribeInstancesInput{InstanceIds: []string{web}, MaxResults: aws.Int32(5)}, nil, "InvalidParameterCombination"},
		{"MaxResults too big", &ec2.DescribeInstancesInput{MaxResults: aws.Int32(1001)}, nil, "InvalidParameterValue"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			out, err := c.EC2().DescribeInstances(context.Background(), tt.in)
			wantCode(t, err, tt.wantCode)
			if err != nil {
				return
			}
			got := []string{}
			for _, r := range out.Reservations {
				for _, in := range r.Instances {
					got = append(got, aws.ToString(in.InstanceId))
				}
			}
			if diff := cmp.Diff(tt.want, got, sortStrings); diff != "" {
				t.Errorf("instances (-want +got):\n%s", diff)
			}
		})
	}
}

func TestDescribeInstancesPaginator(t *testing.T) {
	c := awsfake.New(awsfake.WithPageSize(5))
	for range 12 {
		c.AddInstance(awsfake.Instance{})
	}
	p := ec2.NewDescribeInstancesPaginator(c.EC2(), &ec2.DescribeInstancesInput{})
	n, pages := 0, 0
	for p.HasMorePages() {
		out, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		n += len(out.Reservations)
	}
	if n != 12 || pages != 3 {
		t.Errorf("instances/pages: got %d/%d, want 12/3", n, pages)
	}
}

func group(name string, tags map[string]string) astypes.AutoScalingGroup {
	g := astypes.AutoScalingGroup{AutoScalingGroupName: aws.String(name),
		LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateName: aws.String("web"), Version: aws.String("$Latest")}}
	for k, v := range tags {
		g.Tags = append(g.Tags, astypes.TagDescription{Key: aws.String(k), Value: aws.String(v), ResourceId: aws.String(name)})
	}
	return g
}

func TestDescribeAutoScalingGroups(t *testing.T) {
	c := awsfake.New()
	for i := range 60 {
		c.AddAutoScalingGroup(group("g"+itoa(100+i), map[string]string{"app": "shop"}))
	}
	c.AddAutoScalingGroup(group("blog", map[string]string{"app": "blog", "env": "prod"}))
	names := func(in *autoscaling.DescribeAutoScalingGroupsInput) ([]string, int, error) {
		p := autoscaling.NewDescribeAutoScalingGroupsPaginator(c.AutoScaling(), in)
		var got []string
		pages := 0
		for p.HasMorePages() {
			out, err := p.NextPage(context.Background())
			if err != nil {
				return nil, 0, err
			}
			pages++
			for _, g := range out.AutoScalingGroups {
				got = append(got, aws.ToString(g.AutoScalingGroupName))
			}
		}
		return got, pages, nil
	}
	tests := []struct {
		name      string
		in        *autoscaling.DescribeAutoScalingGroupsInput
		wantN     int
		wantPages int
		wantCode  string
	}{
		{"default page size is 50", &autoscaling.DescribeAutoScalingGroupsInput{}, 61, 2, ""},
		{"MaxRecords 100", &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(100)}, 61, 1, ""},
		{"by names, unknown left out", &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"blog", "nope"}}, 1, 1, ""},
		{"by tag", &autoscaling.DescribeAutoScalingGroupsInput{Filters: []astypes.Filter{{Name: aws.String("tag:app"), Values: []string{"blog"}}}}, 1, 1, ""},
		{"by tag-key", &autoscaling.DescribeAutoScalingGroupsInput{Filters: []astypes.Filter{{Name: aws.String("tag-key"), Values: []string{"env"}}}}, 1, 1, ""},
		{"by tag-value", &autoscaling.DescribeAutoScalingGroupsInput{Filters: []astypes.Filter{{Name: aws.String("tag-value"), Values: []string{"shop"}}}}, 60, 2, ""},
		{"no wildcards in Auto Scaling filters", &autoscaling.DescribeAutoScalingGroupsInput{Filters: []astypes.Filter{{Name: aws.String("tag:app"), Values: []string{"*"}}}}, 0, 1, ""},
		{"MaxRecords over 100", &autoscaling.DescribeAutoScalingGroupsInput{MaxRecords: aws.Int32(101)}, 0, 0, "ValidationError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, pages, err := names(tt.in)
			wantCode(t, err, tt.wantCode)
			if len(got) != tt.wantN || pages != tt.wantPages {
				t.Errorf("groups/pages: got %d/%d, want %d/%d", len(got), pages, tt.wantN, tt.wantPages)
			}
		})
	}
}

func TestStartInstanceRefresh(t *testing.T) {
	c := awsfake.New()
	c.AddAutoScalingGroup(group("web", nil))
	as := c.AutoScaling()
	ctx := context.Background()
	prefs := &astypes.RefreshPreferences{SkipMatching: aws.Bool(true)}
	out, err := as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web"), Preferences: prefs})
	if err != nil {
		t.Fatal(err)
	}
	_, err = as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web")})
	var inProgress *astypes.InstanceRefreshInProgressFault
	if !errors.As(err, &inProgress) {
		t.Errorf("second refresh: got %v, want InstanceRefreshInProgressFault", err)
	}
	_, err = as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("nope")})
	wantCode(t, err, "ValidationError")

	rs := c.InstanceRefreshes("web")
	if len(rs) != 1 || aws.ToString(rs[0].InstanceRefreshId) != aws.ToString(out.InstanceRefreshId) ||
		rs[0].Status != astypes.InstanceRefreshStatusInProgress || !aws.ToBool(rs[0].Preferences.SkipMatching) {
		t.Errorf("refreshes: got %+v, want one in progress with SkipMatching", rs)
	}
	c.FinishInstanceRefreshes("web")
	if rs := c.InstanceRefreshes("web"); rs[0].Status != astypes.InstanceRefreshStatusSuccessful {
		t.Errorf("status after finishing: got %s, want Successful", rs[0].Status)
	}
	if _, err := as.StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("web")}); err != nil {
		t.Errorf("refresh after the first finished: got %v, want success", err)
	}
}

func validEntry(bus string) ebtypes.PutEventsRequestEntry {
	e := ebtypes.PutEventsRequestEntry{Source: aws.String("amibump"), DetailType: aws.String("bump-finished"), Detail: aws.String(`{"status":"promoted"}`)}
	if bus != "" {
		e.EventBusName = aws.String(bus)
	}
	return e
}

func TestPutEvents(t *testing.T) {
	withDetail := func(d string) ebtypes.PutEventsRequestEntry {
		e := validEntry("")
		e.Detail = aws.String(d)
		return e
	}
	tests := []struct {
		name      string
		entries   []ebtypes.PutEventsRequestEntry
		failNext  int
		wantCodes []string // per entry, "" = accepted
		wantErr   string
	}{
		{"default bus", []ebtypes.PutEventsRequestEntry{validEntry("")}, 0, []string{""}, ""},
		{"named bus and its ARN", []ebtypes.PutEventsRequestEntry{validEntry("amibump"), validEntry("arn:aws:events:us-east-1:123456789012:event-bus/amibump")}, 0, []string{"", ""}, ""},
		{"unknown bus fails the entry", []ebtypes.PutEventsRequestEntry{validEntry("nope"), validEntry("")}, 0, []string{"ResourceNotFoundException", ""}, ""},
		{"detail not an object", []ebtypes.PutEventsRequestEntry{withDetail(`[1]`), withDetail(`{`)}, 0, []string{"MalformedDetail", "MalformedDetail"}, ""},
		{"missing source", []ebtypes.PutEventsRequestEntry{{DetailType: aws.String("x"), Detail: aws.String("{}")}}, 0, []string{"InvalidArgument"}, ""},
		{"injected entry failures", []ebtypes.PutEventsRequestEntry{validEntry(""), validEntry(""), validEntry("")}, 2, []string{"InternalFailure", "InternalFailure", ""}, ""},
		{"no entries", nil, 0, nil, "ValidationException"},
		{"eleven entries", make([]ebtypes.PutEventsRequestEntry, 11), 0, nil, "ValidationException"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := awsfake.New()
			c.CreateEventBus("amibump")
			if tt.failNext > 0 {
				c.FailEntries(tt.failNext, "InternalFailure", "try again")
			}
			out, err := c.EventBridge().PutEvents(context.Background(), &eventbridge.PutEventsInput{Entries: tt.entries})
			wantCode(t, err, tt.wantErr)
			if err != nil {
				return
			}
			var got []string
			failed, accepted := 0, 0
			for _, e := range out.Entries {
				got = append(got, aws.ToString(e.ErrorCode))
				if e.ErrorCode != nil {
					failed++
				} else if e.EventId == nil {
					t.Errorf("accepted entry without an EventId")
				} else {
					accepted++
				}
			}
			if diff := cmp.Diff(tt.wantCodes, got); diff != "" {
				t.Errorf("entry codes (-want +got):\n%s", diff)
			}
			if int(out.FailedEntryCount) != failed {
				t.Errorf("FailedEntryCount: got %d, want %d", out.FailedEntryCount, failed)
			}
			if got := len(c.Events()); got != accepted {
				t.Errorf("stored events: got %d, want %d", got, accepted)
			}
		})
	}
}

func TestTerminatedInstanceLeavesItsGroups(t *testing.T) {
	c := awsfake.New()
	a, b := c.AddInstance(awsfake.Instance{}), c.AddInstance(awsfake.Instance{})
	c.AddAutoScalingGroup(astypes.AutoScalingGroup{
		AutoScalingGroupName: aws.String("web"),
		Instances: []astypes.Instance{
			{InstanceId: aws.String(a), LifecycleState: astypes.LifecycleStateInService, HealthStatus: aws.String("Healthy")},
			{InstanceId: aws.String(b), LifecycleState: astypes.LifecycleStateInService, HealthStatus: aws.String("Healthy")},
		},
	})
	c.TerminateInstance(a)
	out, err := c.AutoScaling().DescribeAutoScalingGroups(context.Background(), &autoscaling.DescribeAutoScalingGroupsInput{})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, in := range out.AutoScalingGroups[0].Instances {
		got = append(got, aws.ToString(in.InstanceId))
	}
	if diff := cmp.Diff([]string{b}, got); diff != "" {
		t.Errorf("group instances (-want +got):\n%s", diff)
	}
}

// TestInstanceRefreshPreferences pins two rules amibump relies on:
// ScaleInProtectedInstances defaults to Wait, and a refresh that waits on
// protected instances fails (RefreshPreferences in the Auto Scaling API
// Reference); skip matching needs a launch template (a group with a launch
// configuration is refused: AWS documents no error, the harsher reading).
func TestInstanceRefreshPreferences(t *testing.T) {
	ctx := context.Background()
	protected := func(name string, mode astypes.ScaleInProtectedInstances) astypes.InstanceRefreshStatus {
		c := awsfake.New()
		g := group(name, nil)
		g.Instances = []astypes.Instance{{InstanceId: aws.String("i-00000000000000001"), ProtectedFromScaleIn: aws.Bool(true)}}
		c.AddAutoScalingGroup(g)
		prefs := &astypes.RefreshPreferences{SkipMatching: aws.Bool(true), ScaleInProtectedInstances: mode}
		if _, err := c.AutoScaling().StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String(name), Preferences: prefs}); err != nil {
			t.Fatal(err)
		}
		c.FinishInstanceRefreshes(name)
		return c.InstanceRefreshes(name)[0].Status
	}
	for mode, want := range map[astypes.ScaleInProtectedInstances]astypes.InstanceRefreshStatus{
		"": astypes.InstanceRefreshStatusFailed, astypes.ScaleInProtectedInstancesWait: astypes.InstanceRefreshStatusFailed,
		astypes.ScaleInProtectedInstancesIgnore: astypes.InstanceRefreshStatusSuccessful, astypes.ScaleInProtectedInstancesRefresh: astypes.InstanceRefreshStatusSuccessful,
	} {
		if got := protected("web", mode); got != want {
			t.Errorf("ScaleInProtectedInstances %q with a protected instance: got %s, want %s", mode, got, want)
		}
	}
	c := awsfake.New()
	c.AddAutoScalingGroup(astypes.AutoScalingGroup{AutoScalingGroupName: aws.String("legacy"), LaunchConfigurationName: aws.String("legacy-lc")})
	_, err := c.AutoScaling().StartInstanceRefresh(ctx, &autoscaling.StartInstanceRefreshInput{AutoScalingGroupName: aws.String("legacy"),
		Preferences: &astypes.RefreshPreferences{SkipMatching: aws.Bool(true)}})
	wantCode(t, err, "ValidationError")
}

// TestInstanceRefreshOfGroupThatResolvesAParameter: a group whose template
// reads an SSM parameter cannot roll back (RefreshPreferences, AutoRollback),
// nor, in the harsher reading, skip matching or take a desired configuration.
func TestInstanceRefreshOfGroupThatResolvesAParameter(t *testing.T) {
	ctx := context.Background()
	c := awsfake.New()
	ami := c.AddImage(awsfake.Image{Name: "base"})
	c.AddParameter("/amibump/web", ami, "aws:ec2:image")
	lt := c.AddLaunchTemplate("web", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String("resolve:ssm:/amibump/web")})
	literal := c.AddLaunchTemplate("batch", nil, ec2types.RequestLaunchTemplateData{ImageId: aws.String(ami)})
	c.AddGroup("web", lt, "$Latest")
	c.AddGroup("batch", literal, "$Latest")
	start := func(group string, in autoscaling.StartInstanceRefreshInput) error {
		in.AutoScalingGroupName = aws.String(group)
		_, err := c.AutoScaling().StartInstanceRefresh(ctx, &in)
		c.FinishInstanceRefreshes(group)
		return err
	}
	tests := []struct {
		name, group string
		in          autoscaling.StartInstanceRefreshInput
		want        string
	}{
		{"skip matching", "web", autoscaling.StartInstanceRefreshInput{Preferences: &astypes.RefreshPreferences{SkipMatching: aws.Bool(true)}}, "ValidationError"},
		{"auto rollback", "web", autoscaling.StartInstanceRefreshInput{Preferences: &astypes.RefreshPreferences{AutoRollback: aws.Bool(true)}}, "ValidationError"},
		{"desired configuration", "web", autoscaling.StartInstanceRefreshInput{DesiredConfiguration: &astypes.DesiredConfiguration{
			LaunchTemplate: &astypes.LaunchTemplateSpecification{LaunchTemplateId: aws.String(lt), Version: aws.String("$Latest")}}}, "ValidationError"},
		{"plain refresh", "web", autoscaling.StartInstanceRefreshInput{Preferences: &astypes.RefreshPreferences{ScaleInProtectedInstances: astypes.ScaleInProtectedInstancesIgnore}}, ""},
		{"skip matching on a literal AMI", "batch", autoscaling.StartInstanceRefreshInput{Preferences: &astypes.RefreshPreferences{SkipMatching: aws.Bool(true)}}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wantCode(t, start(tt.group, tt.in), tt.want)
		})
	}
}

func TestDescribeWarmPool(t *testing.T) {
	ctx := context.Background()
	c := awsfake.New(awsfake.WithPageSize(1))
	c.AddGroup("web", "lt-00000000000000001", "$Latest", "i-00000000000000001")
	c.AddWarmPool("web", "i-00000000000000002", "i-00000000000000003")
	groups, err := c.AutoScaling().DescribeAutoScalingGroups(ctx, &autoscaling.DescribeAutoScalingGroupsInput{AutoScalingGroupNames: []string{"web"}})
	if err != nil || len(groups.AutoScalingGroups[0].Instances) != 1 {
		t.Fatalf("group: %+v, %v; want its one InService instance only", groups, err)
	}
	var warm []string
	p := autoscaling.NewDescribeWarmPoolPaginator(c.AutoScaling(), &autoscaling.DescribeWarmPoolInput{AutoScalingGroupName: aws.String("web")})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, in := range page.Instances {
			warm = append(warm, aws.ToString(in.InstanceId))
		}
	}
	if len(warm) != 2 {
		t.Errorf("warm pool instances %v, want 2 over two pages", warm)
	}
	_, err = c.AutoScaling().DescribeWarmPool(ctx, &autoscaling.DescribeWarmPoolInput{AutoScalingGroupName: aws.String("web"), MaxRecords: aws.Int32(51)})
	wantCode(t, err, "ValidationError")
	_, err = c.AutoScaling().DescribeWarmPool(ctx, &autoscaling.DescribeWarmPoolInput{AutoScalingGroupName: aws.String("none")})
	wantCode(t, err, "ValidationError")
}
