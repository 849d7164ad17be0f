package awsfake

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/aws-sdk-go-v2/service/ssm"
	ssmtypes "github.com/aws/aws-sdk-go-v2/service/ssm/types"
)

// SSM is the fake Systems Manager Parameter Store client, with the SDK's exact
// signatures: PutParameter, GetParameter, GetParameters and
// GetParameterHistory, on parameters of this account and region.
//
// What it models, from the SSM API Reference (PutParameter, GetParameter,
// GetParameters) and the Parameter Store user guide ("Parameter data types",
// "Native parameter support for Amazon Machine Image IDs", "Working with
// parameter versions"):
//   - names: letters, digits, _ . - and /; a hierarchy starts with / and has at
//     most 15 levels; names starting with aws or ssm (any case) are reserved.
//     Bad names are ValidationException (AWS documents the rule, not the code:
//     the harsher reading, a failed call).
//   - Type is required to create a parameter; a second PutParameter of an
//     existing name without Overwrite is ParameterAlreadyExists; changing the
//     type is HierarchyTypeMismatchException; a data type cannot change to or
//     from aws:ec2:image (ValidationException).
//   - data type aws:ec2:image is validated asynchronously: PutParameter answers
//     with the new version number, and if the value is not the id of an
//     available AMI of the account the parameter is neither created nor updated
//     (AWS reports that only through EventBridge; the fake lists it in
//     ParameterFailures). The format is treated the same way (harsher than a
//     synchronous error: the caller learns nothing). Validation takes
//     WithParameterValidation on the cloud's clock: reads see the version
//     before until then, and another write is TooManyUpdates.
//   - tiers: no Tier is the account's default (SetDefaultParameterTier);
//     Advanced never goes back to Standard (ValidationException); at the
//     standard quota (SetStandardParameterQuotaReached) a new Standard
//     parameter is ParameterLimitExceeded and Intelligent-Tiering makes it
//     Advanced.
//   - every accepted write, the same value included, makes a new version; at
//     100 versions the oldest is dropped (labels are not modelled).
//   - GetParameter reads name, name:version or name:label (labels: not found);
//     a missing name is ParameterNotFound, a missing version
//     ParameterVersionNotFound. GetParameters takes 1 to 10 names and lists the
//     missing ones in InvalidParameters.
//   - throttling is ThrottlingException (HTTP 400), injected with FailNext;
//     access denied is AccessDeniedException.
type SSM struct{ c *Cloud }

// SSM returns the cloud's Systems Manager client.
func (c *Cloud) SSM() *SSM { return &SSM{c: c} }

type parameter struct {
	versions []ssmtypes.Parameter     // oldest first; Version numbers keep counting
	tiers    []ssmtypes.ParameterTier // the tier each version was written in
	tier     ssmtypes.ParameterTier   // the parameter's tier now
}

// pendingWrite is a write of data type aws:ec2:image that EC2 has not
// validated yet: it becomes param (or a ParameterFailures entry) at readyAt.
type pendingWrite struct {
	param   ssmtypes.Parameter
	tier    ssmtypes.ParameterTier
	readyAt time.Time
}

// SetDefaultParameterTier sets the account's default parameter tier (the
// service setting /ssm/parameter-store/default-parameter-tier): the tier of a
// PutParameter that names none. The default is Standard.
func (c *Cloud) SetDefaultParameterTier(t ssmtypes.ParameterTier) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.defaultTier = t
}

// settleParameters finishes the validations whose time has come: the value of
// an available AMI is stored, any other is a ParameterFailures entry.
func (c *Cloud) settleParameters() {
	now := c.now()
	for name, w := range c.validating {
		if now.Before(w.readyAt) {
			continue
		}
		delete(c.validating, name)
		if reason := c.imageParameterProblem(derefString(w.param.Value)); reason != "" {
			c.parameterFailures = append(c.parameterFailures, fmt.Sprintf("%s=%s: %s", name, derefString(w.param.Value), reason))
			continue
		}
		c.storeParameter(name, w.param, w.tier)
	}
}

// storeParameter adds a version to a parameter, making it if need be.
func (c *Cloud) storeParameter(name string, v ssmtypes.Parameter, tier ssmtypes.ParameterTier) {
	p, ok := c.parameterStore()[name]
	if !ok {
		p = &parameter{}
		c.parameterStore()[name] = p
	}
	p.tier = tier
	p.versions = append(p.versions, v)
	p.tiers = append(p.tiers, tier)
	if len(p.versions) > maxParameterVersions {
		p.versions, p.tiers = p.versions[1:], p.tiers[1:]
	}
}

// SetStandardParameterQuotaReached makes the account hold as many standard
// parameters as its quota allows (10,000 a Region): a new parameter named
// Standard is refused (ParameterLimitExceeded); Intelligent-Tiering makes it
// Advanced.
func (c *Cloud) SetStandardParameterQuotaReached(full bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.standardFull = full
}

// parameterTier is the tier a write gets: the one it names, else the account's
// default; Intelligent-Tiering picks Standard for what amibump writes (a short
// String, no policies) unless the parameter is Advanced already, or is new and
// the standard quota is reached. Advanced never goes back to Standard: the
// write is refused.
func (c *Cloud) parameterTier(asked ssmtypes.ParameterTier, p *parameter, exists bool) (ssmtypes.ParameterTier, error) {
	if asked == "" {
		asked = c.defaultTier
	}
	was := ssmtypes.ParameterTierStandard
	if exists {
		was = p.tier
	}
	switch asked {
	case "", ssmtypes.ParameterTierStandard:
		if was == ssmtypes.ParameterTierAdvanced {
			return "", errorf("ValidationException", "This parameter uses the advanced-parameter tier. You can't downgrade a parameter from the advanced-parameter tier to the standard-parameter tier. If necessary, you can delete the advanced parameter and recreate it as a standard parameter.")
		}
		if !exists && c.standardFull {
			return "", errorf("ParameterLimitExceeded", "You have exceeded the number of parameters for this Amazon Web Services account. Delete one or more parameters and try again.")
		}
		return ssmtypes.ParameterTierStandard, nil
	case ssmtypes.ParameterTierIntelligentTiering:
		if !exists && c.standardFull {
			return ssmtypes.ParameterTierAdvanced, nil
		}
		return was, nil
	case ssmtypes.ParameterTierAdvanced:
		return ssmtypes.ParameterTierAdvanced, nil
	}
	return "", errorf("ValidationException", "1 validation error detected: Value '%s' at 'tier' failed to satisfy constraint: Member must satisfy enum value set: [Advanced, Intelligent-Tiering, Standard]", asked)
}

var ssmNamePattern = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)

const maxParameterVersions = 100

// SSMThrottle returns Systems Manager's throttling error.
func SSMThrottle() error { return APIError("ThrottlingException", "Rate exceeded") }

func (c *Cloud) parameterStore() map[string]*parameter {
	if c.parameters == nil {
		c.parameters = map[string]*parameter{}
	}
	return c.parameters
}

func checkParameterName(name string) error {
	first := strings.ToLower(strings.TrimPrefix(name, "/"))
	switch {
	case name == "" || len(name) > 1011:
		return errorf("ValidationException", "Parameter name must be 1 to 1011 characters: %q", name)
	case !ssmNamePattern.MatchString(name):
		return errorf("ValidationException", "Parameter name: can't contain characters other than a-zA-Z0-9_.-/: %q", name)
	case strings.Contains(name, "/") && !strings.HasPrefix(name, "/"):
		return errorf("ValidationException", "Parameter name: a hierarchy must start with a forward slash (/): %q", name)
	case strings.Contains(name, "//") || strings.HasSuffix(name, "/"):
		return errorf("ValidationException", "Parameter name: empty hierarchy level in %q", name)
	case strings.Count(name, "/") > 15:
		return APIError("HierarchyLevelLimitExceededException", "A hierarchy can have a maximum of 15 levels")
	case strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm"):
		return errorf("ValidationException", "No access to reserved parameter name: %s", name)
	}
	return nil
}

// PutParameter creates or overwrites a parameter (see SSM for the rules).
func (s *SSM) PutParameter(ctx context.Context, in *ssm.PutParameterInput, _ ...func(*ssm.Options)) (*ssm.PutParameterOutput, error) {
	return serve(ctx, s.c, svcSSM, "PutParameter", in, s.c.putParameter)
}

func (c *Cloud) putParameter(in *ssm.PutParameterInput) (*ssm.PutParameterOutput, error) {
	c.settleParameters()
	name, value := derefString(in.Name), derefString(in.Value)
	if err := checkParameterName(name); err != nil {
		return nil, err
	}
	if _, busy := c.validating[name]; busy {
		// AWS documents the refusal ("validation is still in process") but not
		// its code: PutParameter's code for concurrent updates.
		return nil, APIError("TooManyUpdates", "There are concurrent updates for a resource that supports one update at a time.")
	}
	if value == "" || len(value) > 4096 {
		return nil, errorf("ValidationException", "Parameter value must be 1 to 4096 characters (standard tier)")
	}
	dataType := derefString(in.DataType)
	if dataType == "" {
		dataType = "text"
	}
	if dataType != "text" && dataType != "aws:ec2:image" && dataType != "aws:ssm:integration" {
		return nil, errorf("ValidationException", "The following data type is not supported: %s (supported: text, aws:ec2:image, aws:ssm:integration)", dataType)
	}
	p, exists := c.parameterStore()[name]
	typ := in.Type
	if err := checkOverwrite(p, exists, in, &typ, dataType); err != nil {
		return nil, err
	}
	if dataType == "aws:ec2:image" && typ != ssmtypes.ParameterTypeString {
		return nil, errorf("ValidationException", "Data type aws:ec2:image is supported for String parameters only")
	}
	tier, err := c.parameterTier(in.Tier, p, exists)
	if err != nil {
		return nil, err
	}
	next := int64(1)
	if exists {
		next = p.versions[len(p.versions)-1].Version + 1
	}
	out := &ssm.PutParameterOutput{Version: next, Tier: tier}
	v := ssmtypes.Parameter{
		Name: ptr(name), Value: ptr(value), Type: typ, DataType: ptr(dataType), Version: next,
		LastModifiedDate: ptr(c.now()), ARN: ptr(parameterARN(name)),
	}
	if dataType == "aws:ec2:image" {
		// Validated asynchronously: the call succeeds whether the write will or not.
		if c.validating == nil {
			c.validating = map[string]*pendingWrite{}
		}
		c.validating[name] = &pendingWrite{param: v, tier: tier, readyAt: c.now().Add(c.parameterDelay)}
		c.settleParameters()
		return out, nil
	}
	c.storeParameter(name, v, tier)
	return out, nil
}

// checkOverwrite applies the rules for an existing name; typ gets the stored type
// when the request leaves it out.
func checkOverwrite(p *parameter, exists bool, in *ssm.PutParameterInput, typ *ssmtypes.ParameterType, dataType string) error {
	if !exists {
		if *typ == "" {
			return errorf("ValidationException", "A parameter type is required when you create a parameter")
		}
		return nil
	}
	if in.Overwrite == nil || !*in.Overwrite {
		return APIError("ParameterAlreadyExists", "The parameter already exists. To overwrite this value, set the overwrite option in the request to true.")
	}
	cur := p.versions[len(p.versions)-1]
	if *typ == "" {
		*typ = cur.Type
	}
	if *typ != cur.Type {
		return APIError("HierarchyTypeMismatchException", "Parameter Store does not support changing a parameter type in a hierarchy")
	}
	if was := derefString(cur.DataType); was != dataType && (was == "aws:ec2:image" || dataType == "aws:ec2:image") {
		return errorf("ValidationException", "You can't change the data type of a parameter to or from aws:ec2:image (it is %s)", was)
	}
	return nil
}

// imageParameterProblem says why value is not an available AMI of the account ("" if it is).
func (c *Cloud) imageParameterProblem(value string) string {
	if !imageIDPattern.MatchString(value) {
		return "not in the format of an AMI id (ami-...)"
	}
	img, err := c.lookupImage(value, c.now())
	if err != nil {
		return "no such AMI in this account and region"
	}
	c.settle(img, c.now())
	if img.state != "available" {
		return "the AMI is " + string(img.state) + ", not available"
	}
	return ""
}

// GetParameter reads one parameter: name, name:version or name:label.
func (s *SSM) GetParameter(ctx context.Context, in *ssm.GetParameterInput, _ ...func(*ssm.Options)) (*ssm.GetParameterOutput, error) {
	return serve(ctx, s.c, svcSSM, "GetParameter", in, s.c.getParameter)
}

func (c *Cloud) getParameter(in *ssm.GetParameterInput) (*ssm.GetParameterOutput, error) {
	c.settleParameters()
	p, err := c.lookupParameter(derefString(in.Name))
	if err != nil {
		return nil, err
	}
	return &ssm.GetParameterOutput{Parameter: &p}, nil
}

func (c *Cloud) lookupParameter(ref string) (ssmtypes.Parameter, error) {
	name, selector, hasSelector := strings.Cut(ref, ":")
	if name == "" {
		return ssmtypes.Parameter{}, errorf("ValidationException", "Parameter name must not be empty")
	}
	p, ok := c.parameterStore()[name]
	if !ok {
		return ssmtypes.Parameter{}, APIError("ParameterNotFound", "Parameter "+name+" not found.")
	}
	if !hasSelector {
		return clone(p.versions[len(p.versions)-1]), nil
	}
	n, err := strconv.ParseInt(selector, 10, 64)
	for _, v := range p.versions {
		if err == nil && v.Version == n {
			out := clone(v)
			out.Selector = ptr(":" + selector)
			return out, nil
		}
	}
	return ssmtypes.Parameter{}, APIError("ParameterVersionNotFound", fmt.Sprintf("Systems Manager could not find version %s of %s.", selector, name))
}

// GetParameters reads 1 to 10 parameters; names not found are listed in
// InvalidParameters, not failed.
func (s *SSM) GetParameters(ctx context.Context, in *ssm.GetParametersInput, _ ...func(*ssm.Options)) (*ssm.GetParametersOutput, error) {
	return serve(ctx, s.c, svcSSM, "GetParameters", in, s.c.getParameters)
}

func (c *Cloud) getParameters(in *ssm.GetParametersInput) (*ssm.GetParametersOutput, error) {
	if len(in.Names) < 1 || len(in.Names) > 10 {
		return nil, errorf("ValidationException", "1 validation error detected: Value at 'names' failed to satisfy constraint: Member must have length between 1 and 10")
	}
	c.settleParameters()
	out := &ssm.GetParametersOutput{Parameters: []ssmtypes.Parameter{}, InvalidParameters: []string{}}
	for _, ref := range in.Names {
		p, err := c.lookupParameter(ref)
		if err != nil {
			out.InvalidParameters = append(out.InvalidParameters, ref)
			continue
		}
		out.Parameters = append(out.Parameters, p)
	}
	return out, nil
}

// AddParameter adds a String parameter (version 1) as a person or an
// infrastructure-as-code tool would, without the checks of aws:ec2:image.
func (c *Cloud) AddParameter(name, value, dataType string) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if err := checkParameterName(name); err != nil {
		panic(fmt.Sprintf("awsfake: add parameter: %v", err))
	}
	c.parameterStore()[name] = &parameter{tier: ssmtypes.ParameterTierStandard, tiers: []ssmtypes.ParameterTier{ssmtypes.ParameterTierStandard}, versions: []ssmtypes.Parameter{{
		Name: ptr(name), Value: ptr(value), Type: ssmtypes.ParameterTypeString, DataType: ptr(dataType), Version: 1,
		LastModifiedDate: ptr(c.now()), ARN: ptr(parameterARN(name)),
	}}}
}

// Parameter returns the current version of a parameter.
func (c *Cloud) Parameter(name string) (ssmtypes.Parameter, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleParameters()
	p, ok := c.parameterStore()[name]
	if !ok {
		return ssmtypes.Parameter{}, false
	}
	return clone(p.versions[len(p.versions)-1]), true
}

// ParameterFailures lists the aws:ec2:image writes that failed their
// asynchronous validation, as "name=value: reason".
func (c *Cloud) ParameterFailures() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.settleParameters()
	return clone(c.parameterFailures)
}

// LaunchImage is the AMI an instance launched from a template version
// ("$Latest", "$Default" or a number) would run: its ImageId, with resolve:ssm:
// resolved from the parameter as EC2 does at launch (Amazon EC2 User Guide, "Use
// a Systems Manager parameter instead of an AMI ID": the parameter is read when
// an instance launches, so every version that names it launches its current
// value; a name:version or name:label reads that version).
func (c *Cloud) LaunchImage(ltID, version string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	lt, err := c.lookupTemplateID(ltID)
	if err != nil {
		return "", err
	}
	v, err := lt.resolveVersion(version)
	if err != nil {
		return "", err
	}
	id := derefString(v.data.ImageId)
	ref, ok := strings.CutPrefix(id, "resolve:ssm:")
	if !ok {
		return id, nil
	}
	c.settleParameters()
	p, err := c.lookupParameter(ref)
	if err != nil {
		return "", err
	}
	return derefString(p.Value), nil
}

// parameterReferences are the parameters of data type aws:ec2:image whose
// current value is one of ids, as DescribeImageReferences reports them
// (resource type ssm:Parameter). AWS does not say whether a text parameter
// holding an AMI id, or an older version, counts: the fake reports neither
// (the harsher reading for a caller that keeps what is referenced).
func (c *Cloud) parameterReferences(ids []string) []ec2types.ImageReference {
	c.settleParameters()
	var refs []ec2types.ImageReference
	for name, p := range c.parameterStore() {
		cur := p.versions[len(p.versions)-1]
		if derefString(cur.DataType) == "aws:ec2:image" && slices.Contains(ids, derefString(cur.Value)) {
			refs = append(refs, ec2types.ImageReference{ImageId: ptr(derefString(cur.Value)),
				ResourceType: ec2types.ImageReferenceResourceTypeSsmParameter, Arn: ptr(parameterARN(name))})
		}
	}
	return refs
}

// GetParameterHistory lists every version of a parameter, each with its
// tier (which GetParameter does not tell): MaxResults 1 to 50 (default 50),
// NextToken; a missing name is ParameterNotFound.
func (s *SSM) GetParameterHistory(ctx context.Context, in *ssm.GetParameterHistoryInput, _ ...func(*ssm.Options)) (*ssm.GetParameterHistoryOutput, error) {
	return serve(ctx, s.c, svcSSM, "GetParameterHistory", in, s.c.getParameterHistory)
}

func (c *Cloud) getParameterHistory(in *ssm.GetParameterHistoryInput) (*ssm.GetParameterHistoryOutput, error) {
	c.settleParameters()
	name := derefString(in.Name)
	if err := checkRange("MaxResults", in.MaxResults, 1, 50); err != nil {
		return nil, errorf("ValidationException", "%v", err)
	}
	p, ok := c.parameterStore()[name]
	if !ok {
		return nil, APIError("ParameterNotFound", "Parameter "+name+" not found.")
	}
	all := make([]ssmtypes.ParameterHistory, len(p.versions))
	for i, v := range p.versions {
		all[i] = ssmtypes.ParameterHistory{Name: ptr(name), Type: v.Type, DataType: ptr(derefString(v.DataType)), Value: ptr(derefString(v.Value)),
			Version: v.Version, Tier: p.tiers[i], LastModifiedDate: ptr(*v.LastModifiedDate), Labels: []string{}}
	}
	page, next, err := paginate(all, func(h ssmtypes.ParameterHistory) string { return fmt.Sprintf("%020d", h.Version) }, in.NextToken, c.pageSizeFor(in.MaxResults, 50))
	if err != nil {
		return nil, err
	}
	return &ssm.GetParameterHistoryOutput{Parameters: page, NextToken: next}, nil
}

// SetParameterTier sets a parameter's tier, as a person might have made it.
func (c *Cloud) SetParameterTier(name string, t ssmtypes.ParameterTier) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if p, ok := c.parameterStore()[name]; ok {
		p.tier = t
		p.tiers[len(p.tiers)-1] = t
	}
}
