package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/amibump/amibump/lambda/awsfake"
	"github.com/amibump/amibump/lambda/awsfake/awsfaketest"
	"github.com/amibump/amibump/lambda/local"
)

func main() {
	verbose := flag.Bool("v", false, "print the benchmarks' and builds' own output too")
	asJSON := flag.Bool("json", false, "print the figures as one JSON object instead of the table")
	flag.Parse()
	if err := run(*verbose, *asJSON); err != nil {
		fmt.Fprintln(os.Stderr, "bench:", err)
		os.Exit(1)
	}
}

// row is one line of the table: figure, what, measured, goal, verdict.
type row struct{ fig, what, got, goal, ok string }

// report collects the table's rows and the figures -json prints.
type report struct {
	rows    []row
	figures map[string]float64
}

func (r *report) add(fig, what, got, goal string, ok *bool) {
	v := ""
	if ok != nil {
		v = map[bool]string{true: "ok", false: "MISSED"}[*ok]
	}
	r.rows = append(r.rows, row{fig, what, got, goal, v})
}

func yes(b bool) *bool { return &b }

func run(verbose, asJSON bool) error {
	ctx := context.Background()
	if _, err := os.Stat("go.mod"); err != nil {
		return errors.New("run from the module root (make bench does)")
	}
	started := time.Now()
	rep := &report{figures: map[string]float64{}}
	step := func(s string) { fmt.Fprintf(os.Stderr, "bench: %s\n", s) }

	step("scenario benchmarks (figures 1-4, about 100s)")
	scen, err := goBench(ctx, verbose, "BenchmarkAvailableToVersion|BenchmarkCallsPerBump|BenchmarkFanOut|BenchmarkThrottledFanOut|BenchmarkReconcile|BenchmarkRollback", "1x")
	if err != nil {
		return err
	}
	step("handler benchmark (figure 6)")
	hand, err := goBench(ctx, verbose, "BenchmarkHandle", "2s")
	if err != nil {
		return err
	}
	step("status over an organisation (figure 7, about 30s with the set-up)")
	org, err := goBench(ctx, verbose, "BenchmarkStatusAccounts", "1x", "./lambda/cmd/amibump")
	if err != nil {
		return err
	}
	step("a disaster-recovery region (figure 8, about 20s)")
	dr, err := goBench(ctx, verbose, "BenchmarkDRPromotedAfterSource", "1x")
	if err != nil {
		return err
	}
	rep.scenarios(scen)
	if err := rep.binary(ctx, step); err != nil {
		return err
	}
	rep.handler(hand)
	rep.organisation(org)
	rep.replica(dr)
	rep.rollback(scen)
	if asJSON {
		enc := json.NewEncoder(os.Stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep.figures)
	}
	cpu := cpuModel()
	goVersion, _ := exec.CommandContext(ctx, "go", "env", "GOVERSION").Output()
	fmt.Printf("amibump benchmarks: %d CPUs (%s), %s/%s, %s, took %s\n\n", runtime.NumCPU(), cpu, runtime.GOOS, runtime.GOARCH,
		strings.TrimSpace(string(goVersion)), time.Since(started).Round(time.Second))
	return render(os.Stdout, rep.rows)
}

// scenarios adds figures 1 to 4.
func (r *report) scenarios(scen map[string]map[string]float64) {
	f := r.figures
	// 1. Latency added beyond EC2's own work.
	a := scen["AvailableToVersion/amibump-3s-15s"]
	f["addedLatencyP50Seconds"], f["addedLatencyP99Seconds"] = a["p50-s"], a["p99-s"]
	r.add("1", "AMI available -> version, p50 / p99", fmt.Sprintf("%.1f s / %.1f s (shared poll, 3 s tick)", a["p50-s"], a["p99-s"]), "p99 <= 5 s", yes(a["p99-s"] <= 5))

	// 2. Calls per bump.
	for _, name := range []string{"first", "steady"} {
		m := scen["CallsPerBump/"+name]
		var parts []string
		for _, st := range []string{"resolve", "check", "source", "image", "promote", "groups", "retention", "results"} {
			if n := m[st+"-calls"]; n > 0 {
				parts = append(parts, fmt.Sprintf("%s %d", st, int(n)))
			}
		}
		what := "API calls, one template, first bump"
		if name == "first" {
			f["callsFirstBump"] = m["total-calls"]
		}
		if name == "steady" {
			what = "  same at keep=5 (prunes 1)"
			f["callsSteadyBump"] = m["total-calls"]
		}
		r.add(map[string]string{"first": "2", "steady": ""}[name], what,
			fmt.Sprintf("%d (+%d polls): %s", int(m["total-calls"]), int(m["polls"]), strings.Join(parts, ", ")), "<= 10", yes(m["total-calls"] <= 10))
	}

	// 3. Fan-out.
	for _, c := range []struct{ n, conc int }{{1, 8}, {10, 8}, {50, 8}, {200, 8}, {50, 2}, {50, 32}, {200, 2}, {200, 32}} {
		m := scen[fmt.Sprintf("FanOut/templates=%d/concurrency=%d", c.n, c.conc)]
		fig, goal, ok := "", "", (*bool)(nil)
		if c.n == 1 {
			fig = "3"
		}
		if c.n == 50 && c.conc == 8 {
			goal, ok = "wall/T <= 1.2", yes(m["wall/T"] <= 1.2)
		}
		r.add(fig, fmt.Sprintf("fan-out %d, concurrency %d", c.n, c.conc),
			fmt.Sprintf("wall/T %.2f; %d calls, %d in flight, %d/s", m["wall/T"], int(m["calls"]), int(m["peak-in-flight"]), int(m["peak-calls/s"])), goal, ok)
	}
	r.throttled(scen)

	// 4. Reconcile.
	for _, name := range []string{"due", "idle"} {
		m := scen["Reconcile/"+name]
		what := "reconcile 500 templates, all due"
		if name == "idle" {
			what = "  same, nothing due"
		}
		r.add(map[string]string{"due": "4", "idle": ""}[name], what,
			fmt.Sprintf("%d calls (%s); %.0f ms on the fakes, ~%.0f s at AWS's pace", int(m["total-calls"]), opCounts(m), m["cpu-wall-ms"], m["model-wall-s"]), "", nil)
	}
}

// organisation adds figure 7: amibump status --accounts over 50 accounts × 3
// regions × 40 templates, against awssim at 50 ms a call under AWS's buckets.
func (r *report) organisation(org map[string]map[string]float64) {
	m := org["StatusAccounts"]
	r.figures["statusSecondsAccounts50Regions3"] = m["s/status"]
	r.add("7", "status, 50 accounts x 3 regions", fmt.Sprintf("%.1f s: 40 templates each, 50 ms a call, AWS's buckets", m["s/status"]),
		"<= 10 s", yes(m["s/status"] <= 10))
}

// replica adds figure 8: a release followed into a DR region, by push and
// by pull, the copy taking 5 minutes (simulated).
func (r *report) replica(dr map[string]map[string]float64) {
	push, pull := dr["DRPromotedAfterSource/push"], dr["DRPromotedAfterSource/pull"]
	r.figures["drPromotedAfterSourceSecondsPush"] = push["max-s"]
	r.figures["drPromotedAfterSourceSecondsPull"] = pull["max-s"]
	r.add("8", "DR region promoted after the source, push", fmt.Sprintf("%.0f s (p50 %.0f s); copy 300 s, 3 s poll", push["max-s"], push["p50-s"]),
		"<= 306 s", yes(push["max-s"] <= 306))
	r.add("", "  pull (reconcile every 10 min)", fmt.Sprintf("%.0f s (p50 %.0f s)", pull["max-s"], pull["p50-s"]), "<= 900 s", yes(pull["max-s"] <= 900))
}

// rollback adds figure 9: a rollback of 20 templates, until every one has
// its new version and $Default, at AWS's pace (realLatency).
func (r *report) rollback(scen map[string]map[string]float64) {
	m := scen["Rollback"]
	r.figures["rollbackSecondsFanout20"] = m["s/rollback"]
	r.add("9", "rollback, 20 templates", fmt.Sprintf("%.1f s to new versions and $Default (%.1f s with the results); %d calls",
		m["s/rollback"], m["s/event"], int(m["calls"])), "< 3 s", yes(m["s/rollback"] < 3))
}

// throttled adds the fan-outs under AWS's buckets (figure 3, continued).
func (r *report) throttled(scen map[string]map[string]float64) {
	for _, n := range []int{200, 500} {
		m := scen[fmt.Sprintf("ThrottledFanOut/templates=%d", n)]
		key := fmt.Sprintf("Fanout%d", n)
		r.figures["failedTargets"+key] = m["failed"]
		r.figures["pendingTargets"+key] = m["pending"]
		r.figures["throttledAnswers"+key] = m["throttled"]
		r.figures["pollsPerSecond"+key] = m["polls/s"]
		r.figures["pollsPerTick"+key] = m["polls/tick"]
		r.figures["callsPerTemplate"+key] = m["calls/template"]
		r.figures["wallOverT"+key] = m["wall/T"]
		r.add("", fmt.Sprintf("fan-out %d, AWS's buckets, half taken", n),
			fmt.Sprintf("failed %d, pending %d; %d throttled answers", int(m["failed"]), int(m["pending"]), int(m["throttled"])), "0 failed", yes(m["failed"] == 0))
		r.add("", "  polls during the wait",
			fmt.Sprintf("%.2f/s, at most %d a tick", m["polls/s"], int(m["polls/tick"])), "<= 0.5/s, 1/tick", yes(m["polls/s"] <= 0.5 && m["polls/tick"] <= 1))
		goal, ok := "", (*bool)(nil)
		if n == 200 {
			goal, ok = "<= 6 a template", yes(m["calls/template"] <= 6)
		}
		r.add("", "  calls a template (no polls); wall/T", fmt.Sprintf("%.2f; wall/T %.2f", m["calls/template"], m["wall/T"]), goal, ok)
	}
}

// binary adds figure 5: the function's size, start-up and peak memory.
func (r *report) binary(ctx context.Context, step func(string)) error {
	step("building bootstrap for linux/arm64 (make build's flags)")
	dir, err := os.MkdirTemp("", "amibump-bench-")
	if err != nil {
		return err
	}
	defer func() { _ = os.RemoveAll(dir) }()
	arm := filepath.Join(dir, "bootstrap-arm64")
	if err := goBuild(ctx, "arm64", arm, "./lambda", true); err != nil {
		return err
	}
	fi, err := os.Stat(arm)
	if err != nil {
		return err
	}
	size := float64(fi.Size()) / 1e6
	r.figures["bootstrapMB"] = size
	r.add("5", "bootstrap size, linux/arm64", fmt.Sprintf("%.1f MB (%.1f MiB)", size, float64(fi.Size())/(1<<20)), "<= 12 MB", yes(size <= 12))

	step("building bootstrap for this machine and the emulator")
	host := filepath.Join(dir, "bootstrap")
	rie := filepath.Join(dir, "aws-lambda-rie")
	if err := goBuild(ctx, runtime.GOARCH, host, "./lambda", true); err != nil {
		return err
	}
	if err := goBuild(ctx, runtime.GOARCH, rie, "github.com/aws/aws-lambda-runtime-interface-emulator/cmd/aws-lambda-rie", false); err != nil {
		return err
	}
	step("start-up and peak memory under the emulator")
	bins := local.Binaries{Bootstrap: host, RIE: rie}
	start, err := measureStartup(ctx, bins, 7)
	if err != nil {
		return err
	}
	worst := max(start.init, start.cold-start.warm)
	r.figures["startupMs"] = ms(start.init)
	r.add("", "start-up, median of 7",
		fmt.Sprintf("%.1f ms (INIT REPORT; first %.1f - warm %.1f = %.1f ms)", ms(start.init), ms(start.cold), ms(start.warm), ms(start.cold-start.warm)),
		"<= 50 ms", yes(worst <= 50*time.Millisecond))
	rss, dur, err := measureRSS(ctx, bins, 50)
	if err != nil {
		return err
	}
	mb := float64(rss) * 1024 / 1e6
	r.figures["peakRSSMB"] = mb
	r.add("", "peak RSS, fan-out of 50 (VmHWM)", fmt.Sprintf("%.1f MB (the event took %.1f s)", mb, dur.Seconds()), "<= 40 MB", yes(mb <= 40))
	return nil
}

// handler adds figure 6.
func (r *report) handler(hand map[string]map[string]float64) {
	for _, name := range []string{"deploy", "unsupported"} {
		m := hand["Handle/"+name]
		what := "handler, one bump, zero-latency fakes"
		if name == "unsupported" {
			what = "  an event rejected without a call"
		}
		r.figures["handler"+strings.ToUpper(name[:1])+name[1:]+"NsPerOp"] = m["ns/op"]
		r.add(map[string]string{"deploy": "6", "unsupported": ""}[name], what,
			fmt.Sprintf("%s/op, %d allocs/op, %s/op", human(m["ns/op"]), int(m["allocs/op"]), bytesHuman(m["B/op"])), "guard", nil)
	}
}

// Widths of the table's columns: with the figure, the verdict and the
// separators the table fits in 120 columns. A longer result is wrapped.
const (
	whatWidth   = 38
	resultWidth = 51
	goalWidth   = 16
)

// render prints rows as a table that fits in 120 columns: a result longer than
// its column goes on continuation lines, cut after a comma or a space.
func render(w io.Writer, rows []row) error {
	line := func(fig, what, got, goal, ok string) string {
		return strings.TrimRight(fmt.Sprintf("%-1s  %-*s  %-*s  %-*s  %s", fig, whatWidth, what, resultWidth, got, goalWidth, goal, ok), " ")
	}
	if _, err := fmt.Fprintln(w, line("#", "measure", "result", "goal", "")); err != nil {
		return err
	}
	for _, r := range rows {
		parts := wrap(r.got, resultWidth)
		for i, p := range parts {
			l := line("", "", p, "", "")
			if i == 0 {
				l = line(r.fig, r.what, p, r.goal, r.ok)
			}
			if _, err := fmt.Fprintln(w, l); err != nil {
				return err
			}
		}
	}
	return nil
}

// wrap cuts s into lines of at most width characters, after ", " or " ".
func wrap(s string, width int) []string {
	var out []string
	for len([]rune(s)) > width {
		r := []rune(s)
		cut := -1
		for i := width; i > 2; i-- { // never within the continuation indent
			if r[i-1] == ',' || r[i-1] == ' ' || r[i-1] == ';' {
				cut = i
				break
			}
		}
		if cut <= 0 {
			cut = width
		}
		out = append(out, strings.TrimRight(string(r[:cut]), " "))
		s = "  " + strings.TrimLeft(string(r[cut:]), " ")
	}
	return append(out, s)
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

func human(ns float64) string {
	switch {
	case ns >= 1e6:
		return fmt.Sprintf("%.2f ms", ns/1e6)
	case ns >= 1e3:
		return fmt.Sprintf("%.1f µs", ns/1e3)
	}
	return fmt.Sprintf("%.0f ns", ns)
}

func bytesHuman(b float64) string {
	if b >= 1<<20 {
		return fmt.Sprintf("%.1f MiB", b/(1<<20))
	}
	return fmt.Sprintf("%.0f KiB", b/1024)
}

// opCounts lists a benchmark's "<Op>-calls" metrics, largest first.
func opCounts(m map[string]float64) string {
	type kv struct {
		op string
		n  int
	}
	var ops []kv
	for k, v := range m {
		if op, ok := strings.CutSuffix(k, "-calls"); ok && op != "total" && v > 0 {
			ops = append(ops, kv{op, int(v)})
		}
	}
	slices.SortFunc(ops, func(a, b kv) int {
		if a.n != b.n {
			return b.n - a.n
		}
		return strings.Compare(a.op, b.op)
	})
	var parts []string
	for i, o := range ops {
		if i == 3 {
			parts = append(parts, "...")
			break
		}
		parts = append(parts, fmt.Sprintf("%s %d", o.op, o.n))
	}
	return strings.Join(parts, ", ")
}

// goBench runs benchmarks of package bump and returns their metrics by name
// (without "Benchmark" and the -GOMAXPROCS suffix).
func goBench(ctx context.Context, verbose bool, pattern, benchtime string, pkg ...string) (map[string]map[string]float64, error) {
	if len(pkg) == 0 {
		pkg = []string{"./lambda/bump"}
	}
	cmd := exec.CommandContext(ctx, "go", append([]string{"test", "-run", "^$", "-bench", pattern, "-benchtime", benchtime, "-benchmem", "-count", "1"}, pkg...)...)
	var out bytes.Buffer
	cmd.Stdout = &out
	cmd.Stderr = &out
	if verbose {
		cmd.Stdout = io.MultiWriter(&out, os.Stderr)
		cmd.Stderr = cmd.Stdout
	}
	if err := cmd.Run(); err != nil {
		return nil, fmt.Errorf("go test -bench %s: %w\n%s", pattern, err, out.String())
	}
	res := map[string]map[string]float64{}
	sc := bufio.NewScanner(&out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := strings.TrimPrefix(f[0], "Benchmark")
		if i := strings.LastIndex(name, "-"); i > 0 {
			if _, err := strconv.Atoi(name[i+1:]); err == nil {
				name = name[:i]
			}
		}
		m := map[string]float64{}
		for i := 2; i+1 < len(f); i += 2 {
			v, err := strconv.ParseFloat(f[i], 64)
			if err != nil {
				return nil, fmt.Errorf("benchmark line %q: %w", sc.Text(), err)
			}
			m[f[i+1]] = v
		}
		res[name] = m
	}
	if len(res) == 0 {
		return nil, fmt.Errorf("go test -bench %s printed no results:\n%s", pattern, out.String())
	}
	return res, nil
}

// goBuild builds pkg for linux/arch; function=true uses make build's flags.
func goBuild(ctx context.Context, arch, out, pkg string, function bool) error {
	args := []string{"build", "-trimpath", "-o", out}
	if function {
		args = append(args, "-tags", "lambda.norpc", "-buildvcs=false", "-ldflags=-s -w")
	}
	cmd := exec.CommandContext(ctx, "go", append(args, pkg)...)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOOS=linux", "GOARCH="+arch)
	if b, err := cmd.CombinedOutput(); err != nil {
		return fmt.Errorf("go %s: %w\n%s", strings.Join(args, " "), err, b)
	}
	return nil
}

func cpuModel() string {
	b, err := os.ReadFile("/proc/cpuinfo")
	if err != nil {
		return "unknown CPU"
	}
	for _, line := range strings.Split(string(b), "\n") {
		if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
			return strings.TrimSpace(v)
		}
	}
	return "unknown CPU"
}

// startFunction runs the bootstrap under the emulator with the end-to-end
// harness (lambda/local), at 128 MB, the emulator's INIT REPORT in logs.
func startFunction(ctx context.Context, bins local.Binaries, endpoint, bus string, poll [2]time.Duration, logs *local.LogBuffer) (*local.Function, error) {
	return local.Start(ctx, bins, local.Settings{Endpoint: endpoint, Bus: bus, PollMin: poll[0], PollMax: poll[1],
		MemoryMB: 128, LogLevel: "info", Logs: logs})
}

// invoke sends payload and times the answer.
func invoke(ctx context.Context, fn *local.Function, payload []byte) ([]byte, time.Duration, error) {
	t := time.Now()
	body, err := fn.Invoke(ctx, payload)
	return body, time.Since(t), err
}

// unsupported is an event the function rejects without an AWS call (and, with
// AMIBUMP_EVENT_BUS unset, without publishing): its handling takes microseconds.
var unsupported = []byte(`{"version":"0","id":"d2e3f4a5-b6c7-4d8e-9f0a-1b2c3d4e5f6a","detail-type":"EC2 Instance State-change Notification","source":"aws.ec2","account":"123456789012","time":"2026-11-26T02:15:00Z","region":"us-east-1","resources":[],"detail":{"instance-id":"i-0123456789abcdef0","state":"running"}}`)

type startup struct{ cold, warm, init time.Duration }

// measureStartup starts the emulator n times and sends the unsupported event
// twice: the first answer includes starting the bootstrap (the emulator starts
// it at the first invocation, as Lambda does) and its init; the following ones
// do not. cold - warm is the start-up. Medians of n.
func measureStartup(ctx context.Context, bins local.Binaries, n int) (startup, error) {
	var colds, warms, inits []time.Duration
	for range n {
		logs := &local.LogBuffer{}
		e, err := startFunction(ctx, bins, "http://127.0.0.1:9", "", [2]time.Duration{}, logs)
		if err != nil {
			return startup{}, err
		}
		_, cold, err := invoke(ctx, e, unsupported)
		var warm time.Duration
		for i := range 5 {
			_, w, werr := invoke(ctx, e, unsupported)
			if err == nil {
				err = werr
			}
			if i == 0 || w < warm {
				warm = w
			}
		}
		e.Stop()
		if err != nil {
			return startup{}, err
		}
		in, ok := local.InitDuration(logs.String())
		if !ok {
			return startup{}, fmt.Errorf("no INIT REPORT in the emulator's output:\n%s", logs.String())
		}
		colds, warms, inits = append(colds, cold), append(warms, warm), append(inits, in)
	}
	slices.Sort(colds)
	slices.Sort(warms)
	slices.Sort(inits)
	return startup{colds[n/2], warms[n/2], inits[n/2]}, nil
}

// measureRSS runs the function against an awssim endpoint seeded with a
// fan-out of n templates, sends one deploy event for all of them, and returns
// the bootstrap's peak resident set (VmHWM, KiB) and how long the event took.
func measureRSS(ctx context.Context, bins local.Binaries, n int) (int, time.Duration, error) {
	world := awsfaketest.New(awsfake.WithClock(awsfake.WallClock{}), awsfake.WithImageDelay(2*time.Second)) // the bootstrap reads the system clock
	cloud := world.Cloud
	cloud.CreateEventBus("amibump")
	base := cloud.AddImage(awsfake.Image{Name: "base-2026-11"})
	for i := range n {
		awsfaketest.AddTarget(cloud, base, awsfaketest.Target{Name: fmt.Sprintf("shop-fan-prod-%02d", i), Layer: "fan", Group: strconv.Itoa(i), Volumes: 2})
	}
	sim, url, err := world.Serve()
	if err != nil {
		return 0, 0, err
	}
	defer func() { _ = sim.Close() }()
	e, err := startFunction(ctx, bins, url, "amibump", [2]time.Duration{200 * time.Millisecond, 500 * time.Millisecond}, &local.LogBuffer{})
	if err != nil {
		return 0, 0, err
	}
	defer e.Stop()
	ev := []byte(`{"version":"0","id":"3e1f6a4c-9d5b-4c8a-be0f-4a3b2c1d0e9f","detail-type":"deploy-finished","source":"ci.jenkins","account":"123456789012","time":"2026-11-26T04:00:00Z","region":"us-east-1","resources":[],"detail":{"app":"shop","env":"prod","layer":"fan","build":{"id":"jenkins-shop-deploy-150","commit":"c0ffee42"}}}`)
	body, took, err := invoke(ctx, e, ev)
	if err != nil {
		return 0, 0, err
	}
	// At the function's request budget (real time here), a fan-out of 50 takes
	// longer than the emulator's 60 s: what is left is pending, as in Lambda.
	promoted, pending := bytes.Count(body, []byte(`"status":"promoted"`)), bytes.Count(body, []byte(`"status":"pending"`))
	if promoted+pending != n {
		return 0, 0, fmt.Errorf("fan-out of %d: %d promoted, %d pending: %s", n, promoted, pending, body)
	}
	pid, err := e.BootstrapPID()
	if err != nil {
		return 0, 0, err
	}
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			kb, err := strconv.Atoi(strings.TrimSuffix(strings.TrimSpace(v), " kB"))
			return kb, took, err
		}
	}
	return 0, 0, errors.New("no VmHWM in /proc/<bootstrap>/status")
}
