package main

import (
	"bufio"
	"context"
	"io"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/ec2"
)

// TestServe: -serve prints export lines that reach a seeded endpoint, keeps
// it up while asked, and stops it on Ctrl-C (the context's end).
func TestServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	r, w := io.Pipe()
	done := make(chan error, 1)
	go func() {
		err := serve(ctx, printer{w}, 0)
		_ = w.Close()
		done <- err
	}()

	env := map[string]string{}
	sc := bufio.NewScanner(r)
	for sc.Scan() && !strings.Contains(sc.Text(), "Ctrl-C stops") {
		line := strings.TrimSpace(sc.Text())
		if !strings.HasPrefix(line, "export ") {
			continue
		}
		for _, kv := range strings.Fields(strings.TrimPrefix(line, "export ")) {
			k, v, _ := strings.Cut(kv, "=")
			env[k] = v
		}
	}
	go func() { _, _ = io.Copy(io.Discard, r) }()
	for _, k := range []string{"AWS_ENDPOINT_URL", "AWS_REGION", "AWS_DEFAULT_REGION", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"} {
		if env[k] == "" {
			t.Fatalf("no export of %s in the printed lines; got %v", k, env)
		}
	}

	client := ec2.New(ec2.Options{
		Region:       env["AWS_REGION"],
		BaseEndpoint: aws.String(env["AWS_ENDPOINT_URL"]),
		Credentials:  credentials.NewStaticCredentialsProvider(env["AWS_ACCESS_KEY_ID"], env["AWS_SECRET_ACCESS_KEY"], ""),
	})
	out, err := client.DescribeLaunchTemplates(ctx, &ec2.DescribeLaunchTemplatesInput{})
	if err != nil {
		t.Fatalf("the endpoint the lines point at: %v", err)
	}
	if len(out.LaunchTemplates) == 0 {
		t.Error("the endpoint has no launch templates; want the seeded account's")
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("serve after Ctrl-C: %v, want nil", err)
	}
	if _, err := client.DescribeLaunchTemplates(context.Background(), &ec2.DescribeLaunchTemplatesInput{}); err == nil {
		t.Error("the endpoint still answers after Ctrl-C")
	}
}
