// Command bootstrap is the amibump Lambda function: wiring only. Settings come
// from the environment (bump.ConfigFromEnv), the SDK clients are built once for
// the function's region (bump.NewClients) and, on first use, for each region
// a template replicates from, and every event goes to bump.Bumper.Handle.
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strings"
	"sync"

	"github.com/aws/aws-lambda-go/lambda"
	"github.com/aws/aws-lambda-go/lambdacontext"
	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/amibump/amibump/lambda/bump"
)

func main() {
	log := slog.New(&requestIDHandler{slog.NewJSONHandler(os.Stdout, &slog.HandlerOptions{
		Level:       logLevel(os.Getenv("AWS_LAMBDA_LOG_LEVEL")),
		ReplaceAttr: lambdacontext.ReplaceAttr,
	})})
	cfg, err := bump.ConfigFromEnv(os.Getenv)
	if err != nil {
		log.Error("bad settings; the function cannot start", "error", err)
		fmt.Fprintln(os.Stderr, "amibump: bad settings:", err)
		os.Exit(2)
	}
	// The SDK's default chain: credentials from the execution role, region from
	// AWS_REGION, endpoints from AWS_ENDPOINT_URL* when set (local runs).
	// Retries: the SDK's standard retryer with room for throttling (bump.NewRetryer).
	awsCfg, err := config.LoadDefaultConfig(context.Background(), config.WithRetryer(func() aws.Retryer { return bump.NewRetryer(1) }))
	if err != nil {
		log.Error("cannot load AWS configuration", "error", err)
		os.Exit(2)
	}
	// One request budget for the process: every event this environment handles
	// keeps to it. The region is the clients'; the account is the invoked
	// function's (bump.Bumper.Handle reads it from the Lambda context), never
	// the event's, which is the sender's.
	b := bump.ForClients(bump.NewClients(awsCfg, bump.Scope{}), cfg, log).WithBudget(bump.NewBudget(bump.DefaultRates, 1))
	// Templates that replicate from another region (amibump:replicate-from)
	// read their source there: clients for that region, made once each.
	var regions sync.Map
	b = b.WithRegions(func(region string) (bump.Clients, error) {
		if c, ok := regions.Load(region); ok {
			return c.(bump.Clients), nil
		}
		c, _ := regions.LoadOrStore(region, bump.NewClients(awsCfg, bump.Scope{Region: region}))
		return c.(bump.Clients), nil
	})
	lambda.Start(b.Handle)
}

// logLevel reads Lambda's application log level (TRACE, DEBUG, INFO, WARN,
// ERROR, FATAL); INFO when unset.
func logLevel(s string) slog.Level {
	switch strings.ToUpper(s) {
	case "TRACE", "DEBUG":
		return slog.LevelDebug
	case "WARN":
		return slog.LevelWarn
	case "ERROR", "FATAL":
		return slog.LevelError
	}
	return slog.LevelInfo
}

// requestIDHandler adds the invocation's request id to every record. It stands
// in for lambdacontext.NewLogHandler, which writes JSON only when Lambda's log
// format is JSON: amibump's logs are JSON everywhere, the emulator included.
type requestIDHandler struct{ slog.Handler }

func (h *requestIDHandler) Handle(ctx context.Context, r slog.Record) error {
	if lc, ok := lambdacontext.FromContext(ctx); ok {
		r.AddAttrs(slog.String("requestId", lc.AwsRequestID))
	}
	return h.Handler.Handle(ctx, r)
}

func (h *requestIDHandler) WithAttrs(attrs []slog.Attr) slog.Handler {
	return &requestIDHandler{h.Handler.WithAttrs(attrs)}
}

func (h *requestIDHandler) WithGroup(name string) slog.Handler {
	return &requestIDHandler{h.Handler.WithGroup(name)}
}
