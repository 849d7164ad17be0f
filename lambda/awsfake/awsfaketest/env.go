// Package awsfaketest is amibump's one test environment: an awsfake.World
// with the default account's key, seeded as the tests need (SeedShop,
// SeedFleet), the sample events of testdata/events moved to the World's epoch,
// fake clients for a scope, the World's clock, the stack's role
// (testdata/iam/function-role.json) and the World served over HTTP (awssim).
// The tests of lambda/bump, the CLI, the end-to-end harness (lambda/local),
// the demo and the benchmark build their worlds here; a new scope (account or
// region) is a Cloud of the World (Env.Cloud), served to the clients signed
// for it.
package awsfaketest

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awssim"
)

// Env is a test world: an awsfake.World where awsfake.DefaultAccessKey signs
// as the default scope's account.
type Env struct {
	World *awsfake.World
	// Cloud is the default scope's (awsfake.DefaultScope), where the sample
	// events' account and region are.
	Cloud *awsfake.Cloud
}

// New returns an empty test world: opts apply to every Cloud it makes
// (awsfake.WithClock sets its one clock).
func New(opts ...awsfake.Option) *Env {
	w := awsfake.NewWorld(opts...)
	w.AddAccessKey(awsfake.DefaultAccessKey, awsfake.DefaultScope.Account, "amibump")
	return &Env{World: w, Cloud: w.Cloud(awsfake.DefaultScope)}
}

// Clock is the World's clock: hand it to whatever the test builds on the
// World (a Bumper, the CLI) so that both agree on the time.
func (e *Env) Clock() awsfake.Clock { return e.World.Clock() }

// Now is the World's time.
func (e *Env) Now() time.Time { return e.World.Clock().Now() }

// Scope returns the Cloud of another scope (made on first use).
func (e *Env) Scope(s awsfake.Scope) *awsfake.Cloud { return e.World.Cloud(s) }

// Clients are the fake clients of one scope, as amibump's code takes them;
// each is safe for concurrent use.
type Clients struct {
	Scope       awsfake.Scope
	EC2         *awsfake.EC2
	AutoScaling *awsfake.AutoScaling
	EventBridge *awsfake.EventBridge
	SSM         *awsfake.SSM
}

// Clients returns the fake clients of a scope (its Cloud made on first use).
func (e *Env) Clients(s awsfake.Scope) Clients {
	c := e.World.Cloud(s)
	return Clients{Scope: s, EC2: c.EC2(), AutoScaling: c.AutoScaling(), EventBridge: c.EventBridge(), SSM: c.SSM()}
}

// SeedShop seeds the default scope with the sample shop (awsfake.SeedShop).
func (e *Env) SeedShop(templateTags map[string]string) awsfake.Shop {
	return awsfake.SeedShop(e.Cloud, templateTags)
}

// Serve starts a local AWS endpoint (awssim) for the World on a free port of
// 127.0.0.1, serving each request from the Cloud its signature names, and
// returns it with its URL. The caller closes it.
func (e *Env) Serve() (*awssim.Server, string, error) {
	sim := awssim.NewWorld(e.World)
	url, err := sim.Start(0)
	if err != nil {
		return nil, "", err
	}
	return sim, url, nil
}

// SDKConfig is an SDK configuration for an endpoint at url, signed for a
// scope of the World: the region is the scope's, the key the default one
// (awsfake.DefaultAccessKey) for the default account, else key.
func SDKConfig(url string, s awsfake.Scope, key string) aws.Config {
	if key == "" {
		key = awsfake.DefaultAccessKey
	}
	return aws.Config{
		Region:       s.Region,
		Credentials:  credentials.NewStaticCredentialsProvider(key, "local", ""),
		BaseEndpoint: aws.String(url),
	}
}

// Root finds the checkout (the directory with go.mod and testdata/events)
// from the working directory: tests run in their package's directory, the
// demo and the benchmark at the root.
func Root() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			if _, err := os.Stat(filepath.Join(d, "testdata", "events")); err == nil {
				return d, nil
			}
		}
		if filepath.Dir(d) == d {
			return "", errors.New("run inside the amibump checkout: " + dir + " is not")
		}
	}
}

// SamplePath is the path of a file of testdata/events, as written (for its
// date, awsfake.DefaultEpoch's day).
func SamplePath(name string) (string, error) {
	root, err := Root()
	if err != nil {
		return "", err
	}
	return filepath.Join(root, "testdata", "events", name), nil
}

// Sample reads a file of testdata/events with its time moved with the
// World's epoch (awsfake.ShiftEvent): a sample deploy is never one from the
// future.
func Sample(name string) ([]byte, error) {
	path, err := SamplePath(name)
	if err != nil {
		return nil, err
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("sample event: %w", err)
	}
	return awsfake.ShiftEvent(raw), nil
}

// FunctionRole is the permission set of the stack's function role as
// synthesized (testdata/iam/function-role.json, which the infra tests write):
// a World's Cloud under it (Cloud.SetPolicy) denies what the role does not
// grant, as AWS would.
func FunctionRole() (awsfake.Policy, error) {
	root, err := Root()
	if err != nil {
		return awsfake.Policy{}, err
	}
	return awsfake.ReadPolicy(filepath.Join(root, "testdata", "iam", "function-role.json"))
}

// Edit changes an event (JSON, such as a Sample): each key of changes is a
// path of fields, "id", "time", "detail.build.id", made when missing; a nil
// value removes the field.
func Edit(raw []byte, changes map[string]any) ([]byte, error) {
	var m map[string]any
	if err := json.Unmarshal(raw, &m); err != nil {
		return nil, fmt.Errorf("edit an event: %w", err)
	}
	for path, v := range changes {
		keys := strings.Split(path, ".")
		node := m
		for _, k := range keys[:len(keys)-1] {
			next, ok := node[k].(map[string]any)
			if !ok {
				next = map[string]any{}
				node[k] = next
			}
			node = next
		}
		if v == nil {
			delete(node, keys[len(keys)-1])
		} else {
			node[keys[len(keys)-1]] = v
		}
	}
	return json.Marshal(m)
}
