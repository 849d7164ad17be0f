package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"sync"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
	"github.com/aws/smithy-go"

	"github.com/amibump/amibump/lambda/bump"
)

// accountClientsFunc builds the clients of one account and region under a
// role assumed in it (main's scopeClients: bump.AssumeRoleClients).
type accountClientsFunc func(ctx context.Context, profile string, scope bump.Scope, role string) (bump.Clients, error)

// withAccountClients gives status --accounts its way into each account.
func withAccountClients(f accountClientsFunc) option { return func(c *cli) { c.accountClients = f } }

// DefaultReadOnlyRole is the role each stack creates for status --accounts.
const DefaultReadOnlyRole = "amibump-readonly"

// statusReaders bounds how many account/region pairs status --accounts reads
// at once: each pair's reads are sequential, so this is the most calls in
// flight, well under the per-account throttling buckets.
const statusReaders = 16

var accountIDPattern = regexp.MustCompile(`^[0-9]{12}$`)

// accountsReport is what status --accounts --json prints: every template of
// every pair read, with its account and region, and the pairs that could not
// be read.
type accountsReport struct {
	Templates []accountTemplate `json:"templates"`
	Errors    []pairError       `json:"errors"`
}

type accountTemplate struct {
	Account, Region string
	templateStatus
}

// MarshalJSON writes the template's status with "account" and "region" first.
func (t accountTemplate) MarshalJSON() ([]byte, error) {
	rest, err := json.Marshal(t.templateStatus)
	if err != nil {
		return nil, err
	}
	head, err := json.Marshal(struct {
		Account string `json:"account"`
		Region  string `json:"region"`
	}{t.Account, t.Region})
	if err != nil {
		return nil, err
	}
	return append(append(head[:len(head)-1], ','), rest[1:]...), nil
}

type pairError struct {
	Account string `json:"account"`
	Region  string `json:"region"`
	Error   string `json:"error"`
}

// statusPairs reads the flags of status --accounts: the account ids and the
// regions, each list without repeats, in the order given.
func statusPairs(accounts, regions string) ([]bump.Scope, error) {
	var problems []string
	ids, names := splitList(accounts), splitList(regions)
	for _, a := range ids {
		if !accountIDPattern.MatchString(a) {
			problems = append(problems, fmt.Sprintf("--accounts: %q is not an account id (12 digits)", a))
		}
	}
	for _, r := range names {
		if !regionPattern.MatchString(r) {
			problems = append(problems, fmt.Sprintf("--regions: %q is not an AWS Region name such as us-east-1", r))
		}
	}
	if len(ids) == 0 {
		problems = append(problems, "--accounts needs at least one account id: --accounts 111111111111,222222222222")
	}
	if len(names) == 0 {
		problems = append(problems, "--accounts needs --regions (or --region): --regions us-east-1,eu-west-1")
	}
	if len(problems) > 0 {
		return nil, usageError{errors.New(strings.Join(problems, "\n"))}
	}
	var pairs []bump.Scope
	for _, a := range ids {
		for _, r := range names {
			pairs = append(pairs, bump.Scope{Partition: bump.PartitionOf(r), Account: a, Region: r})
		}
	}
	return pairs, nil
}

// splitList splits a comma-separated flag, dropping blanks and repeats.
func splitList(s string) []string {
	var out []string
	for _, v := range strings.Split(s, ",") {
		if v = strings.TrimSpace(v); v != "" && !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

// pairResult is what one account/region pair gave.
type pairResult struct {
	report statusReport
	err    error
}

// readAccounts reads every pair under role, statusReaders at a time, with a
// progress line on a terminal's stderr. A pair that fails is kept as its
// error; it does not stop the others.
func (c *cli) readAccounts(ctx context.Context, profile, role string, pairs []bump.Scope, filters []ec2types.Filter) []pairResult {
	results := make([]pairResult, len(pairs))
	slots := make(chan struct{}, statusReaders)
	var wg sync.WaitGroup
	var mu sync.Mutex
	done := 0
	progress := c.stderrIsTerminal() && len(pairs) > 1
	for i, s := range pairs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			slots <- struct{}{}
			defer func() { <-slots }()
			results[i] = c.readPair(ctx, profile, role, s, filters)
			if progress {
				mu.Lock()
				done++
				c.printf(c.stderr, "\ramibump status: read %d of %d account/region pairs", done, len(pairs))
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if progress {
		c.printf(c.stderr, "\r\x1b[K")
	}
	return results
}

// readPair reads one pair under the role assumed in its account.
func (c *cli) readPair(ctx context.Context, profile, role string, s bump.Scope, filters []ec2types.Filter) pairResult {
	clients, err := c.accountClients(ctx, profile, s, role)
	if err != nil {
		return pairResult{err: err}
	}
	asg, ok := clients.AutoScaling.(statusAutoScaling)
	if !ok {
		return pairResult{err: errors.New("the Auto Scaling client cannot describe warm pools (DescribeWarmPool)")}
	}
	r, err := readStatus(ctx, clients.EC2, asg, filters, c.getenv)
	if t := timedOut(ctx, err); t != nil {
		err = t
	}
	return pairResult{report: r, err: err}
}

// pairErrorText is a pair's error for a person: AWS's code and message, and
// what amibump was doing, without the SDK's request ids (which differ from
// run to run).
func pairErrorText(role string, err error) string {
	var apiErr smithy.APIError
	if !errors.As(err, &apiErr) {
		return err.Error()
	}
	doing, _, _ := strings.Cut(err.Error(), ":")
	if strings.Contains(err.Error(), "AssumeRole") {
		doing = "assume role " + role
	}
	return fmt.Sprintf("%s: %s: %s", doing, apiErr.ErrorCode(), apiErr.ErrorMessage())
}

// stderrIsTerminal reports whether stderr is a terminal (the progress line's place).
func (c *cli) stderrIsTerminal() bool {
	f, ok := c.stderr.(*os.File)
	if !ok || c.getenv("TERM") == "dumb" {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// statusAccounts runs status --accounts: every pair read, the templates
// printed by pair, the failed pairs listed; exit 4 (failure, a retry may
// help) when any pair could not be read, 0 when all were.
func (c *cli) statusAccounts(ctx context.Context, a awsFlags, role string, pairs []bump.Scope, filters []ec2types.Filter, jsonOut bool) int {
	if c.accountClients == nil {
		return c.fail("status", errors.New("--accounts is not available here: this build cannot assume roles"), exitInvalid)
	}
	ctx, cancel := withTimeout(ctx, a)
	defer cancel()
	results := c.readAccounts(ctx, a.profile, role, pairs, filters)
	report := accountsReport{Templates: []accountTemplate{}, Errors: []pairError{}}
	for i, r := range results {
		s := pairs[i]
		if r.err != nil {
			report.Errors = append(report.Errors, pairError{Account: s.Account, Region: s.Region, Error: pairErrorText(role, r.err)})
			continue
		}
		for _, t := range r.report.Templates {
			report.Templates = append(report.Templates, accountTemplate{s.Account, s.Region, t})
		}
	}
	code := exitOK
	if len(report.Errors) > 0 {
		code = exitFailure
	}
	if jsonOut {
		c.printJSON(report)
		return code
	}
	for i, r := range results {
		if r.err == nil {
			c.printStatus(r.report, c.now(), pairs[i].String())
			c.printf(c.stdout, "\n")
		}
	}
	for _, e := range report.Errors {
		c.printf(c.stderr, "amibump status: account %s, region %s: %s\n", e.Account, e.Region, e.Error)
	}
	if code != exitOK {
		c.printf(c.stderr, "amibump status: %d of %d account/region pairs could not be read; the others are above\n", len(report.Errors), len(pairs))
	}
	return code
}
