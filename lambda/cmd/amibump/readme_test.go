package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/santhosh-tekuri/jsonschema/v6"

	"github.com/amibump/amibump/lambda/event"
)

// The README's examples are exercised here. They are found by the
// "<!-- tested: NAME" comment before each code block in the repository's README.md.
const repoRoot = "../../.."

// readmes returns the documents that carry the tested examples.
func readmes(t *testing.T) map[string]string {
	t.Helper()
	docs := map[string]string{}
	for _, path := range []string{filepath.Join(repoRoot, "README.md")} {
		raw, err := os.ReadFile(path)
		if err == nil && strings.Contains(string(raw), "<!-- tested: jenkins-emit") {
			docs[path] = string(raw)
		}
	}
	if len(docs) == 0 {
		t.Fatal("no README carries the tested examples (<!-- tested: jenkins-emit -->)")
	}
	return docs
}

// block returns the code block that follows "<!-- tested: name".
func block(t *testing.T, doc, name string) string {
	t.Helper()
	_, after, ok := strings.Cut(doc, "<!-- tested: "+name)
	if !ok {
		t.Fatalf("no example marked <!-- tested: %s -->", name)
	}
	m := regexp.MustCompile("(?s)-->\\s*```[a-z]*\\n(.*?)```").FindStringSubmatch(after)
	if m == nil {
		t.Fatalf("no code block after <!-- tested: %s -->", name)
	}
	return m[1]
}

// jenkinsBuild142 is what Jenkins sets for build 142 of job shop-deploy, as in the README.
func jenkinsBuild142(w *world) {
	w.env = map[string]string{
		"BUILD_TAG":  "jenkins-shop-deploy-142",
		"BUILD_URL":  "https://jenkins.example.com/job/shop-deploy/142/",
		"GIT_COMMIT": "9f1c2e7d4b5a69788a7b6c5d4e3f2a1b0c9d8e7f",
		"AWS_REGION": "us-east-1",
	}
}

// words splits a command line with no quoting or expansion (the examples keep to that).
func words(t *testing.T, line string) []string {
	t.Helper()
	if strings.ContainsAny(line, `'"$\`+"`") {
		t.Fatalf("the example %q quotes or expands; keep README command lines plain so that this test can run them", line)
	}
	return strings.Fields(line)
}

// TestReadmeJenkinsfile runs the Jenkinsfile's command line against the fakes,
// with Jenkins' variables, and checks the event on the bus.
func TestReadmeJenkinsfile(t *testing.T) {
	for path, doc := range readmes(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			jenkinsfile := block(t, doc, "jenkins-emit")
			if !strings.Contains(jenkinsfile, "post {") || !strings.Contains(jenkinsfile, "success {") {
				t.Errorf("the Jenkinsfile does not emit from post { success { … } }:\n%s", jenkinsfile)
			}
			if !strings.Contains(jenkinsfile, "withCredentials([aws(") {
				t.Errorf("the Jenkinsfile does not show where the credentials come from (withCredentials):\n%s", jenkinsfile)
			}
			// AWS CLI v1 reads only AWS_DEFAULT_REGION: both are set, to the same region.
			regions := map[string]string{}
			for _, m := range regexp.MustCompile(`(?m)^\s*(AWS_REGION|AWS_DEFAULT_REGION)\s*=\s*'([^']*)'`).FindAllStringSubmatch(jenkinsfile, -1) {
				regions[m[1]] = m[2]
			}
			if regions["AWS_REGION"] == "" || regions["AWS_REGION"] != regions["AWS_DEFAULT_REGION"] {
				t.Errorf("the Jenkinsfile sets AWS_REGION %q and AWS_DEFAULT_REGION %q; want both, the same", regions["AWS_REGION"], regions["AWS_DEFAULT_REGION"])
			}
			m := regexp.MustCompile(`sh '(amibump [^']*)'`).FindStringSubmatch(jenkinsfile)
			if m == nil {
				t.Fatalf("no sh 'amibump …' step in:\n%s", jenkinsfile)
			}
			w := newWorld(t, nil)
			jenkinsBuild142(w)
			delete(w.env, "AWS_REGION")
			for k, v := range regions {
				w.env[k] = v
			}
			code, stdout, stderr := w.amibump(words(t, m[1])[1:]...)
			if code != exitOK {
				t.Fatalf("%s: exit %d\n%s", m[1], code, stderr)
			}
			sent := w.cloud.Events()
			if len(sent) != 1 || strings.TrimSpace(stdout) == "" {
				t.Fatalf("%s: %d events on the bus, stdout %q; want one, and its id", m[1], len(sent), stdout)
			}
			d, err := event.ParseDeploy([]byte(*sent[0].Detail))
			if err != nil || d.Build.ID != "jenkins-shop-deploy-142" || d.Build.Commit != w.env["GIT_COMMIT"] {
				t.Errorf("detail %s (%v); want build jenkins-shop-deploy-142 from BUILD_TAG", *sent[0].Detail, err)
			}
		})
	}
}

// TestReadmePutEventsEntries: the entries the plain AWS CLI example sends are
// what emit --print produces, and the schema and the function accept them.
func TestReadmePutEventsEntries(t *testing.T) {
	for path, doc := range readmes(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			documented := block(t, doc, "put-events-entries")
			w := newWorld(t, nil)
			jenkinsBuild142(w)
			code, printed, stderr := w.amibump("emit", "--app", "shop", "--env", "prod", "--layer", "web", "--group", "a", "--print")
			if code != exitOK {
				t.Fatalf("emit --print: exit %d\n%s", code, stderr)
			}
			var want, got []putEntry
			if err := json.Unmarshal([]byte(printed), &want); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal([]byte(documented), &got); err != nil {
				t.Fatalf("the README's entries are not JSON: %v", err)
			}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("README entries differ from emit --print (-print +readme):\n%s", diff)
			}
			if len(got) != 1 {
				t.Fatalf("%d entries, want 1", len(got))
			}
			e := got[0]
			if _, err := event.ParseDeploy([]byte(e.Detail)); err != nil {
				t.Errorf("the function would reject the README's detail: %v", err)
			}
			checkSchema(t, e)

			// The Groovy that writes the file names the same fields and values.
			groovy := block(t, doc, "put-events-jenkins")
			for _, want := range []string{"[Source: 'ci.jenkins', DetailType: 'deploy-finished', EventBusName: 'amibump', Detail: detail]",
				"app: 'shop', env: 'prod', layer: 'web', group: 'a'", "build: [id: env.BUILD_TAG, url: env.BUILD_URL, commit: env.GIT_COMMIT]",
				`writeFile file: 'amibump-entries.json', text: "[${entry}]"`, "file://amibump-entries.json", `"FailedEntryCount": 0`} {
				if !strings.Contains(groovy, want) {
					t.Errorf("the put-events Jenkinsfile does not say %q", want)
				}
			}
		})
	}
}

// TestReadmeEmitterPolicy: the emitter's policy is JSON that allows
// events:PutEvents on the bus and nothing else.
func TestReadmeEmitterPolicy(t *testing.T) {
	for path, doc := range readmes(t) {
		var policy struct {
			Version   string
			Statement []struct{ Effect, Action, Resource string }
		}
		if err := json.Unmarshal([]byte(block(t, doc, "emitter-policy")), &policy); err != nil {
			t.Fatalf("%s: the emitter's policy is not JSON: %v", path, err)
		}
		if len(policy.Statement) != 1 || policy.Version != "2012-10-17" {
			t.Fatalf("%s: policy %+v; want one statement, version 2012-10-17", path, policy)
		}
		st := policy.Statement[0]
		if st.Effect != "Allow" || st.Action != "events:PutEvents" || !regexp.MustCompile(`^arn:aws:events:[a-z0-9-]+:123456789012:event-bus/`+event.DefaultBusName+`$`).MatchString(st.Resource) {
			t.Errorf("%s: statement %+v; want Allow events:PutEvents on the bus %s", path, st, event.DefaultBusName)
		}
	}
}

// checkSchema validates the event EventBridge would deliver for an entry
// against the registered schema.
func checkSchema(t *testing.T, e putEntry) {
	t.Helper()
	doc, err := jsonschema.UnmarshalJSON(bytes.NewReader(event.DeployFinishedSchema))
	if err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	c.DefaultDraft(jsonschema.Draft4)
	if err := c.AddResource("mem://schema.json", doc); err != nil {
		t.Fatal(err)
	}
	sch, err := c.Compile("mem://schema.json")
	if err != nil {
		t.Fatal(err)
	}
	delivered := `{"version":"0","id":"x","detail-type":"` + e.DetailType + `","source":"` + e.Source +
		`","account":"123456789012","time":"2026-11-26T02:15:00Z","region":"us-east-1","resources":[],"detail":` + e.Detail + `}`
	inst, err := jsonschema.UnmarshalJSON(strings.NewReader(delivered))
	if err != nil {
		t.Fatal(err)
	}
	if err := sch.Validate(inst); err != nil {
		t.Errorf("the schema rejects the README's event: %v", err)
	}
}

// TestReadmeLaptop runs each amibump line of the laptop example.
func TestReadmeLaptop(t *testing.T) {
	for path, doc := range readmes(t) {
		t.Run(filepath.Base(path), func(t *testing.T) {
			w := newWorld(t, nil)
			for _, line := range strings.Split(block(t, doc, "laptop"), "\n") {
				if !strings.HasPrefix(line, "amibump ") {
					continue
				}
				args := words(t, line)[1:]
				for i, a := range args {
					switch {
					case strings.HasPrefix(a, "testdata/events/"):
						args[i] = sample(t, strings.TrimPrefix(a, "testdata/events/")) // on the world's epoch
					case strings.HasSuffix(a, ".json"):
						args[i] = filepath.Join(repoRoot, a) // paths in the README are from the repository's root
					}
				}
				code, stdout, stderr := w.amibump(args...)
				if code != exitOK {
					t.Errorf("%s: exit %d\n%s%s", line, code, stdout, stderr)
				}
				if w.profile != "prod" {
					t.Errorf("%s: profile %q, want prod", line, w.profile)
				}
			}
			if latest, _, _ := w.head(); latest != 2 {
				t.Errorf("after the example's run, $Latest is version %d, want 2", latest)
			}
		})
	}
}

// TestReadmeExitCodes: the README's table lists the codes the command uses.
func TestReadmeExitCodes(t *testing.T) {
	for path, doc := range readmes(t) {
		for _, code := range []int{exitOK, exitInvalid, exitRejected, exitFailure, exitInterrupted} {
			if !regexp.MustCompile(`(?m)^\| ` + strconv.Itoa(code) + ` \| `).MatchString(doc) {
				t.Errorf("%s: the exit code table has no row for %d", path, code)
			}
		}
	}
}
