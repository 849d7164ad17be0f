package event

// Tags amibump reads on launch templates and instances, and writes on AMIs and
// snapshots: the tags contract.
const (
	TagApp        = "amibump:app"
	TagEnv        = "amibump:env"
	TagLayer      = "amibump:layer"
	TagGroup      = "amibump:group"
	TagKeep       = "amibump:keep"
	TagSetDefault = "amibump:set-default"
	// TagInstanceRefresh: "true" on a template starts an instance refresh of
	// its groups after a promotion; on a group, exactly "true" lets amibump's
	// role start one there (IAM checks autoscaling:ResourceTag, as written).
	TagInstanceRefresh = "amibump:instance-refresh"
	TagSourceFor       = "amibump:source-for"
	// TagSSMParameter names the SSM parameter that carries the template's
	// current AMI: "true" for <ssmParameterPrefix><template name>, or a name.
	TagSSMParameter = "amibump:ssm-parameter"
	// TagDriftReported is written by reconcile on a template: the number of the
	// version it last reported as drifted, so that each is reported once.
	TagDriftReported = "amibump:drift-reported"
	// TagReplicateFrom on a template in a disaster-recovery region names the
	// region whose release it follows (the template there with the same
	// app/env/layer/group tags): its AMIs are copies of that template's.
	TagReplicateFrom = "amibump:replicate-from"
	// TagDeleteAfter: how many days an AMI that left the keep window stays
	// deprecated and disabled before amibump deregisters it (default 14; 0:
	// at once).
	TagDeleteAfter = "amibump:delete-after"
	// TagHold is written by a rollback on a template: the build id rolled
	// back from and when the rollback was asked for (<build>@<RFC 3339>,
	// plan.HoldTag). No deploy of that build or an older one, nor one made
	// before the rollback, is promoted; the first deploy of a newer build
	// made after it is, and removes the tag.
	TagHold = "amibump:hold"

	TagLaunchTemplate = "amibump:launch-template"
	TagBuildID        = "amibump:build-id"
	TagBuildURL       = "amibump:build-url"
	TagCommit         = "amibump:commit"
	TagSourceInstance = "amibump:source-instance"
	TagDeployedAt     = "amibump:deployed-at"
	TagEventID        = "amibump:event-id"
	TagName           = "Name"

	// TagCopyOf on a copy names its source: <region>/<ami id>.
	TagCopyOf = "amibump:copy-of"
)

// ValidSelectorValue reports whether v may be the value of amibump:app, env,
// layer or group in a deploy-finished event: 1-32 characters of A-Z a-z 0-9 . _ -.
func ValidSelectorValue(v string) bool { return selectorValue.MatchString(v) }
