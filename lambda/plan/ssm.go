package plan

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"time"
)

// DefaultSSMPrefix is where amibump writes SSM parameters unless told otherwise.
const DefaultSSMPrefix = "/amibump/"

// SSMAliasPrefix starts a launch template ImageId that EC2 resolves from an SSM
// parameter at launch: resolve:ssm:<name>[:<version or label>].
const SSMAliasPrefix = "resolve:ssm:"

// maxParameterName bounds a parameter name. SSM allows 1011 characters for the
// name and its ARN together; 900 leaves room for the longest ARN prefix.
const maxParameterName = 900

// parameterName is what SSM allows in a parameter name: letters, digits, _ . -
// and / between hierarchy levels (PutParameter, "Name").
var parameterName = regexp.MustCompile(`^[a-zA-Z0-9_.\-/]+$`)

// checkParameterName says what is wrong with a hierarchical parameter name.
func checkParameterName(name string) error {
	switch {
	case !strings.HasPrefix(name, "/"):
		return errors.New("a parameter path must start with /")
	case len(name) > maxParameterName:
		return fmt.Errorf("longer than %d characters", maxParameterName)
	case !parameterName.MatchString(name):
		return errors.New("SSM allows only letters, digits, _ . - and /")
	case strings.Contains(name, "//"):
		return errors.New("empty hierarchy level (//)")
	case strings.Count(name, "/") > 15:
		return errors.New("more than 15 hierarchy levels")
	}
	first := strings.ToLower(strings.TrimPrefix(name, "/"))
	if strings.HasPrefix(first, "aws") || strings.HasPrefix(first, "ssm") {
		return errors.New("names starting with aws or ssm are reserved by AWS")
	}
	return nil
}

// CheckSSMPrefix checks the path under which amibump may write parameters:
// a valid parameter path that starts and ends with /.
func CheckSSMPrefix(prefix string) error {
	if !strings.HasSuffix(prefix, "/") || len(prefix) < 2 {
		return errors.New("want a parameter path that starts and ends with /, such as /amibump/")
	}
	if err := checkParameterName(strings.TrimSuffix(prefix, "/")); err != nil {
		return fmt.Errorf("want a parameter path that starts and ends with /, such as /amibump/: %w", err)
	}
	return nil
}

// TagParameter reads a template's amibump:ssm-parameter tag: "true" names
// <prefix><template name>, "false" (or no tag) none, anything else must be a
// parameter name under the prefix.
func TagParameter(tag, value, templateName, prefix string) (string, error) {
	v := strings.TrimSpace(value)
	switch strings.ToLower(v) {
	case "", "false":
		return "", nil
	case "true":
		name := prefix + templateName
		if err := checkParameterName(name); err != nil {
			return "", fmt.Errorf("tag %s=%s names parameter %s, which SSM does not allow (%v); set the tag to a parameter name under %s", tag, value, name, err, prefix)
		}
		return name, nil
	}
	if err := checkParameterName(v); err != nil {
		return "", fmt.Errorf("tag %s=%q is not a parameter name (%v); set it to true (for %s%s) or to a name under %s", tag, value, err, prefix, templateName, prefix)
	}
	if !strings.HasPrefix(v, prefix) || len(v) == len(prefix) {
		return "", fmt.Errorf("tag %s=%s names a parameter outside %s, where amibump may write; set it to true (for %s%s) or to a name under %s", tag, value, prefix, prefix, templateName, prefix)
	}
	return v, nil
}

// IsSSMAlias reports whether a launch template ImageId is resolve:ssm:.
func IsSSMAlias(imageID string) bool { return strings.HasPrefix(imageID, SSMAliasPrefix) }

// AliasParameter reads the parameter a resolve:ssm: ImageId names, and checks
// that amibump's writes to it are what EC2 will launch: a name under the prefix,
// with no version or label pinned.
func AliasParameter(imageID, templateName, prefix string) (string, error) {
	rest := strings.TrimPrefix(imageID, SSMAliasPrefix)
	if strings.HasPrefix(rest, "arn:") {
		return "", fmt.Errorf("$Latest of %s has ImageId %s, a parameter of another account (by ARN); amibump writes only this account's parameters under %s: point ImageId to resolve:ssm:%s%s",
			templateName, imageID, prefix, prefix, templateName)
	}
	name, selector, pinned := strings.Cut(rest, ":")
	switch {
	case pinned:
		return "", fmt.Errorf("$Latest of %s has ImageId %s, which pins %q of parameter %s, so EC2 would not launch what amibump writes; drop the :%s",
			templateName, imageID, selector, name, selector)
	case checkParameterName(name) != nil || !strings.HasPrefix(name, prefix):
		return "", fmt.Errorf("$Latest of %s has ImageId %s, a parameter outside %s, where amibump may write; amibump never replaces it with an AMI id. Point ImageId to resolve:ssm:%s%s (or another name under %s), or deploy amibump with that path as ssmParameterPrefix",
			templateName, imageID, prefix, prefix, templateName, prefix)
	}
	return name, nil
}

// ResolvedDescription describes an amibump version whose ImageId stays
// resolve:ssm:: it names the AMI the version stands for first, so that the
// 255-character cut never loses it.
func ResolvedDescription(imageID, buildID, commit string) string {
	return Cut(VersionMark + " image " + imageID + " build " + buildID + commitPart(commit))
}

func commitPart(commit string) string {
	if commit == "" {
		return ""
	}
	return " commit " + commit
}

// DescribedImage is the AMI a ResolvedDescription names ("" for another description).
func DescribedImage(description string) string {
	rest, ok := strings.CutPrefix(description, VersionMark+" image ")
	if !ok {
		return ""
	}
	id, _, _ := strings.Cut(rest, " ")
	return id
}

// ParameterAction is what to do with a parameter that should hold a release.
type ParameterAction int

// The actions ParameterStep returns.
const (
	// Write the release's AMI id.
	Write ParameterAction = iota
	// Keep: the parameter already holds it.
	Keep
	// Newer: the parameter holds a newer deploy's AMI; never written backwards.
	Newer
)

// ParameterStep decides whether a parameter holding current (an AMI id, "" when
// the parameter does not exist) gets ours. held is the deploy of the AMI it
// holds, when that is an amibump AMI; otherwise nil, and ours replaces it.
func ParameterStep(current string, held *Deploy, ours Image) ParameterAction {
	switch {
	case current == ours.ID:
		return Keep
	case held != nil && held.Compare(ours.Deploy) > 0:
		return Newer
	}
	return Write
}

// DriftSuspect is $Latest of a template when it is a version amibump did not
// make that carries a literal AMI other than the newest release amibump
// promoted (top, topImg): a candidate for a drifted report, to be confirmed by
// the age of its AMI with Drifted.
func DriftSuspect(t Template) (latest Version, top Version, topImg Image, ok bool) {
	top, topImg, found := t.Top()
	if !found {
		return Version{}, Version{}, Image{}, false
	}
	n := t.Latest()
	for _, v := range t.Versions {
		if v.Number != n {
			continue
		}
		if _, mine := t.ours(v); mine || v.Number <= top.Number || v.ImageID == "" || v.ImageID == topImg.ID || IsSSMAlias(v.ImageID) {
			return Version{}, Version{}, Image{}, false
		}
		return v, top, topImg, true
	}
	return Version{}, Version{}, Image{}, false
}

// Drifted tells whether $Latest's AMI, made at made (its deploy time when it is
// an amibump AMI, else its creation date; zero when it is gone or unknown), is
// older than the newest release amibump promoted.
func Drifted(made time.Time, topImg Image) bool {
	return made.IsZero() || made.Before(topImg.Deploy.At)
}
