package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/service/ec2"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awssim"
)

// sdkWorld points the standard chain at local stand-ins: credentials from a
// container credentials endpoint that counts its fetches, EC2 at awssim, STS
// at sts (a handler), in region eu-west-1.
func sdkWorld(t *testing.T, sts http.HandlerFunc) (fetches *atomic.Int32) {
	t.Helper()
	fetches = &atomic.Int32{}
	creds := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		fetches.Add(1)
		_, _ = fmt.Fprint(w, `{"AccessKeyId":"AKIDLOCAL","SecretAccessKey":"local","Token":"token","Expiration":"2099-01-01T00:00:00Z"}`)
	}))
	t.Cleanup(creds.Close)
	stsServer := httptest.NewServer(sts)
	t.Cleanup(stsServer.Close)
	sim := awssim.New(awsfake.New())
	url, err := sim.Start(0)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = sim.Close() })
	for k, v := range map[string]string{"AWS_CONTAINER_CREDENTIALS_FULL_URI": creds.URL + "/creds", "AWS_ENDPOINT_URL": url,
		"AWS_ENDPOINT_URL_STS": stsServer.URL, "AWS_REGION": "eu-west-1", "AWS_ACCESS_KEY_ID": "", "AWS_SECRET_ACCESS_KEY": "",
		"AWS_PROFILE": "", "AWS_CONFIG_FILE": t.TempDir() + "/none", "AWS_SHARED_CREDENTIALS_FILE": t.TempDir() + "/none"} {
		t.Setenv(k, v)
	}
	return fetches
}

func callerIdentity(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/xml")
	_, _ = fmt.Fprint(w, `<GetCallerIdentityResponse xmlns="https://sts.amazonaws.com/doc/2011-06-15/"><GetCallerIdentityResult>`+
		`<Arn>arn:aws:iam::123456789012:user/ci</Arn><UserId>AIDAEXAMPLE</UserId><Account>123456789012</Account>`+
		`</GetCallerIdentityResult><ResponseMetadata><RequestId>1</RequestId></ResponseMetadata></GetCallerIdentityResponse>`)
}

// TestSDKFetchesCredentialsOnce: the clients and the headers' account lookup
// share one SDK configuration, so credentials are fetched once per command.
func TestSDKFetchesCredentialsOnce(t *testing.T) {
	fetches := sdkWorld(t, callerIdentity)
	s, ctx := newSDK(), context.Background()
	ec, _, _, err := s.clients(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ec.DescribeImages(ctx, &ec2.DescribeImagesInput{Owners: []string{"self"}}); err != nil {
		t.Fatal(err)
	}
	if account, region := s.scope(ctx, "", ""); account != "123456789012" || region != "eu-west-1" {
		t.Errorf("scope: got %q, %q, want 123456789012, eu-west-1", account, region)
	}
	if _, err := s.ssm(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("credentials fetched %d times, want once", n)
	}
}

// TestSDKScopeWithoutSTS: an STS that does not answer, or refuses (not
// activated in the region), leaves the account unknown, said so in the
// header, and holds the command up no longer than the lookup's bound.
func TestSDKScopeWithoutSTS(t *testing.T) {
	tests := []struct {
		name string
		sts  http.HandlerFunc
	}{
		{"no answer", func(_ http.ResponseWriter, r *http.Request) {
			_, _ = io.Copy(io.Discard, r.Body) // then the server notices the client hanging up
			<-r.Context().Done()
		}},
		{"not activated in the region", func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "text/xml")
			w.WriteHeader(http.StatusForbidden)
			_, _ = fmt.Fprint(w, `<ErrorResponse><Error><Type>Sender</Type><Code>RegionDisabledException</Code>`+
				`<Message>STS is not activated in this region for account:123456789012.</Message></Error><RequestId>1</RequestId></ErrorResponse>`)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sdkWorld(t, tt.sts)
			s := newSDK()
			s.stsTimeout = 50 * time.Millisecond
			c := &cli{scope: s.scope}
			if got := c.where(context.Background()); !strings.Contains(got, "account "+unknownAccount+", region eu-west-1") {
				t.Errorf("header: got %q, want the account unknown, saying why, and region eu-west-1", got)
			}
		})
	}
}
