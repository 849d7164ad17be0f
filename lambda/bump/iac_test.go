package bump_test

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"

	"github.com/amibump/amibump/lambda/plan"
)

// The README's infrastructure-as-code examples (testdata/iac) read the AMI from
// the parameter amibump writes, so that an apply never reverts a release.

func iacFile(t *testing.T, name string) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "..", "testdata", "iac", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(raw)
}

// yamlAt walks a YAML document by mapping keys.
func yamlAt(t *testing.T, n *yaml.Node, path ...string) *yaml.Node {
	t.Helper()
	if n.Kind == yaml.DocumentNode {
		n = n.Content[0]
	}
	for _, key := range path {
		var next *yaml.Node
		for i := 0; i+1 < len(n.Content); i += 2 {
			if n.Content[i].Value == key {
				next = n.Content[i+1]
			}
		}
		if next == nil {
			t.Fatalf("no %s in the CloudFormation example", strings.Join(path, "."))
		}
		n = next
	}
	return n
}

func TestCloudFormationExampleReadsTheParameter(t *testing.T) {
	var doc yaml.Node
	if err := yaml.Unmarshal([]byte(iacFile(t, "launch-template.yaml")), &doc); err != nil {
		t.Fatalf("parse the CloudFormation example: %v", err)
	}
	res := func(path ...string) *yaml.Node { return yamlAt(t, &doc, append([]string{"Resources"}, path...)...) }
	name := res("AmiParameter", "Properties", "Name").Value
	template := res("LaunchTemplate", "Properties", "LaunchTemplateName").Value
	if name != plan.DefaultSSMPrefix+template {
		t.Errorf("parameter %s, want %s%s (what amibump:ssm-parameter=true names)", name, plan.DefaultSSMPrefix, template)
	}
	if dt := res("AmiParameter", "Properties", "DataType").Value; dt != "aws:ec2:image" || res("AmiParameter", "Properties", "Type").Value != "String" {
		t.Errorf("parameter data type %s: want a String of aws:ec2:image", dt)
	}
	image := res("LaunchTemplate", "Properties", "LaunchTemplateData", "ImageId")
	imageID := strings.ReplaceAll(image.Value, "${AmiParameter}", name)
	if image.Tag != "!Sub" {
		t.Errorf("ImageId %s %s, want !Sub of the parameter's name", image.Tag, image.Value)
	}
	if got, err := plan.AliasParameter(imageID, template, plan.DefaultSSMPrefix); err != nil || got != name {
		t.Errorf("ImageId %s: amibump reads %q, %v; want %s", imageID, got, err, name)
	}
	if v := res("Group", "Properties", "LaunchTemplate", "Version"); v.Tag != "!GetAtt" || !strings.HasPrefix(v.Value, "LaunchTemplate.") {
		t.Errorf("group version %s %s, want !GetAtt of the template's version number", v.Tag, v.Value)
	}
}

func TestTerraformExampleReadsTheParameter(t *testing.T) {
	tf := iacFile(t, "launch-template.tf")
	if strings.Count(tf, "{") != strings.Count(tf, "}") {
		t.Fatal("unbalanced braces in the Terraform example")
	}
	find := func(pattern string) string {
		t.Helper()
		m := regexp.MustCompile(pattern).FindStringSubmatch(tf)
		if m == nil {
			t.Fatalf("the Terraform example has no %s", pattern)
		}
		return m[len(m)-1]
	}
	local := find(`(?m)^\s*name\s*=\s*"([^"$]+)"`)
	name := strings.ReplaceAll(find(`(?m)^\s*name\s*=\s*"(/[^"]+)"`), "${local.name}", local)
	if name != plan.DefaultSSMPrefix+local {
		t.Errorf("parameter %s, want %s%s", name, plan.DefaultSSMPrefix, local)
	}
	imageID := strings.ReplaceAll(find(`(?m)^\s*image_id\s*=\s*"([^"]+)"`), "${aws_ssm_parameter.ami.name}", name)
	if got, err := plan.AliasParameter(imageID, local, plan.DefaultSSMPrefix); err != nil || got != name {
		t.Errorf("image_id %s: amibump reads %q, %v; want %s", imageID, got, err, name)
	}
	for _, want := range []string{`data_type = "aws:ec2:image"`, `ignore_changes = [value]`, `version = "$Latest"`} {
		if !strings.Contains(regexp.MustCompile(`\s+`).ReplaceAllString(tf, " "), want) {
			t.Errorf("the Terraform example does not say %s", want)
		}
	}
}

// TestREADMELinksTheExamples: the README points at the files this file
// checks, and inlines no copy of them that could drift from what is tested.
func TestREADMELinksTheExamples(t *testing.T) {
	raw, err := os.ReadFile(filepath.Join("..", "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	readme := string(raw)
	for _, name := range []string{"launch-template.tf", "launch-template.yaml"} {
		iacFile(t, name) // the file the link points at exists
		if link := "](testdata/iac/" + name + ")"; !strings.Contains(readme, link) {
			t.Errorf("README.md does not link testdata/iac/%s (want a link ending %q)", name, link)
		}
	}
	for _, fence := range []string{"```hcl", "```yaml", "```terraform"} {
		if strings.Contains(readme, fence) {
			t.Errorf("README.md inlines a %s block: link the file in testdata/iac instead, which the tests check", strings.TrimPrefix(fence, "```"))
		}
	}
}
