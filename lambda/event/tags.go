package event

// Tags amibump reads on launch templates and instances, and writes on AMIs and
// snapshots (README: "Tags").
const (
	TagApp             = "amibump:app"
	TagEnv             = "amibump:env"
	TagLayer           = "amibump:layer"
	TagGroup           = "amibump:group"
	TagKeep            = "amibump:keep"
	TagSetDefault      = "amibump:set-default"
	TagInstanceRefresh = "amibump:instance-refresh"
	TagSourceFor       = "amibump:source-for"

	TagLaunchTemplate = "amibump:launch-template"
	TagBuildID        = "amibump:build-id"
	TagBuildURL       = "amibump:build-url"
	TagCommit         = "amibump:commit"
	TagSourceInstance = "amibump:source-instance"
	TagDeployedAt     = "amibump:deployed-at"
	TagEventID        = "amibump:event-id"
	TagName           = "Name"
)
