package main

import (
	"bytes"
	"context"
	"encoding/json"
	"strings"
	"testing"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/golden"
)

const deniedAccount = "444444444444" // has the role, but its trust names another account

// statusAccountsSim is accountsSim with amibump-readonly in three accounts:
// the member's trusts the organisation (readOnlyTrust o-...), the outside
// account's trusts the tooling account by id, the denied account's trusts
// only the outside account. Each account has the shop's template in
// us-east-1 and eu-west-1.
func statusAccountsSim(t *testing.T) func(args ...string) (int, string, string) {
	t.Helper()
	w, _ := accountsSim(t)
	w.EnableRegion("eu-west-1")
	w.AddRole(memberAccount, DefaultReadOnlyRole, awsfake.Trust{OrgID: exampleOrgID})
	w.AddRole(outsideAccount, DefaultReadOnlyRole, awsfake.Trust{Accounts: []string{toolingAccount}})
	w.AddRole(deniedAccount, DefaultReadOnlyRole, awsfake.Trust{Accounts: []string{outsideAccount}})
	for _, a := range []string{memberAccount, outsideAccount, deniedAccount} {
		for _, r := range []string{"us-east-1", "eu-west-1"} {
			awsfake.SeedShop(w.Cloud(awsfake.Scope{Account: a, Region: r}), map[string]string{"amibump:group": r})
		}
	}
	return func(args ...string) (int, string, string) {
		t.Setenv("AWS_ACCESS_KEY_ID", "AKIDTOOLING")
		sdk := newSDK()
		var out, errOut bytes.Buffer
		code := run(context.Background(), args, func(string) string { return "" }, &out, &errOut, sdk.clients, w.Clock().Now, withAccountClients(sdk.scopeClients))
		return code, out.String(), errOut.String()
	}
}

// TestStatusAccounts: status --accounts reads every account/region pair
// under amibump-readonly assumed in each account, through the local
// endpoint; the account whose role's trust does not allow the caller is
// reported (errors, stderr) and does not hide the others, and the exit code
// is 4 (partial). The JSON shape is golden (status-accounts.json).
func TestStatusAccounts(t *testing.T) {
	amibump := statusAccountsSim(t)
	args := []string{"status", "--accounts", memberAccount + "," + deniedAccount + "," + outsideAccount, "--regions", "us-east-1,eu-west-1"}

	code, stdout, stderr := amibump(append(args, "--json")...)
	if code != exitFailure {
		t.Errorf("--json: exit %d, want 4 (one account could not be read)\n%s", code, stderr)
	}
	golden.Check(t, "status-accounts.json", []byte(stdout))
	var report struct {
		Templates []struct{ Account, Region, LaunchTemplateName, Group string }
		Errors    []struct{ Account, Region, Error string }
	}
	if err := json.Unmarshal([]byte(stdout), &report); err != nil {
		t.Fatalf("--json: %v\n%s", err, stdout)
	}
	if len(report.Templates) != 4 {
		t.Errorf("%d templates, want 4 (2 readable accounts × 2 regions): %+v", len(report.Templates), report.Templates)
	}
	for _, tmpl := range report.Templates {
		if tmpl.Account == deniedAccount || tmpl.Group != tmpl.Region {
			t.Errorf("template %+v: from the denied account, or not its own region's", tmpl)
		}
	}
	if len(report.Errors) != 2 {
		t.Fatalf("errors = %+v, want the denied account in both regions", report.Errors)
	}
	for _, e := range report.Errors {
		if e.Account != deniedAccount || !strings.Contains(e.Error, "assume role amibump-readonly: AccessDenied") {
			t.Errorf("error %+v: want the denied account's AccessDenied on assuming the role", e)
		}
	}

	code, stdout, stderr = amibump(args...)
	if code != exitFailure || strings.Count(stdout, "shop-web-prod-a (lt-") != 4 ||
		!strings.Contains(stderr, "account "+deniedAccount+", region eu-west-1: assume role amibump-readonly: AccessDenied") ||
		!strings.Contains(stderr, "2 of 6 account/region pairs could not be read") {
		t.Errorf("text: exit %d, want 4 with 4 templates and the denied pairs on stderr\n%s\n%s", code, stdout, stderr)
	}
	if !strings.Contains(stdout, "In account "+memberAccount+", region eu-west-1:") {
		t.Errorf("text: each pair's templates under its account and region\n%s", stdout)
	}

	code, _, stderr = amibump("status", "--accounts", memberAccount, "--regions", "us-east-1", "--role", "missing")
	if code != exitFailure || !strings.Contains(stderr, "AccessDenied") {
		t.Errorf("a role that does not exist: exit %d, want 4 with AccessDenied\n%s", code, stderr)
	}
	code, _, stderr = amibump("status", "--accounts", memberAccount, "--regions", "ap-south-1")
	if code != exitFailure || !strings.Contains(stderr, "ap-south-1") {
		t.Errorf("a region the account cannot use: exit %d, want 4 naming it\n%s", code, stderr)
	}
	if code, stdout, _ := amibump("status", "--accounts", memberAccount+","+outsideAccount, "--regions", "us-east-1"); code != exitOK || strings.Count(stdout, "shop-web-prod-a (lt-") != 2 {
		t.Errorf("every pair readable: exit %d, want 0\n%s", code, stdout)
	}
}

// TestStatusAccountsFlags: bad account ids and regions are invalid input
// (exit 2) saying what is allowed.
func TestStatusAccountsFlags(t *testing.T) {
	amibump := statusAccountsSim(t)
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--accounts", "12345", "--regions", "us-east-1"}, `"12345" is not an account id (12 digits)`},
		{[]string{"--accounts", memberAccount, "--regions", "Europe"}, `"Europe" is not an AWS Region name`},
		{[]string{"--regions", "us-east-1"}, "--accounts needs at least one account id"},
	} {
		code, _, stderr := amibump(append([]string{"status"}, c.args...)...)
		if code != exitInvalid || !strings.Contains(stderr, c.want) {
			t.Errorf("%v: exit %d, want 2 saying %q\n%s", c.args, code, c.want, stderr)
		}
	}
}
