package awsfake

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"
	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

type template struct {
	id, name       string
	createdBy      string // the ARN of who made it
	tags           map[string]string
	created        time.Time
	defaultVersion int64
	lastNumber     int64 // the highest number ever given; numbers are never reused
	versions       map[int64]*ltVersion
	// What reads see while recent writes are not visible (consistency.go).
	ghosts        map[int64]ghost
	prevDefault   int64
	defaultSeenAt time.Time
	prevTags      map[string]string
	tagsSeenAt    time.Time
}

type ltVersion struct {
	number      int64
	description string
	created     time.Time
	visibleAt   time.Time                          // not listed before (consistency.go)
	data        ec2types.RequestLaunchTemplateData // only supportedDataFields are ever set
}

// tokenRecord is what a CreateLaunchTemplateVersion client token was first used for.
type tokenRecord struct {
	request string // canonical form of the request, token excluded
	output  *ec2.CreateLaunchTemplateVersionOutput
}

var ltIDPattern = regexp.MustCompile(`^lt-([0-9a-f]{8}|[0-9a-f]{17})$`)

// supportedDataFields are the RequestLaunchTemplateData fields the fake models. Any
// other field is refused rather than silently dropped.
var supportedDataFields = map[string]bool{
	"ImageId": true, "InstanceType": true, "KeyName": true, "UserData": true,
	"SecurityGroupIds": true, "SecurityGroups": true, "IamInstanceProfile": true,
	"TagSpecifications": true, "EbsOptimized": true, "DisableApiTermination": true,
	"BlockDeviceMappings": true,
}

// unsupportedField names the first set field of d the fake does not model, or "".
func unsupportedField(d ec2types.RequestLaunchTemplateData) string {
	v := reflect.ValueOf(d)
	for i := range v.NumField() {
		f := v.Type().Field(i)
		if f.IsExported() && !supportedDataFields[f.Name] && !v.Field(i).IsZero() {
			return f.Name
		}
	}
	return ""
}

// merge returns base with every field set in override replacing base's.
func merge(base, override ec2types.RequestLaunchTemplateData) ec2types.RequestLaunchTemplateData {
	out := clone(base)
	ov, dst := reflect.ValueOf(clone(override)), reflect.ValueOf(&out).Elem()
	for i := range ov.NumField() {
		if ov.Type().Field(i).IsExported() && !ov.Field(i).IsZero() {
			dst.Field(i).Set(ov.Field(i))
		}
	}
	return out
}

// responseData converts stored request data into what Describe calls return.
func responseData(d ec2types.RequestLaunchTemplateData) *ec2types.ResponseLaunchTemplateData {
	d = clone(d)
	out := &ec2types.ResponseLaunchTemplateData{
		ImageId: d.ImageId, InstanceType: d.InstanceType, KeyName: d.KeyName, UserData: d.UserData,
		SecurityGroupIds: d.SecurityGroupIds, SecurityGroups: d.SecurityGroups,
		EbsOptimized: d.EbsOptimized, DisableApiTermination: d.DisableApiTermination,
		BlockDeviceMappings: responseMappings(d.BlockDeviceMappings),
	}
	if d.IamInstanceProfile != nil {
		out.IamInstanceProfile = &ec2types.LaunchTemplateIamInstanceProfileSpecification{
			Arn: d.IamInstanceProfile.Arn, Name: d.IamInstanceProfile.Name}
	}
	for _, ts := range d.TagSpecifications {
		out.TagSpecifications = append(out.TagSpecifications,
			ec2types.LaunchTemplateTagSpecification{ResourceType: ts.ResourceType, Tags: ts.Tags})
	}
	return out
}

func (lt *template) latest() int64 {
	var n int64
	for v := range lt.versions {
		n = max(n, v)
	}
	return n
}

// recentVersions returns the depth highest-numbered existing versions, newest first.
func (lt *template) recentVersions(depth int) []*ltVersion {
	vs := lt.sortedVersions()
	sort.Slice(vs, func(i, j int) bool { return vs[i].number > vs[j].number })
	if len(vs) > depth {
		vs = vs[:depth]
	}
	return vs
}

func (lt *template) sortedVersions() []*ltVersion {
	vs := make([]*ltVersion, 0, len(lt.versions))
	for _, v := range lt.versions {
		vs = append(vs, v)
	}
	sort.Slice(vs, func(i, j int) bool { return vs[i].number < vs[j].number })
	return vs
}

func (lt *template) describe() ec2types.LaunchTemplate {
	return ec2types.LaunchTemplate{
		LaunchTemplateId:     ptr(lt.id),
		LaunchTemplateName:   ptr(lt.name),
		CreateTime:           ptr(lt.created),
		CreatedBy:            ptr(lt.createdBy),
		DefaultVersionNumber: ptr(lt.defaultVersion),
		LatestVersionNumber:  ptr(lt.latest()),
		Tags:                 ec2Tags(lt.tags),
	}
}

func (lt *template) describeVersion(v *ltVersion) ec2types.LaunchTemplateVersion {
	out := ec2types.LaunchTemplateVersion{
		LaunchTemplateId:   ptr(lt.id),
		LaunchTemplateName: ptr(lt.name),
		VersionNumber:      ptr(v.number),
		DefaultVersion:     ptr(v.number == lt.defaultVersion),
		CreateTime:         ptr(v.created),
		CreatedBy:          ptr(lt.createdBy),
		LaunchTemplateData: responseData(v.data),
	}
	if v.description != "" {
		out.VersionDescription = ptr(v.description)
	}
	return out
}

func (lt *template) filterable() filterable {
	return filterable{attrs: map[string][]string{"launch-template-name": {lt.name}}, tags: lt.tags}
}

// AddLaunchTemplate adds a launch template whose version 1 (default and latest)
// carries data, and returns its id. It panics when data sets a field the fake does
// not model, so a test cannot believe a field is kept when it is not.
func (c *Cloud) AddLaunchTemplate(name string, tags map[string]string, data ec2types.RequestLaunchTemplateData) string {
	if f := unsupportedField(data); f != "" {
		panic(fmt.Sprintf("awsfake: add launch template %s: LaunchTemplateData.%s is not supported by awsfake", name, f))
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	now := c.now()
	lt := &template{id: c.newID("lt"), createdBy: fmt.Sprintf("arn:%s:iam::%s:root", c.Partition(), c.scope.Account), name: name, tags: copyTags(tags), created: now,
		defaultVersion: 1, lastNumber: 1,
		versions: map[int64]*ltVersion{1: {number: 1, created: now, data: clone(data)}}}
	c.templates[lt.id] = lt
	return lt.id
}

// DeleteLaunchTemplate removes a launch template and all its versions, as if
// someone deleted it mid-run.
func (c *Cloud) DeleteLaunchTemplate(id string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.templates, id)
}

// FailVersionDeletion makes DeleteLaunchTemplateVersions report version of ltID as
// unsuccessfully deleted (code unexpectedError) instead of deleting it.
func (c *Cloud) FailVersionDeletion(ltID string, version int64) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.failVersions[ltID] == nil {
		c.failVersions[ltID] = map[int64]bool{}
	}
	c.failVersions[ltID][version] = true
}

// LaunchTemplate returns a launch template with its default and latest version
// numbers and tags.
func (c *Cloud) LaunchTemplate(id string) (ec2types.LaunchTemplate, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lt, ok := c.templates[id]
	if !ok {
		return ec2types.LaunchTemplate{}, false
	}
	return lt.describe(), true
}

// Versions returns the existing versions of a launch template, ascending.
func (c *Cloud) Versions(id string) []ec2types.LaunchTemplateVersion {
	c.mu.Lock()
	defer c.mu.Unlock()
	lt, ok := c.templates[id]
	if !ok {
		return nil
	}
	var out []ec2types.LaunchTemplateVersion
	for _, v := range lt.sortedVersions() {
		out = append(out, lt.describeVersion(v))
	}
	return out
}

func (c *Cloud) sortedTemplates() []*template {
	out := make([]*template, 0, len(c.templates))
	for _, lt := range c.templates {
		out = append(out, lt)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].id < out[j].id })
	return out
}

// lookupTemplate finds the template a request names by id or by name (exactly one).
func (c *Cloud) lookupTemplate(id, name *string) (*template, error) {
	switch {
	case id != nil && name != nil:
		return nil, errorf("InvalidParameterCombination", "Specify either a launch template ID or a launch template name, not both")
	case id != nil:
		return c.lookupTemplateID(*id)
	case name != nil:
		for _, lt := range c.templates {
			if lt.name == *name {
				return lt, nil
			}
		}
		return nil, errorf("InvalidLaunchTemplateName.NotFoundException", "The specified launch template, with template name %s, does not exist.", *name)
	}
	return nil, errorf("MissingParameter", "The request must contain the parameter LaunchTemplateId or LaunchTemplateName")
}

func (c *Cloud) lookupTemplateID(id string) (*template, error) {
	if !ltIDPattern.MatchString(id) {
		return nil, errorf("InvalidLaunchTemplateId.Malformed", "The specified ID for the launch template '%s' is malformed.", id)
	}
	lt, ok := c.templates[id]
	if !ok {
		return nil, errorf("InvalidLaunchTemplateId.NotFound", "The specified launch template, with template ID %s, does not exist.", id)
	}
	return lt, nil
}

// resolveVersion turns "$Latest", "$Default" or a number into an existing version.
func (lt *template) resolveVersion(s string) (*ltVersion, error) {
	var n int64
	switch s {
	case "$Latest":
		n = lt.latest()
	case "$Default":
		n = lt.defaultVersion
	default:
		var err error
		n, err = strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return nil, errorf("InvalidParameterValue", "Invalid launch template version %q: expecting a version number, $Latest or $Default", s)
		}
	}
	v, ok := lt.versions[n]
	if !ok {
		return nil, errorf("InvalidLaunchTemplateId.VersionNotFound", "Could not find launch template version %s for the launch template %s.", s, lt.id)
	}
	return v, nil
}

// DescribeLaunchTemplates describes launch templates by id, name or filter
// (launch-template-name, tag:<key>, tag-key, tag-value), paginated with
// MaxResults 1..200.
func (e *EC2) DescribeLaunchTemplates(ctx context.Context, in *ec2.DescribeLaunchTemplatesInput, _ ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplatesOutput, error) {
	return serve(ctx, e.c, svcEC2, "DescribeLaunchTemplates", in, e.c.describeLaunchTemplates)
}

func (c *Cloud) describeLaunchTemplates(in *ec2.DescribeLaunchTemplatesInput) (*ec2.DescribeLaunchTemplatesOutput, error) {
	if in == nil {
		in = &ec2.DescribeLaunchTemplatesInput{}
	}
	if err := checkRange("MaxResults", in.MaxResults, 1, 200); err != nil {
		return nil, err
	}
	filters, err := ec2Filters(in.Filters, "launch-template-name")
	if err != nil {
		return nil, err
	}
	var found []*template
	explicit := len(in.LaunchTemplateIds) > 0 || len(in.LaunchTemplateNames) > 0
	if explicit {
		seen := map[string]bool{}
		for _, id := range in.LaunchTemplateIds {
			lt, err := c.lookupTemplateID(id)
			if err != nil {
				return nil, err
			}
			if !seen[lt.id] {
				seen[lt.id] = true
				found = append(found, lt)
			}
		}
		for _, name := range in.LaunchTemplateNames {
			lt, err := c.lookupTemplate(nil, ptr(name))
			if err != nil {
				return nil, err
			}
			if !seen[lt.id] {
				seen[lt.id] = true
				found = append(found, lt)
			}
		}
		sort.Slice(found, func(i, j int) bool { return found[i].id < found[j].id })
	} else {
		found = c.sortedTemplates()
	}
	var matched []*template
	now := c.now()
	for _, lt := range found {
		if lt = lt.seen(now); lt.filterable().matches(filters) {
			matched = append(matched, lt)
		}
	}
	page, next, err := paginate(matched, func(lt *template) string { return lt.id }, in.NextToken, c.pageSizeFor(in.MaxResults, 0))
	if err != nil {
		return nil, err
	}
	out := &ec2.DescribeLaunchTemplatesOutput{NextToken: next, LaunchTemplates: []ec2types.LaunchTemplate{}}
	for _, lt := range page {
		out.LaunchTemplates = append(out.LaunchTemplates, lt.describe())
	}
	return out, nil
}

// DescribeLaunchTemplateVersions describes versions of one template (by id or name;
// Versions as numbers, $Latest, $Default; or MinVersion/MaxVersion; or all of
// them, newest first), or, with neither id nor name, the $Latest and/or $Default
// versions of every template in the account. Filters: image-id,
// is-default-version, instance-type. Paginated with MaxResults 1..200.
func (e *EC2) DescribeLaunchTemplateVersions(ctx context.Context, in *ec2.DescribeLaunchTemplateVersionsInput, _ ...func(*ec2.Options)) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	return serve(ctx, e.c, svcEC2, "DescribeLaunchTemplateVersions", in, e.c.describeLaunchTemplateVersions)
}

type versionRef struct {
	lt *template
	v  *ltVersion
}

func (c *Cloud) describeLaunchTemplateVersions(in *ec2.DescribeLaunchTemplateVersionsInput) (*ec2.DescribeLaunchTemplateVersionsOutput, error) {
	if in == nil {
		in = &ec2.DescribeLaunchTemplateVersionsInput{}
	}
	if err := checkRange("MaxResults", in.MaxResults, 1, 200); err != nil {
		return nil, err
	}
	filters, err := ec2Filters(in.Filters, "image-id", "is-default-version", "instance-type")
	if err != nil {
		return nil, err
	}
	var refs []versionRef
	if in.LaunchTemplateId == nil && in.LaunchTemplateName == nil {
		refs, err = c.accountWideVersions(in)
	} else {
		refs, err = c.templateVersions(in)
	}
	if err != nil {
		return nil, err
	}
	var matched []versionRef
	for _, r := range refs {
		f := filterable{attrs: map[string][]string{
			"image-id":           {derefString(r.v.data.ImageId)},
			"instance-type":      {string(r.v.data.InstanceType)},
			"is-default-version": {strconv.FormatBool(r.v.number == r.lt.defaultVersion)},
		}}
		if f.matches(filters) {
			matched = append(matched, r)
		}
	}
	// Within a template, newest first, as AWS lists them.
	key := func(r versionRef) string {
		return fmt.Sprintf("%s/%019d", r.lt.id, math.MaxInt64-r.v.number)
	}
	sort.Slice(matched, func(i, j int) bool { return key(matched[i]) < key(matched[j]) })
	page, next, err := paginate(matched, key, in.NextToken, c.pageSizeFor(in.MaxResults, 0))
	if err != nil {
		return nil, err
	}
	out := &ec2.DescribeLaunchTemplateVersionsOutput{NextToken: next, LaunchTemplateVersions: []ec2types.LaunchTemplateVersion{}}
	for _, r := range page {
		out.LaunchTemplateVersions = append(out.LaunchTemplateVersions, r.lt.describeVersion(r.v))
	}
	return out, nil
}

func (c *Cloud) accountWideVersions(in *ec2.DescribeLaunchTemplateVersionsInput) ([]versionRef, error) {
	if len(in.Versions) == 0 {
		return nil, errorf("MissingParameter", "To describe the versions of all launch templates, specify $Latest and/or $Default in Versions; otherwise specify a launch template ID or name")
	}
	if in.MinVersion != nil || in.MaxVersion != nil {
		return nil, errorf("InvalidParameterCombination", "MinVersion and MaxVersion need a launch template ID or name")
	}
	var latest, deflt bool
	for _, v := range in.Versions {
		switch v {
		case "$Latest":
			latest = true
		case "$Default":
			deflt = true
		default:
			return nil, errorf("InvalidParameterValue", "Invalid version %q: without a launch template ID or name only $Latest and $Default are allowed", v)
		}
	}
	var refs []versionRef
	now := c.now()
	for _, lt := range c.sortedTemplates() {
		lt = lt.seen(now)
		if latest {
			refs = append(refs, versionRef{lt, lt.versions[lt.latest()]})
		}
		if deflt && (!latest || lt.defaultVersion != lt.latest()) {
			refs = append(refs, versionRef{lt, lt.versions[lt.defaultVersion]})
		}
	}
	return refs, nil
}

func (c *Cloud) templateVersions(in *ec2.DescribeLaunchTemplateVersionsInput) ([]versionRef, error) {
	lt, err := c.lookupTemplate(in.LaunchTemplateId, in.LaunchTemplateName)
	if err != nil {
		return nil, err
	}
	lt = lt.seen(c.now())
	if len(in.Versions) > 0 && (in.MinVersion != nil || in.MaxVersion != nil) {
		// Stricter than AWS's documentation, which does not say how they combine.
		return nil, errorf("InvalidParameterCombination", "Versions cannot be combined with MinVersion or MaxVersion")
	}
	var refs []versionRef
	if len(in.Versions) > 0 {
		seen := map[int64]bool{}
		for _, s := range in.Versions {
			v, err := lt.resolveVersion(s)
			if err != nil {
				return nil, err
			}
			if !seen[v.number] {
				seen[v.number] = true
				refs = append(refs, versionRef{lt, v})
			}
		}
		return refs, nil
	}
	lo, hi := int64(math.MinInt64), int64(math.MaxInt64)
	for _, b := range []struct {
		s   *string
		dst *int64
	}{{in.MinVersion, &lo}, {in.MaxVersion, &hi}} {
		if b.s == nil {
			continue
		}
		n, err := strconv.ParseInt(*b.s, 10, 64)
		if err != nil {
			return nil, errorf("InvalidParameterValue", "Invalid version bound %q: expecting a version number", *b.s)
		}
		*b.dst = n
	}
	for _, v := range lt.sortedVersions() {
		if v.number >= lo && v.number <= hi {
			refs = append(refs, versionRef{lt, v})
		}
	}
	return refs, nil
}

// CreateLaunchTemplateVersion adds a version to a template. With SourceVersion the
// new version inherits the source's data, with the request's fields overriding;
// without, it carries only the request's data. A repeated ClientToken with the
// same request returns the first response without creating anything.
func (e *EC2) CreateLaunchTemplateVersion(ctx context.Context, in *ec2.CreateLaunchTemplateVersionInput, _ ...func(*ec2.Options)) (*ec2.CreateLaunchTemplateVersionOutput, error) {
	return serve(ctx, e.c, svcEC2, "CreateLaunchTemplateVersion", in, e.c.createLaunchTemplateVersion)
}

func (c *Cloud) createLaunchTemplateVersion(in *ec2.CreateLaunchTemplateVersionInput) (*ec2.CreateLaunchTemplateVersionOutput, error) {
	if in == nil || in.LaunchTemplateData == nil {
		return nil, errorf("MissingParameter", "The request must contain the parameter LaunchTemplateData")
	}
	lt, err := c.lookupTemplate(in.LaunchTemplateId, in.LaunchTemplateName)
	if err != nil {
		return nil, err
	}
	if f := unsupportedField(*in.LaunchTemplateData); f != "" {
		return nil, errorf("InvalidParameterValue", "LaunchTemplateData.%s is not supported by awsfake", f)
	}
	if in.VersionDescription != nil && len(*in.VersionDescription) > 255 {
		return nil, errorf("InvalidParameterValue", "Version description exceeds 255 characters")
	}
	token := derefString(in.ClientToken)
	if len(token) > 128 { // the documented limit: "Maximum 128 ASCII characters"
		return nil, errorf("InvalidParameterValue", "The client token exceeds 128 characters: %s", token)
	}
	var source *ltVersion
	now := c.now()
	if in.SourceVersion != nil {
		// $Latest and $Default resolve as a read would: possibly stale.
		if source, err = lt.seen(now).resolveVersion(*in.SourceVersion); err != nil {
			return nil, err
		}
	}
	canonical := canonicalRequest(in)
	if rec, ok := c.ltTokens[token]; ok && token != "" {
		if rec.request != canonical {
			return nil, errorf("IdempotentParameterMismatch", "The client token %s has already been used with different parameters", token)
		}
		if in.DryRun != nil && *in.DryRun {
			return nil, dryRunError()
		}
		// A replay returns the original response, even when that version has since
		// been deleted: EC2 remembers the token's result, not the version.
		return clone(rec.output), nil
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, dryRunError()
	}
	if err := checkVersionQuota(lt); err != nil {
		return nil, err
	}
	data := clone(*in.LaunchTemplateData)
	if source != nil {
		data = merge(inherit(source.data), data)
	}
	lt.lastNumber++
	v := &ltVersion{number: lt.lastNumber, description: derefString(in.VersionDescription), created: now, visibleAt: now.Add(c.lag()), data: data}
	lt.versions[v.number] = v
	out := &ec2.CreateLaunchTemplateVersionOutput{LaunchTemplateVersion: ptr(lt.describeVersion(v))}
	if token != "" {
		c.ltTokens[token] = tokenRecord{request: canonical, output: clone(out)}
	}
	return out, nil
}

// canonicalRequest is the request as compared for idempotency: everything but the
// token and DryRun.
func canonicalRequest(in *ec2.CreateLaunchTemplateVersionInput) string {
	cp := clone(*in)
	cp.ClientToken, cp.DryRun = nil, nil
	b, err := json.Marshal(cp)
	if err != nil {
		panic(fmt.Sprintf("awsfake: canonical form of a launch template version request: %v", err))
	}
	return string(b)
}

// ModifyLaunchTemplate sets a template's default version.
func (e *EC2) ModifyLaunchTemplate(ctx context.Context, in *ec2.ModifyLaunchTemplateInput, _ ...func(*ec2.Options)) (*ec2.ModifyLaunchTemplateOutput, error) {
	return serve(ctx, e.c, svcEC2, "ModifyLaunchTemplate", in, e.c.modifyLaunchTemplate)
}

func (c *Cloud) modifyLaunchTemplate(in *ec2.ModifyLaunchTemplateInput) (*ec2.ModifyLaunchTemplateOutput, error) {
	if in == nil {
		in = &ec2.ModifyLaunchTemplateInput{}
	}
	lt, err := c.lookupTemplate(in.LaunchTemplateId, in.LaunchTemplateName)
	if err != nil {
		return nil, err
	}
	var target *ltVersion
	if in.DefaultVersion != nil {
		// Only a version number is accepted here, not $Latest or $Default.
		if _, err := strconv.ParseInt(*in.DefaultVersion, 10, 64); err != nil {
			return nil, errorf("InvalidParameterValue", "Invalid default version %q: expecting a version number", *in.DefaultVersion)
		}
		// Found only when a read would list it and it still exists: a version
		// deleted a moment ago may still be listed, but cannot become $Default.
		if target, err = lt.seen(c.now()).resolveVersion(*in.DefaultVersion); err == nil && lt.versions[target.number] == nil {
			_, err = lt.resolveVersion(*in.DefaultVersion)
		}
		if err != nil {
			return nil, err
		}
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, dryRunError()
	}
	if target != nil {
		c.moveDefault(lt, target.number)
	}
	return &ec2.ModifyLaunchTemplateOutput{LaunchTemplate: ptr(lt.describe())}, nil
}

// DeleteLaunchTemplateVersions deletes up to 200 versions of a template. Versions
// that cannot go (missing, the default, or failed by FailVersionDeletion) are
// reported in UnsuccessfullyDeletedLaunchTemplateVersions, not as an error.
func (e *EC2) DeleteLaunchTemplateVersions(ctx context.Context, in *ec2.DeleteLaunchTemplateVersionsInput, _ ...func(*ec2.Options)) (*ec2.DeleteLaunchTemplateVersionsOutput, error) {
	return serve(ctx, e.c, svcEC2, "DeleteLaunchTemplateVersions", in, e.c.deleteLaunchTemplateVersions)
}

func (c *Cloud) deleteLaunchTemplateVersions(in *ec2.DeleteLaunchTemplateVersionsInput) (*ec2.DeleteLaunchTemplateVersionsOutput, error) {
	if in == nil || len(in.Versions) == 0 {
		return nil, errorf("MissingParameter", "The request must contain the parameter LaunchTemplateVersion")
	}
	if len(in.Versions) > 200 {
		return nil, errorf("InvalidParameterValue", "You can specify up to 200 launch template versions, got %d", len(in.Versions))
	}
	lt, err := c.lookupTemplate(in.LaunchTemplateId, in.LaunchTemplateName)
	if err != nil {
		return nil, err
	}
	numbers := make([]int64, 0, len(in.Versions))
	for _, s := range in.Versions {
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 1 {
			return nil, errorf("InvalidParameterValue", "Invalid launch template version %q: expecting a version number", s)
		}
		numbers = append(numbers, n)
	}
	if in.DryRun != nil && *in.DryRun {
		return nil, dryRunError()
	}
	out := &ec2.DeleteLaunchTemplateVersionsOutput{
		SuccessfullyDeletedLaunchTemplateVersions:   []ec2types.DeleteLaunchTemplateVersionsResponseSuccessItem{},
		UnsuccessfullyDeletedLaunchTemplateVersions: []ec2types.DeleteLaunchTemplateVersionsResponseErrorItem{},
	}
	fail := func(n int64, code ec2types.LaunchTemplateErrorCode, msg string) {
		out.UnsuccessfullyDeletedLaunchTemplateVersions = append(out.UnsuccessfullyDeletedLaunchTemplateVersions,
			ec2types.DeleteLaunchTemplateVersionsResponseErrorItem{LaunchTemplateId: ptr(lt.id), LaunchTemplateName: ptr(lt.name),
				VersionNumber: ptr(n), ResponseError: &ec2types.ResponseError{Code: code, Message: ptr(msg)}})
	}
	for _, n := range numbers {
		switch {
		case lt.versions[n] == nil:
			fail(n, ec2types.LaunchTemplateErrorCodeLaunchTemplateVersionDoesNotExist, "Could not find launch template version")
		case n == lt.defaultVersion:
			// EC2 has no dedicated code for this; it reports unexpectedError.
			fail(n, ec2types.LaunchTemplateErrorCodeUnexpectedError, "Cannot delete the default version of a launch template")
		case c.failVersions[lt.id][n]:
			fail(n, ec2types.LaunchTemplateErrorCodeUnexpectedError, "An unexpected error occurred")
		default:
			c.forgetVersion(lt, n)
			out.SuccessfullyDeletedLaunchTemplateVersions = append(out.SuccessfullyDeletedLaunchTemplateVersions,
				ec2types.DeleteLaunchTemplateVersionsResponseSuccessItem{LaunchTemplateId: ptr(lt.id),
					LaunchTemplateName: ptr(lt.name), VersionNumber: ptr(n)})
		}
	}
	return out, nil
}
