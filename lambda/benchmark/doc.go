// Command benchmark is `make bench`: it runs the benchmarks of package bump,
// measures the function binary (size, start-up and peak memory under the
// Lambda Runtime Interface Emulator, against an awssim endpoint), and prints
// one short table with the machine it ran on. Run it from the module root:
//
//	go run ./lambda/benchmark
//
// It takes about two minutes. The README (Benchmarks) shows the figures and
// the goals; what follows says how each figure is measured.
//
// # Time scale
//
// Time is scaled where real time would take minutes: every duration of the
// real system (AMI creation, waiter delays, API round trips of 150 ms for
// reads, 300 ms for writes, 50 ms for PutEvents, the 15-minute timeout) is
// divided by a factor k, the real code runs against the stateful fakes, and
// figures in seconds are multiplied back. Counts (calls, peak calls in
// flight) do not depend on the scale, nor on the machine's load; times
// measured at a scale carry the machine's scheduling noise multiplied by k.
//
// # 1. Latency added beyond EC2's work
//
// 400 bumps of one template each, in accounts of their own, run at once (k =
// 20); each AMI takes a random 1–4 minutes. The figure is the time from the
// moment the fake turns the AMI `available` to the moment
// `CreateLaunchTemplateVersion` returns: the rest of the shared poll's
// current tick (at most 3 s), the poll that sees it, the read of the
// template before promoting, and the create call. Uniform over the tick,
// that is about 1.5 s + 0.6 s at the median and 3 s + 0.6 s at the p99 (the
// waiter's own delays, 5–15 s before the polls were shared, gave a p99 of
// 14.9 s). The goal is p99 ≤ 5 s; it is met with little room on a loaded
// machine, where scheduling noise is multiplied by k (a run made while other
// builds held the machine measured p99 9.5 s). Start-up (figure 5) is
// measured in real time and suffered the same load: 38.7 ms in the README's
// table, between 6.8 and 57 ms in runs of the last days.
//
// # 2. API calls per bump
//
// One deploy event for one template, against fakes that answer at once,
// calls counted by a wrapper between the Bumper and the fakes; the polls
// (`DescribeImages` on `image-id`) are counted apart. "first" is a template
// amibump has not bumped yet; "same at keep=5" is one at its retention
// limit, so the bump also deletes a version and retires an AMI. Steps:
// resolve (DescribeLaunchTemplates), check (DescribeLaunchTemplateVersions,
// and the listing of the targets' amibump AMIs), source (the listing of
// tagged source instances), image (CreateImage), promote (read again,
// CreateLaunchTemplateVersion, ModifyLaunchTemplate for `$Default`, read to
// confirm), groups (DescribeAutoScalingGroups), retention
// (DeleteLaunchTemplateVersions, DescribeImageReferences, the new AMI's
// EnableImageDeregistrationProtection, and the retired AMI's
// DisableImageDeregistrationProtection, EnableImageDeprecation, DisableImage;
// DeregisterImage where a template deletes at once, amibump:delete-after 0),
// results (PutEvents). Resolve, the two listings, groups and results are
// made once per event (listings 200 templates a call, PutEvents 10 results a
// call), so in a fan-out of N a template costs 7 calls of its own plus its
// share of those: 7.125 for N = 200.
//
// # 3. Fan-out
//
// One event for 1, 10, 50 and 200 templates (k = 100), every AMI taking the
// same T = 5 minutes, every call its round trip, no throttling and no
// request budget. wall/T is the handler's time over T. "in flight" is the
// most calls in flight at once, "/s" the most calls started within one
// (real) second, both counted by the wrapper. The bound
// (`AMIBUMP_CONCURRENCY`, default 8) holds exactly. A fan-out polls as often
// as one template: one call every 3 s, 100 in a wait of 5 minutes (a lone
// template polls more often than with the waiter's old 5–15 s delays, the
// price of the shorter latency), so a fan-out of 200 makes 1,300 calls where
// it made 7,700. At 2 slots, 200 templates take 1.5 T: their promotions
// queue behind each other.
//
// Then the same under AWS's throttling: fan-outs of 200 and 500 templates
// against fakes that throttle with EC2's documented buckets (per API) and a
// harsher guess for Auto Scaling (one bucket of 20, refilled 2 a second),
// with other tools taking half of every bucket (half its size, half its
// refill). The function runs as in Lambda: real SDK clients over HTTP to
// `awssim`, the function's retryer and its request budget, time scaled by k
// = 50 (calls through HTTP cost CPU time, which is scaled too). "failed"
// counts targets neither promoted nor pending, "throttled" the answers the
// fakes refused, the polls are counted from the first to the last (a second
// and the most within one tick), "calls a template" are the wrapper's calls
// without the polls, over the templates. wall/T is paced by the budget for
// mutating calls: N templates need N / 2 seconds of `CreateImage` before the
// last wait starts.
//
// # 4. Reconcile
//
// 500 managed templates with 10 amibump AMIs each and no amibump version yet
// (seeded like `TestReconcileIsBounded`), fakes answering at once. "all due"
// promotes the newest AMI of every template and prunes the other nine;
// "nothing due" is the next run. The time "on the fakes" is CPU time of the
// handler and the fakes; "at AWS's pace" adds each call's round trip,
// divided by the 8 slots for the jobs (the three listings of a run are
// sequential). Nothing due costs 11 paginated listings (the retired AMIs stay
// listed until their deregistration). All due costs about 24 calls per
// template, 9,000 of them retiring the 4,500 AMIs no kept version refers to
// (EnableImageDeprecation and DisableImage each); at EC2's documented default
// refill for mutating calls (5 a second) those 10,500 writes would be
// throttled and take longer than one 15-minute run: the SDK retries,
// retention is housekeeping (a warning), and the next reconcile finishes it.
//
// # 5. The function binary
//
// Size: `bootstrap` built exactly as `make build` does (linux/arm64, CGO
// off, `-tags lambda.norpc -trimpath -ldflags "-s -w"`). Start-up and
// memory: the same build for this machine, run under the emulator
// (`aws-lambda-rie`, the tool in go.mod) by the end-to-end harness
// (package local, at 128 MB), which, like Lambda, starts the bootstrap at
// the first invocation. Start-up is the emulator's own `INIT
// REPORT` (the bootstrap's start to its first request for an event: Go
// runtime, settings, SDK configuration, clients), median of 7 fresh starts,
// with an event the function rejects without an AWS call; as a check, the
// first answer's round trip minus a warm answer's. Memory: VmHWM (peak
// resident set) from `/proc/<pid>/status` of the bootstrap process after one
// deploy event that fans out to 50 templates against `awssim` over HTTP,
// results published. At the function's request budget (in real time here)
// the 60 s the emulator allows are not enough for all 50: those it did not
// promote are `pending`, as in Lambda, and their AMIs exist.
//
// # 6. Handler overhead
//
// `BenchmarkHandle`: a full bump of one template at its retention limit
// (each iteration a newer build; `amibump:delete-after=0`, so that the AMIs
// retired do not pile up from one iteration to the next), against the fakes
// with no latency and no image delay, polls and pauses of a microsecond (they
// are waits, not work), JSON logs to `io.Discard`; and an unsupported event, rejected
// without a call. ns/op and allocs/op include the fakes' own work (every
// output is a deep copy), so the figure guards against regressions rather
// than measuring the function alone.
//
// # 7. Status over an organisation
//
// `BenchmarkStatusAccounts` (lambda/cmd/amibump): `amibump status --accounts
// --json` over 50 accounts × 3 regions, each with 40 templates (each with its
// group and instance), through `awssim` over HTTP with the SDK's clients: 50
// ms a call and AWS's throttling buckets on every account and region, in real
// time. Each pair is read under amibump-readonly (STS AssumeRole, which the
// World answers at once). The figure (statusSecondsAccounts50Regions3) is the
// wall time of the whole command, seeding excluded; the goal is 10 s.
//
// # 8. A disaster-recovery region
//
// `BenchmarkDRPromotedAfterSource` (k = 100): a template in us-east-1 and
// one in us-west-2 tagged amibump:replicate-from=us-east-1, each sample a
// World of its own, 10 at once; the copy takes 5 minutes (simulated), API
// round trips as above, the default poll. The figure is the time between
// the two templates' new versions (when each CreateLaunchTemplateVersion
// took effect): push (drPromotedAfterSourceSecondsPush), the source's
// result forwarded to the DR function as soon as the source's run returns
// it; pull (drPromotedAfterSourceSecondsPull), no forward, the DR region's
// reconcile every 10 minutes, the first tick at a random phase. Both are
// the worst sample. Goals: push within the copy time and 2 poll ticks
// (306 s), pull within one reconcile period and the copy time (900 s). The
// push figure includes the rest of the source's run after its version (the
// forward leaves with the published result) and the DR function's reads
// before CopyImage. The pause before a confirming read is the SDK's jitter
// backoff in real seconds, capped at the scaled poll maximum: at k = 100 it
// is always the cap (15 s simulated, at most 2 s in AWS), which the figure
// carries.
// # 9. Rollback
//
// `BenchmarkRollback`: one rollback-requested event for 20 templates, each
// with two releases deployed before (untimed), at concurrency 8 and
// realLatency's round trips scaled by k = 10 only (at k = 100 a call would
// be a millisecond or two, and a busy machine's timers would weigh more
// than the calls). The figure (rollbackSecondsFanout20) is the time from
// the event to the last `ModifyLaunchTemplate` answered: every template has
// its new version and `$Default`, what must happen fast during an incident;
// the time until the handler returned (the groups read, the results put) is
// shown beside it. The calls: the targets and their AMIs listed once, each
// template's versions read, one `CreateTags` for all the templates held at
// the same build, then a version and `$Default` each: 3 calls a template
// plus 6. The goal is under 3 s.
package main
