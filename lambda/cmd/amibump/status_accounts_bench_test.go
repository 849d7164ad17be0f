package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awsfake/awsfaketest"
	"github.com/amibump/amibump/lambda/awssim"
)

// BenchmarkStatusAccounts: amibump status --accounts over 50 accounts × 3
// regions with 40 templates each (each with its own group), through the
// local endpoint with 50 ms per AWS call and AWS's throttling buckets on
// every account and region (make bench: statusSecondsAccounts50Regions3,
// goal <= 10 s). STS AssumeRole is served at once (the World's, not a
// Cloud's): one call per pair, not counted in the 50 ms.
func BenchmarkStatusAccounts(b *testing.B) {
	const accounts, templates = 50, 40
	regions := []string{"us-east-1", "eu-west-1", "ap-southeast-2"}
	w := awsfake.NewWorld(awsfake.WithLatency(func(string) time.Duration { return 50 * time.Millisecond }),
		awsfake.WithThrottling(awsfake.Throttling{}))
	w.AddAccessKey("AKIDTOOLING", toolingAccount, "jenkins")
	var ids string
	for i := range accounts {
		id := fmt.Sprintf("%012d", 500000000000+i)
		ids += "," + id
		w.AddRole(id, DefaultReadOnlyRole, awsfake.Trust{Accounts: []string{toolingAccount}})
		for _, r := range regions {
			c := w.Cloud(awsfake.Scope{Account: id, Region: r})
			base := c.AddImage(awsfake.Image{Name: "base-2026-01"})
			for t := range templates {
				awsfaketest.AddTarget(c, base, awsfaketest.Target{Name: fmt.Sprintf("shop-web-%02d", t), Layer: "web", Group: fmt.Sprintf("g%02d", t)})
			}
		}
	}
	sim := awssim.NewWorld(w)
	url, err := sim.Start(0)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { _ = sim.Close() })
	for k, v := range map[string]string{"AWS_ENDPOINT_URL": url, "AWS_ACCESS_KEY_ID": "AKIDTOOLING", "AWS_SECRET_ACCESS_KEY": "local",
		"AWS_REGION": "us-east-1", "AWS_CONFIG_FILE": b.TempDir() + "/none", "AWS_SHARED_CREDENTIALS_FILE": b.TempDir() + "/none", "AWS_PROFILE": ""} {
		b.Setenv(k, v)
	}
	args := []string{"status", "--json", "--timeout", "5m", "--accounts", ids[1:], "--regions", "us-east-1,eu-west-1,ap-southeast-2"}
	b.ResetTimer()
	for range b.N {
		sdk := newSDK()
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, func(string) string { return "" }, &out, &errOut, sdk.clients, w.Clock().Now, withAccountClients(sdk.scopeClients))
		var report accountsReportJSON
		if err := json.Unmarshal(out.Bytes(), &report); code != exitOK || err != nil || len(report.Templates) != accounts*len(regions)*templates || len(report.Errors) != 0 {
			b.Fatalf("exit %d, %d templates, errors %v (%v)\n%s", code, len(report.Templates), report.Errors, err, errOut.String())
		}
	}
	b.ReportMetric(b.Elapsed().Seconds()/float64(b.N), "s/status")
	b.ReportMetric(float64(sim.Requests("DescribeLaunchTemplateVersions"))/float64(b.N), "version-calls")
}

// accountsReportJSON reads status --accounts --json back.
type accountsReportJSON struct {
	Templates []json.RawMessage
	Errors    []pairError
}
