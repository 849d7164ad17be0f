// Command amibump is amibump's command-line tool, for CI pipelines and laptops:
// emit puts a deploy-finished event on the bus, plan runs the function's dry
// run locally and prints what it would do, and run processes an event locally
// with the caller's credentials, exactly as the function would (the
// break-glass path when the function is down); rollback puts a
// rollback-requested event on the bus (or, --local, runs it); status shows, read-only, what
// every managed launch template and its groups launch now. It shares the event types and
// their validation with the function (package event) and runs the function's
// own pipeline (package bump).
//
// main wires the real SDK clients; everything else is in run, which tests
// call in-process with fake clients.
package main

import (
	"context"
	"fmt"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"
	"github.com/aws/aws-sdk-go-v2/service/sts"
	"github.com/aws/smithy-go/logging"

	"github.com/amibump/amibump/lambda/bump"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	s := newSDK()
	code := run(ctx, os.Args[1:], os.Getenv, os.Stdout, os.Stderr, s.clients, time.Now, withStdin(os.Stdin), withScope(s.scope), withAccountClients(s.scopeClients)) //nolint:forbidigo // the production clock
	stop()
	os.Exit(code)
}

// stsTimeout bounds the account lookup of the headers: an STS endpoint that
// cannot be reached must not hold up the command.
const stsTimeout = 5 * time.Second

// sdk builds the SDK configuration once per profile and region, from the
// standard credential and region chain (environment, shared config and
// credentials files, SSO, web identity, container and instance roles), with
// --profile and --region on top, and makes every client of the command from
// it: one credentials cache, so an assumed role or an SSO token is fetched
// once, not once per client. AWS_ENDPOINT_URL and AWS_ENDPOINT_URL_<SERVICE>
// are honoured by the SDK.
type sdk struct {
	mu         sync.Mutex
	configs    map[[2]string]aws.Config
	stsTimeout time.Duration
}

func newSDK() *sdk { return &sdk{configs: map[[2]string]aws.Config{}, stsTimeout: stsTimeout} }

// config is the SDK configuration for a profile and region, loaded on first use.
func (s *sdk) config(ctx context.Context, profile, region string) (aws.Config, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := [2]string{profile, region}
	if cfg, ok := s.configs[key]; ok {
		return cfg, nil
	}
	cfg, err := loadConfig(ctx, profile, region)
	if err == nil {
		s.configs[key] = cfg
	}
	return cfg, err
}

// clients builds the clients of the profile's credentials in a region.
func (s *sdk) clients(ctx context.Context, profile, region string) (bump.Clients, error) {
	return s.scopeClients(ctx, profile, bump.Scope{Region: region}, "")
}

// scopeClients builds the clients of one scope (bump.NewClients): with the
// profile's own credentials when role is "", else under role (a name in
// scope's account, or an ARN) assumed with them. Reading several accounts and
// regions is calling it for each.
func (s *sdk) scopeClients(ctx context.Context, profile string, scope bump.Scope, role string) (bump.Clients, error) {
	cfg, err := s.config(ctx, profile, scope.Region)
	if err != nil {
		return bump.Clients{}, err
	}
	if role == "" {
		return bump.NewClients(cfg, scope), nil
	}
	clients, err := bump.AssumeRoleClients(cfg, scope, role)
	if err != nil {
		return bump.Clients{}, usageError{err}
	}
	return clients, nil
}

// scope reads the account of the credentials (STS GetCallerIdentity, which
// needs no permission, within stsTimeout) and the region the clients use, for
// the headers; "" for what it cannot read (STS unreachable, or not activated
// in the region).
func (s *sdk) scope(ctx context.Context, profile, region string) (account, resolvedRegion string) {
	cfg, err := s.config(ctx, profile, region)
	if err != nil {
		return "", region
	}
	ctx, cancel := context.WithTimeout(ctx, s.stsTimeout)
	defer cancel()
	out, err := sts.NewFromConfig(cfg).GetCallerIdentity(ctx, &sts.GetCallerIdentityInput{})
	if err != nil {
		return "", cfg.Region
	}
	return aws.ToString(out.Account), cfg.Region
}

func loadConfig(ctx context.Context, profile, region string) (aws.Config, error) {
	opts := []func(*config.LoadOptions) error{
		config.WithRetryer(func() aws.Retryer { return bump.NewRetryer(1) }),
		// The SDK's own warnings (a response without a checksum, a deprecated
		// setting) are for its developers: kept off a person's terminal and
		// the CI log, where amibump's output is the contract.
		config.WithLogger(logging.Nop{}),
		config.WithClientLogMode(0),
	}
	if profile != "" {
		opts = append(opts, config.WithSharedConfigProfile(profile))
	}
	if region != "" {
		opts = append(opts, config.WithRegion(region))
	}
	cfg, err := config.LoadDefaultConfig(ctx, opts...)
	if err != nil {
		return cfg, usageError{fmt.Errorf("load the AWS configuration: %w", err)}
	}
	if cfg.Region == "" {
		return cfg, usageError{fmt.Errorf("no AWS region: pass --region, set AWS_REGION, or set region in the profile")}
	}
	return cfg, nil
}
