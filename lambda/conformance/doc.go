// Package conformance holds awsfake and AWS to one contract: the behaviours
// of AWS that amibump relies on, written once as tests against the real SDK
// clients (EC2, Auto Scaling, EventBridge, SSM), run unchanged against
//
//   - the fake, served by awssim on 127.0.0.1, in every go test (TestFake): AMIs
//     turn available when the test moves the fake's clock, so the run takes
//     well under a second;
//   - opt-in, a real account (TestAccount, AMIBUMP_CONFORMANCE=aws with the
//     standard credentials chain and a region; AWS_ENDPOINT_URL points it at
//     any other endpoint): tiny resources in the default VPC from the latest
//     Amazon Linux 2023 AMI, the SDK's waiters with real timeouts, about twelve
//     minutes, well under a cent (one advanced SSM parameter, the only thing
//     with a monthly price, lives for seconds); with
//     AMIBUMP_CONFORMANCE_COPY_REGION, Images/Copy also copies the AMI to that
//     region (the fake's harness always copies, to us-west-2 of its World).
//
// The design is go-cloud's blob/drivertest: one suite (Run), and a Harness per
// account that gives the SDK configuration and makes the few things the suite
// cannot make the same way in both (an instance to image, a launch template,
// an Auto Scaling group and its warm pool: a real account launches or creates
// them, the fake seeds them), and lets time pass where it holds the clock
// (Elapse). Reads that may lag a write are retried for as long as the
// account's Patience says: at once on the fake, minutes in a real account.
// EC2's validation of an aws:ec2:image parameter is the same: the fake's
// harness turns it on (WithParameterValidation) and the suite checks that
// reads show the version before until it lets that time pass; a real account
// is polled until the new version is readable.
//
// Each subtest's name is the one awsfake's behaviour ledger (its package
// documentation) gives beside the rule it pins. What a real account cannot be
// made to do on demand stays in awsfake's own tests, and the ledger says so:
// eventual consistency's lags, a failed AMI, a snapshot DeregisterImage does
// not delete, an instance-store root, 10,000 versions of one template, the
// hour a refresh waits for protected instances, launch configurations (new
// accounts cannot create them), access denied, throttling and injected faults,
// the Recycle Bin (a retention rule would cover every AMI of the account),
// instance states that last seconds (pending, stopping, shutting-down), what
// a write meets while EC2 validates the one before, an AMI validation that
// fails, an account's default parameter tier (a setting of the whole
// account and region), an AMI whose deprecation time has passed (the suite
// reads no clock), and deregistration protection's 24-hour cooldown (it would
// keep an AMI beyond the run's cleanup).
//
// Everything a run makes is tagged amibump:conformance=<run id> (its SSM
// parameters also live under /amibump-conformance/<run id>/) and removed by
// a Cleaner: each resource when the test that made it ends, passed or failed
// (t.Cleanup), and by tag when the run starts (every earlier run's leftovers)
// and ends (this run's). A run that reaches go test's -timeout panics without
// running t.Cleanup (golang/go#42217), so every wait ends Patience.Cleanup
// before it (10 minutes in a real account, whose README command gives
// -timeout 60m) and every cleanup SweepReserve before it, leaving the closing
// sweep the rest. Auto Scaling deletes a group asynchronously: the Cleaner
// counts a group gone when it is not listed or its Status is "Delete in
// progress", and its sweep leaves such a group to Auto Scaling. The Teardown
// subtest checks the answers the Cleaner relies on.
// TestSweepAfterFailure runs the real account's harness
// against awssim in a child process that fails midway, and checks that nothing
// tagged is left and nothing untagged was touched. AMIBUMP_CONFORMANCE=sweep
// removes every run's leftovers from an account and makes nothing.
package conformance
