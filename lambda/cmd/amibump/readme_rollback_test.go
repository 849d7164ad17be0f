package main

import (
	"bytes"
	"context"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/event"
)

// rollbackJobParams are the parameters the README's rollback job declares,
// with the kind of each (the symbol that declares it).
var rollbackJobParams = map[string]string{"APP": "string", "ENV": "string", "LAYER": "string", "TO_BUILD": "string", "REASON": "string", "DRY_RUN": "booleanParam"}

// TestReadmeJenkinsRollback runs the rollback job's two command lines as
// Jenkins would: the parameters as environment variables, expanded by sh.
// The dry run plans under the planner's policy and changes nothing; the roll
// back puts exactly one rollback-requested event under the emitter's policy.
func TestReadmeJenkinsRollback(t *testing.T) {
	samples := []struct {
		name   string
		params map[string]string
		want   event.Rollback
	}{
		{"every parameter", map[string]string{"APP": "shop", "ENV": "prod", "LAYER": "web", "TO_BUILD": "jenkins-shop-deploy-141",
			"REASON": `5xx on checkout after 142: "$(touch pwned)" isn't ours`, "DRY_RUN": "true"},
			event.Rollback{App: "shop", Env: "prod", Layer: "web", ToBuild: "jenkins-shop-deploy-141", Reason: `5xx on checkout after 142: "$(touch pwned)" isn't ours`}},
		{"the optional ones empty", map[string]string{"APP": "shop", "ENV": "prod", "LAYER": "", "TO_BUILD": "", "REASON": "5xx on checkout", "DRY_RUN": "true"},
			event.Rollback{App: "shop", Env: "prod", Reason: "5xx on checkout"}},
	}
	for path, doc := range readmes(t) {
		job := block(t, doc, "jenkins-rollback")
		dryLine, realLine := rollbackJobLines(t, job)
		if diff := cmp.Diff(rollbackJobParams, jenkinsParams(job)); diff != "" {
			t.Fatalf("%s: the job's parameters (-want +declared):\n%s", path, diff)
		}
		planner, err := awsfake.ParsePolicy([]byte(block(t, doc, "rollback-planner-policy")))
		if err != nil {
			t.Fatalf("%s: the planner's policy: %v", path, err)
		}
		emitter, err := awsfake.ParsePolicy([]byte(block(t, doc, "emitter-policy")))
		if err != nil {
			t.Fatalf("%s: the emitter's policy: %v", path, err)
		}
		for _, s := range samples {
			t.Run(filepath.Base(path)+"/"+s.name, func(t *testing.T) {
				w := rollbackWorld(t)
				w.env = jenkinsRegions(t, job)
				_, _, before := w.head()

				w.cloud.SetPolicy(&planner)
				code, stdout, stderr := w.amibump(shArgs(t, dryLine, s.params)...)
				if _, _, img := w.head(); code != exitOK || !strings.Contains(stdout, "dry-run") || img != before || len(w.cloud.Events()) != 0 {
					t.Fatalf("dry run: exit %d, $Latest carries %s (was %s), %d events; want 0, unchanged, none\n%s%s", code, img, before, len(w.cloud.Events()), stdout, stderr)
				}
				if d := w.cloud.Denials(); len(d) != 0 {
					t.Errorf("dry run under the planner's policy: denied %q", d)
				}

				w.cloud.SetPolicy(&emitter)
				code, stdout, stderr = w.amibump(shArgs(t, realLine, s.params)...)
				sent := w.cloud.Events()
				if code != exitOK || len(sent) != 1 || strings.TrimSpace(stdout) == "" {
					t.Fatalf("roll back: exit %d, %d events, stdout %q; want 0, one, its id\n%s", code, len(sent), stdout, stderr)
				}
				if aws.ToString(sent[0].DetailType) != event.RollbackRequested || aws.ToString(sent[0].Source) != event.DefaultCISource {
					t.Errorf("entry %s from %s; want %s from %s", aws.ToString(sent[0].DetailType), aws.ToString(sent[0].Source), event.RollbackRequested, event.DefaultCISource)
				}
				got, err := event.ParseRollback([]byte(aws.ToString(sent[0].Detail)))
				if err != nil {
					t.Fatalf("the function would reject the detail: %v", err)
				}
				if diff := cmp.Diff(&s.want, got); diff != "" {
					t.Errorf("detail (-want +got):\n%s", diff)
				}
			})
		}
		// The job's first run, before Jenkins knows the parameters: APP is empty.
		t.Run(filepath.Base(path)+"/APP empty", func(t *testing.T) {
			w := rollbackWorld(t)
			params := map[string]string{"APP": "", "ENV": "", "LAYER": "", "TO_BUILD": "", "REASON": "", "DRY_RUN": "true"}
			for _, line := range []string{dryLine, realLine} {
				if code, _, stderr := w.amibump(shArgs(t, line, params)...); code != exitInvalid || !strings.Contains(stderr, "detail.app (--app) is required") {
					t.Errorf("%s with APP empty: exit %d, %s; want 2, naming --app", line, code, stderr)
				}
			}
			if n := len(w.cloud.Events()); n != 0 {
				t.Errorf("%d events put with APP empty", n)
			}
		})
		// The release put back has a disabled AMI: the dry run checks ec2:EnableImage,
		// which the planner's last statement allows.
		t.Run(filepath.Base(path)+"/a disabled AMI", func(t *testing.T) {
			w := rollbackWorld(t)
			if _, err := w.cloud.EC2().DisableImage(context.Background(), &ec2.DisableImageInput{ImageId: aws.String(w.images[0])}); err != nil {
				t.Fatal(err)
			}
			for _, p := range []struct {
				policy awsfake.Policy
				code   int
				want   string
			}{{planner, exitOK, "enable the disabled AMI " + w.images[0]}, {planner.Without("ec2:EnableImage"), exitRejected, "not allowed to ec2:EnableImage"}} {
				w.cloud.SetPolicy(&p.policy)
				code, stdout, _ := w.amibump(shArgs(t, dryLine, samples[1].params)...)
				if code != p.code || !strings.Contains(stdout, p.want) {
					t.Errorf("dry run: exit %d; want %d and %q\n%s", code, p.code, p.want, stdout)
				}
			}
		})
		// What the README says of a planner that may only read: the plan, then exit 3 naming the checks.
		t.Run(filepath.Base(path)+"/reads only", func(t *testing.T) {
			w := rollbackWorld(t)
			checked := []string{"ec2:CreateTags", "ec2:CreateLaunchTemplateVersion", "ec2:ModifyLaunchTemplate"}
			reads := planner.Without("ec2:EnableImage")
			for _, action := range checked {
				reads = reads.Without(action)
				without := planner.Without(action) // each is needed
				w.cloud.SetPolicy(&without)
				if code, stdout, _ := w.amibump(shArgs(t, dryLine, samples[1].params)...); code != exitRejected || !strings.Contains(stdout, "not allowed to "+action) {
					t.Errorf("dry run without %s: exit %d; want 3, naming it\n%s", action, code, stdout)
				}
			}
			w.cloud.SetPolicy(&reads)
			code, stdout, _ := w.amibump(shArgs(t, dryLine, samples[1].params)...)
			if code != exitRejected || !strings.Contains(stdout, "dry run: not allowed to ec2:CreateTags") || !strings.Contains(stdout, "create version") {
				t.Errorf("dry run with the reads alone: exit %d; want 3, the plan and dry run: not allowed to ec2:CreateTags, …\n%s", code, stdout)
			}
		})
	}
}

// rollbackWorld is a world with two releases deployed (builds 141 and 142):
// one to roll back to.
func rollbackWorld(t *testing.T) *rolledWorld {
	t.Helper()
	w := &rolledWorld{world: newWorld(t, nil)}
	for _, n := range []string{"141", "142"} {
		w.jenkins(n)
		if code, _, stderr := w.amibump("run", "--app", "shop", "--env", "prod"); code != exitOK {
			t.Fatalf("deploy %s: exit %d: %s", n, code, stderr)
		}
		_, _, img := w.head()
		w.images = append(w.images, img)
	}
	return w
}

// rolledWorld is a world with releases deployed, and their AMIs, oldest first.
type rolledWorld struct {
	*world
	images []string
}

// rollbackJobLines returns the command lines of the job's dry-run stage and
// roll-back stage, checking the job's shape: the dry run first, only when
// DRY_RUN is ticked, with --local; each with its credentials.
func rollbackJobLines(t *testing.T, job string) (dry, real string) {
	t.Helper()
	dryAt, realAt := strings.Index(job, "stage('Dry run')"), strings.Index(job, "stage('Roll back')")
	if dryAt < 0 || realAt < dryAt {
		t.Fatalf("the rollback job has no stage('Dry run') followed by stage('Roll back'):\n%s", job)
	}
	dryStage, realStage := job[dryAt:realAt], job[realAt:]
	if !regexp.MustCompile(`when\s*\{\s*expression\s*\{\s*params\.DRY_RUN\s*\}\s*\}`).MatchString(dryStage) {
		t.Errorf("the dry run does not run only when DRY_RUN is ticked (when { expression { params.DRY_RUN } }):\n%s", dryStage)
	}
	line := regexp.MustCompile(`sh '(amibump [^']*)'`)
	for _, st := range []*string{&dryStage, &realStage} {
		if !strings.Contains(*st, "withCredentials([aws(") {
			t.Errorf("a stage does not show where its credentials come from (withCredentials):\n%s", *st)
		}
		m := line.FindAllStringSubmatch(*st, -1)
		if len(m) != 1 {
			t.Fatalf("%d sh 'amibump …' steps in the stage, want one:\n%s", len(m), *st)
		}
		*st = m[0][1]
	}
	dry, real = dryStage, realStage
	if !strings.HasSuffix(dry, " --dry-run --local") || strings.Contains(real, "--dry-run") || strings.Contains(real, "--local") {
		t.Errorf("dry run %q, roll back %q; want the same line, the first ending --dry-run --local", dry, real)
	}
	if strings.TrimSuffix(dry, " --dry-run --local") != real {
		t.Errorf("the two stages pass different flags:\n%s\n%s", dry, real)
	}
	return dry, real
}

// jenkinsParams returns the parameters a Declarative parameters { } block
// declares, with the symbol of each.
func jenkinsParams(job string) map[string]string {
	params := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s*(\w+)\(name: '([^']*)'`).FindAllStringSubmatch(job, -1) {
		params[m[2]] = m[1]
	}
	return params
}

// jenkinsRegions returns the AWS_REGION and AWS_DEFAULT_REGION a
// Jenkinsfile's environment sets, failing unless both are set the same.
func jenkinsRegions(t *testing.T, jenkinsfile string) map[string]string {
	t.Helper()
	regions := map[string]string{}
	for _, m := range regexp.MustCompile(`(?m)^\s*(AWS_REGION|AWS_DEFAULT_REGION)\s*=\s*'([^']*)'`).FindAllStringSubmatch(jenkinsfile, -1) {
		regions[m[1]] = m[2]
	}
	if regions["AWS_REGION"] == "" || regions["AWS_REGION"] != regions["AWS_DEFAULT_REGION"] {
		t.Errorf("the Jenkinsfile sets AWS_REGION %q and AWS_DEFAULT_REGION %q; want both, the same", regions["AWS_REGION"], regions["AWS_DEFAULT_REGION"])
	}
	return regions
}

// shArgs returns the arguments sh passes to amibump for a command line that
// a Jenkinsfile gives sh in single quotes (Groovy interpolates nothing there),
// with the job's parameters in the environment, as Jenkins passes them. The
// line runs in sh -u with only those variables set, so a variable that is not
// a parameter fails; amibump is a shell function that writes each argument
// with its length.
func shArgs(t *testing.T, line string, params map[string]string) []string {
	t.Helper()
	if strings.Contains(line, `\`) {
		t.Fatalf("%q: Groovy reads a backslash in single quotes; keep the line free of them so that sh gets it as written", line)
	}
	script := `amibump() { for a in "$@"; do printf '%d:%s' "${#a}" "$a"; done; }` + "\n" + line
	cmd := exec.Command("sh", "-eu", "-c", script)
	cmd.Dir = t.TempDir() // were the line to run a parameter, nothing it wrote would stay
	cmd.Env = []string{}
	for k, v := range params {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("sh %q with %v: %v\n%s", line, params, err, stderr.String())
	}
	var args []string
	for s := string(out); s != ""; {
		n, rest, ok := strings.Cut(s, ":")
		size, err := strconv.Atoi(n)
		if !ok || err != nil || size > len(rest) {
			t.Fatalf("sh wrote %q, not length:argument pairs", out)
		}
		args, s = append(args, rest[:size]), rest[size:]
	}
	return args
}
