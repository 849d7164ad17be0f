// Package local runs amibump on one machine, as Lambda runs it: the real
// bootstrap binary under the AWS Lambda Runtime Interface Emulator (RIE),
// talking to an awssim endpoint instead of AWS. The end-to-end tests and
// `make demo` are built on it.
package local

import (
	"bytes"
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/amibump/amibump/lambda/awsfake"
)

// rie is the emulator's package, a tool dependency in go.mod.
const rie = "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie"

// Binaries are the two programs a local run needs.
type Binaries struct {
	Bootstrap string // the function, built for this machine
	RIE       string // the Runtime Interface Emulator
}

// Build compiles the function (as `make build` does, but for this machine's OS
// and architecture) and the emulator into dir.
func Build(ctx context.Context, dir string) (Binaries, error) {
	root, err := moduleRoot(ctx)
	if err != nil {
		return Binaries{}, err
	}
	b := Binaries{Bootstrap: filepath.Join(dir, "bootstrap"), RIE: filepath.Join(dir, "aws-lambda-rie")}
	builds := [][]string{
		{"build", "-tags", "lambda.norpc", "-trimpath", "-o", b.Bootstrap, "./lambda"},
		{"build", "-trimpath", "-o", b.RIE, rie},
	}
	for _, args := range builds {
		cmd := exec.CommandContext(ctx, "go", args...)
		cmd.Dir = root
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS="+runtime.GOOS, "GOARCH="+runtime.GOARCH)
		if out, err := cmd.CombinedOutput(); err != nil {
			return Binaries{}, fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, out)
		}
	}
	return b, nil
}

func moduleRoot(ctx context.Context) (string, error) {
	out, err := exec.CommandContext(ctx, "go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("find the module: go env GOMOD: %w", err)
	}
	mod := strings.TrimSpace(string(out))
	if mod == "" || mod == os.DevNull {
		return "", errors.New("find the module: run inside the amibump checkout")
	}
	return filepath.Dir(mod), nil
}

// Settings configure the function under the emulator.
type Settings struct {
	Endpoint string        // the awssim URL, set as AWS_ENDPOINT_URL
	Bus      string        // AMIBUMP_EVENT_BUS
	PollMin  time.Duration // AMIBUMP_POLL_MIN
	PollMax  time.Duration // AMIBUMP_POLL_MAX
	Timeout  time.Duration // the function's timeout, whole seconds; 0 = 60s
	MemoryMB int           // AWS_LAMBDA_FUNCTION_MEMORY_SIZE; 0 = the emulator's default
	// Region and AccessKey are the function's AWS_REGION and
	// AWS_ACCESS_KEY_ID: the scope an awssim serving a World answers it from
	// ("" = awsfake.DefaultScope's region and awsfake.DefaultAccessKey).
	Region, AccessKey string
	// LogLevel is the emulator's --log-level ("" = error); info writes its
	// INIT REPORT lines, which InitDuration reads.
	LogLevel string
	// Logs receives the function's JSON logs and the emulator's own lines
	// (nil = discarded).
	Logs io.Writer
}

// Function is a running emulator with the function inside.
type Function struct {
	cmd  *exec.Cmd
	url  string
	done chan struct{}
}

// Start runs the emulator with the bootstrap, on free ports of 127.0.0.1, and
// waits until it accepts invocations. The function sees only the variables
// set here, never the caller's AWS credentials or profile.
func Start(ctx context.Context, b Binaries, s Settings) (*Function, error) {
	ports, err := freePorts(2)
	if err != nil {
		return nil, err
	}
	timeout := s.Timeout
	if timeout <= 0 {
		timeout = time.Minute
	}
	invokeAddr := fmt.Sprintf("127.0.0.1:%d", ports[0])
	cmd := exec.Command(b.RIE,
		"--runtime-interface-emulator-address", invokeAddr,
		"--runtime-api-address", fmt.Sprintf("127.0.0.1:%d", ports[1]),
		"--log-level", cmp.Or(s.LogLevel, "error"),
		b.Bootstrap)
	cmd.Dir = filepath.Dir(b.Bootstrap)
	cmd.Env = []string{
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + os.TempDir(),
		"AWS_ENDPOINT_URL=" + s.Endpoint,
		"AWS_REGION=" + cmp.Or(s.Region, awsfake.DefaultScope.Region),
		"AWS_ACCESS_KEY_ID=" + cmp.Or(s.AccessKey, awsfake.DefaultAccessKey),
		"AWS_SECRET_ACCESS_KEY=local",
		"AWS_EC2_METADATA_DISABLED=true",
		"AWS_CONFIG_FILE=" + os.DevNull,
		"AWS_SHARED_CREDENTIALS_FILE=" + os.DevNull,
		"AWS_LAMBDA_FUNCTION_NAME=amibump",
		"AWS_LAMBDA_FUNCTION_TIMEOUT=" + strconv.Itoa(int(max(timeout, time.Second)/time.Second)),
		"AMIBUMP_EVENT_BUS=" + s.Bus,
	}
	if s.MemoryMB > 0 {
		cmd.Env = append(cmd.Env, "AWS_LAMBDA_FUNCTION_MEMORY_SIZE="+strconv.Itoa(s.MemoryMB))
	}
	if s.PollMin > 0 {
		cmd.Env = append(cmd.Env, "AMIBUMP_POLL_MIN="+s.PollMin.String())
	}
	if s.PollMax > 0 {
		cmd.Env = append(cmd.Env, "AMIBUMP_POLL_MAX="+s.PollMax.String())
	}
	logs := s.Logs
	if logs == nil {
		logs = io.Discard
	}
	cmd.Stdout, cmd.Stderr = logs, logs
	// A process group of its own: Stop ends the emulator and the bootstrap it
	// started together, and a Ctrl-C in the terminal reaches the caller only.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	// A runtime left behind must not keep Wait waiting on the output pipe.
	cmd.WaitDelay = 2 * time.Second
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start the emulator: %w", err)
	}
	f := &Function{cmd: cmd, url: "http://" + invokeAddr + "/2015-03-31/functions/function/invocations", done: make(chan struct{})}
	go func() { _ = cmd.Wait(); close(f.done) }()
	if err := waitListening(ctx, invokeAddr, f.done); err != nil {
		f.Stop()
		return nil, err
	}
	return f, nil
}

func freePorts(n int) ([]int, error) {
	var ports []int
	var lns []net.Listener
	defer func() {
		for _, ln := range lns {
			_ = ln.Close()
		}
	}()
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		lns = append(lns, ln)
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

func waitListening(ctx context.Context, addr string, exited <-chan struct{}) error {
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return errors.New("the emulator exited at start; see its output")
		case <-ctx.Done():
			return ctx.Err()
		default:
		}
		if conn, err := net.DialTimeout("tcp", addr, 100*time.Millisecond); err == nil {
			_ = conn.Close()
			return nil
		}
		time.Sleep(20 * time.Millisecond)
	}
	return fmt.Errorf("the emulator is not listening on %s after 10s", addr)
}

// Invoke sends an event to the function, as Lambda's Invoke API does, and
// returns the function's response payload. A function error (the handler
// returned an error) comes back as a *FunctionError.
func (f *Function) Invoke(ctx context.Context, payload []byte) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, f.url, bytes.NewReader(payload))
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, fmt.Errorf("invoke: %w", err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, fmt.Errorf("invoke: read the response: %w", err)
	}
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("invoke: the emulator answered %s: %s", resp.Status, body)
	}
	if fe := asFunctionError(body); fe != nil {
		return nil, fe
	}
	return body, nil
}

// FunctionError is an error the handler returned: Lambda reports it, and for
// asynchronous invocations (EventBridge) retries the event.
type FunctionError struct {
	Type, Message string
}

func (e *FunctionError) Error() string { return e.Type + ": " + e.Message }

// asFunctionError reads the payload aws-lambda-go sends for a handler error:
// {"errorMessage": "...", "errorType": "..."}.
func asFunctionError(body []byte) *FunctionError {
	var p struct {
		ErrorMessage *string `json:"errorMessage"`
		ErrorType    string  `json:"errorType"`
	}
	if err := json.Unmarshal(body, &p); err != nil || p.ErrorMessage == nil {
		return nil
	}
	return &FunctionError{Type: p.ErrorType, Message: *p.ErrorMessage}
}

// Stop ends the emulator and the function, and waits for them. The emulator
// starts the bootstrap in a process group of its own, so it is asked to shut
// down first (SIGTERM: it stops the runtime), and whatever is left of either is
// killed after that.
func (f *Function) Stop() {
	if f == nil || f.cmd.Process == nil {
		return
	}
	pid := f.cmd.Process.Pid
	runtimes := childPIDs(pid) // before the emulator goes: then they are reparented
	_ = syscall.Kill(-pid, syscall.SIGTERM)
	select {
	case <-f.done:
	case <-time.After(2 * time.Second):
	}
	for _, c := range runtimes {
		_ = syscall.Kill(-c, syscall.SIGKILL)
		_ = syscall.Kill(c, syscall.SIGKILL)
	}
	_ = syscall.Kill(-pid, syscall.SIGKILL)
	select {
	case <-f.done:
	case <-time.After(5 * time.Second):
	}
}

// BootstrapPID is the process id of the function: the emulator's child named
// bootstrap, which the emulator starts at the first invocation.
func (f *Function) BootstrapPID() (int, error) {
	for _, pid := range childPIDs(f.cmd.Process.Pid) {
		stat, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
		if err == nil && bytes.Contains(stat, []byte("(bootstrap")) {
			return pid, nil
		}
	}
	return 0, errors.New("no bootstrap process under the emulator")
}

// InitDuration reads the emulator's "INIT REPORT(durationMs: 5.654000)" in
// logs (the Settings' Logs, with LogLevel info): from the bootstrap's start
// to its first request for an event.
func InitDuration(logs string) (time.Duration, bool) {
	_, rest, ok := strings.Cut(logs, "INIT REPORT(durationMs: ")
	if !ok {
		return 0, false
	}
	v, _, _ := strings.Cut(rest, ")")
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	return time.Duration(f * float64(time.Millisecond)), err == nil
}

// childPIDs lists the processes whose parent is pid, from /proc (none where
// there is no /proc).
func childPIDs(pid int) []int {
	entries, _ := os.ReadDir("/proc")
	var out []int
	for _, e := range entries {
		child, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		// pid (comm) state ppid ...: comm may hold spaces, so read after the last ')'.
		fields := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
		if len(fields) > 1 && fields[1] == strconv.Itoa(pid) {
			out = append(out, child)
		}
	}
	return out
}
