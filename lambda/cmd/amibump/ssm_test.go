package main

import (
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
)

func TestPlanAndRunWithAParameter(t *testing.T) {
	w := newWorld(t, map[string]string{"amibump:ssm-parameter": "/platform/amis/shop-web"})
	code, stdout, stderr := w.amibump("plan", "--ssm-prefix", "/platform/amis/", sample(t, "deploy-finished.json"))
	if code != exitOK || !strings.Contains(stdout, "create SSM parameter /platform/amis/shop-web (String, data type aws:ec2:image") {
		t.Fatalf("plan: exit %d, want 0 and the parameter shown\n%s%s", code, stdout, stderr)
	}
	if _, ok := w.cloud.Parameter("/platform/amis/shop-web"); ok {
		t.Error("plan wrote the parameter")
	}
	// With the default prefix, the tag names a parameter amibump may not write.
	code, stdout, _ = w.amibump("run", sample(t, "deploy-finished.json"))
	if code == exitOK || !strings.Contains(stdout, "outside /amibump/") {
		t.Errorf("run with the default prefix: exit %d, want rejected naming the prefix\n%s", code, stdout)
	}
	code, stdout, stderr = w.amibump("run", "--ssm-prefix", "/platform/amis/", sample(t, "deploy-finished.json"))
	_, _, image := w.head()
	if p, _ := w.cloud.Parameter("/platform/amis/shop-web"); code != exitOK || aws.ToString(p.Value) != image {
		t.Errorf("run: exit %d, parameter %q, want %s\n%s%s", code, aws.ToString(p.Value), image, stdout, stderr)
	}
	code, _, stderr = w.amibump("run", "--ssm-prefix", "platform", sample(t, "deploy-finished.json"))
	if code != exitInvalid || !strings.Contains(stderr, "--ssm-prefix") {
		t.Errorf("bad --ssm-prefix: exit %d, want %d naming the flag\n%s", code, exitInvalid, stderr)
	}
}
