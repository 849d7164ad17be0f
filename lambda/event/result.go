package event

// Status is the outcome of one target of one event, as the results contract
// lists them.
type Status string

// The statuses a result can have.
const (
	Promoted   Status = "promoted"
	Superseded Status = "superseded"
	Pending    Status = "pending"
	Rejected   Status = "rejected"
	Failed     Status = "failed"
	DryRun     Status = "dry-run"
	// Drifted: reconcile found the template's $Latest made by someone else,
	// carrying an older AMI than the newest release amibump promoted for it.
	Drifted Status = "drifted"
	// Unreachable: the source region of templates that replicate from it
	// could not be read; they stay on their last release, and the next
	// reconcile tries again. Reported once per run and source region, never
	// failed or rejected: a region outage is no fault of amibump's.
	Unreachable Status = "unreachable"
	// RolledBack: a rollback put an older release back on the template (a
	// new version of it, $Default on it) and holds the template there.
	RolledBack Status = "rolled-back"
)

// Result is what amibump did for one launch template: returned by the function
// and published on the bus as a bump-finished event.
type Result struct {
	Status             Status `json:"status"`
	EventID            string `json:"eventId,omitempty"`
	Account            string `json:"account,omitempty"` // the account and region of the launch template
	Region             string `json:"region,omitempty"`
	LaunchTemplateID   string `json:"launchTemplateId,omitempty"`
	LaunchTemplateName string `json:"launchTemplateName,omitempty"`
	Version            int64  `json:"version,omitempty"`
	ImageID            string `json:"imageId,omitempty"`
	SourceInstance     string `json:"sourceInstance,omitempty"`
	// CopyOf is, for a template that follows another region
	// (amibump:replicate-from), the AMI its image is a copy of:
	// <region>/<AMI id>, as the copy's amibump:copy-of tag says.
	CopyOf string `json:"copyOf,omitempty"`
	Build  *Build `json:"build,omitempty"`
	// RolledBackFrom is the release a rollback took the template off; Build
	// is the one it put back.
	RolledBackFrom *Build   `json:"rolledBackFrom,omitempty"`
	Warnings       []string `json:"warnings,omitempty"`
	Reason         string   `json:"reason,omitempty"`
	Plan           []string `json:"plan,omitempty"`
	Pruned         *Pruned  `json:"pruned,omitempty"`
}

// Pruned counts what retention removed after a promotion.
type Pruned struct {
	Versions int `json:"versions"`
	// Images and Snapshots were deregistered and deleted.
	Images    int `json:"images"`
	Snapshots int `json:"snapshots"`
	// Retired AMIs were deprecated and disabled, to be deregistered
	// amibump:delete-after days later.
	Retired int `json:"retired,omitempty"`
}

// Response is the function's return value: one result per target.
type Response struct {
	Results []Result `json:"results"`
}
