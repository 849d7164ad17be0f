package bump_test

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/amibump/amibump/lambda/bump"
)

func TestConfigFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		want    func(c *bump.Config)
		wantErr []string
	}{
		{"defaults", nil, func(c *bump.Config) {}, nil},
		{"every variable set", map[string]string{"AMIBUMP_EVENT_BUS": "amibump", "AMIBUMP_POLL_MIN": "2s", "AMIBUMP_POLL_MAX": "30s", "AMIBUMP_PENDING_LIMIT": "3h", "AMIBUMP_CONCURRENCY": "16", "AMIBUMP_SSM_PREFIX": "/platform/releases/", "AMIBUMP_CLOCK_SKEW": "90s",
			"AMIBUMP_RECONCILE_PERIOD": "10m"},
			func(c *bump.Config) {
				c.EventBus, c.PollMin, c.PollMax, c.PendingLimit, c.Concurrency = "amibump", 2*time.Second, 30*time.Second, 3*time.Hour, 16
				c.SSMPrefix, c.ClockSkew, c.ReconcilePeriod = "/platform/releases/", 90*time.Second, 10*time.Minute
			}, nil},
		{"every problem at once", map[string]string{"AMIBUMP_POLL_MIN": "5", "AMIBUMP_PENDING_LIMIT": "-1h", "AMIBUMP_CONCURRENCY": "0", "AMIBUMP_SSM_PREFIX": "amibump", "AMIBUMP_CLOCK_SKEW": "0s", "AMIBUMP_RECONCILE_PERIOD": "10"}, nil,
			[]string{`AMIBUMP_POLL_MIN="5": want a positive Go duration`, `AMIBUMP_PENDING_LIMIT="-1h"`, `AMIBUMP_CONCURRENCY="0": want a whole number from 1 to 64`,
				`AMIBUMP_SSM_PREFIX="amibump": want a parameter path that starts and ends with /`, `AMIBUMP_CLOCK_SKEW="0s": want a positive Go duration`,
				`AMIBUMP_RECONCILE_PERIOD="10": want a positive Go duration`}},
		{"copy key", map[string]string{"AMIBUMP_COPY_KMS_KEY_ARN": "arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
			func(c *bump.Config) {
				c.CopyKMSKey = "arn:aws-cn:kms:cn-north-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
			}, nil},
		{"copy key of the function's region", map[string]string{"AWS_REGION": "eusc-de-east-1", "AMIBUMP_COPY_KMS_KEY_ARN": "arn:aws-eusc:kms:eusc-de-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"},
			func(c *bump.Config) {
				c.CopyKMSKey = "arn:aws-eusc:kms:eusc-de-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"
			}, nil},
		{"copy key of another region", map[string]string{"AWS_REGION": "us-west-2", "AMIBUMP_COPY_KMS_KEY_ARN": "arn:aws:kms:us-east-1:123456789012:key/1234abcd-12ab-34cd-56ef-1234567890ab"}, nil,
			[]string{`AMIBUMP_COPY_KMS_KEY_ARN="arn:aws:kms:us-east-1:`, "is a key of us-east-1, and the function runs in us-west-2", "want a key ARN of us-west-2"}},
		{"copy key as an alias", map[string]string{"AMIBUMP_COPY_KMS_KEY_ARN": "alias/dr"}, nil, []string{`AMIBUMP_COPY_KMS_KEY_ARN="alias/dr": want a KMS key ARN`}},
		{"reserved prefix", map[string]string{"AMIBUMP_SSM_PREFIX": "/aws/amibump/"}, nil, []string{"AMIBUMP_SSM_PREFIX", "reserved by AWS"}},
		{"minimum above maximum", map[string]string{"AMIBUMP_POLL_MIN": "20s"}, nil, []string{"AMIBUMP_POLL_MIN=20s is longer than AMIBUMP_POLL_MAX=15s"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := bump.ConfigFromEnv(func(k string) string { return tt.env[k] })
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error, want %q", tt.wantErr)
				}
				for _, want := range tt.wantErr {
					if !strings.Contains(err.Error(), want) {
						t.Errorf("error %q does not say %q", err, want)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			want := bump.Defaults()
			tt.want(&want)
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("config (-want +got):\n%s", diff)
			}
		})
	}
}

// TestLogs: JSON lines, one per step, each with the event id, and the template
// and AMI ids where they apply.
func TestLogs(t *testing.T) {
	w := newWorld(t)
	var buf bytes.Buffer
	log := slog.New(slog.NewJSONHandler(&buf, nil))
	b := bump.New(w.cloud.EC2(), w.cloud.AutoScaling(), w.cloud.EventBridge(), w.cfg, log).WithClock(w.cloud.Clock().Now)
	ctx, cancel := contextWithTimeout(10 * time.Second)
	defer cancel()
	res := one(t, must(b.Handle(ctx, sample(t, "deploy-finished.json"))))
	steps := map[string]map[string]any{}
	for _, line := range strings.Split(strings.TrimSpace(buf.String()), "\n") {
		var rec map[string]any
		if err := json.Unmarshal([]byte(line), &rec); err != nil {
			t.Fatalf("not a JSON line: %s", line)
		}
		if rec["eventId"] != "6a7e8feb-b491-4cf7-a9f1-bf3703467718" {
			t.Errorf("line without the event id: %s", line)
		}
		steps[rec["msg"].(string)] = rec
	}
	for _, step := range []string{"targets resolved", "source picked", "image requested", "image available", "version created", "default version set", "target finished"} {
		rec, ok := steps[step]
		if !ok {
			t.Errorf("no %q line in:\n%s", step, buf.String())
			continue
		}
		if step != "targets resolved" && rec["launchTemplateId"] != w.lt {
			t.Errorf("%q line without the template id: %v", step, rec)
		}
	}
	for _, step := range []string{"image requested", "image available", "version created", "target finished"} {
		if rec := steps[step]; rec != nil && rec["imageId"] != res.ImageID {
			t.Errorf("%q line without the AMI id: %v", step, rec)
		}
	}
}
