package event

import (
	"encoding/json"
	"fmt"
	"strings"
)

// KindSourcePromoted is a promotion in another region, forwarded to this
// region's amibump bus: a bump-finished result with status promoted, which
// the source stack's rule sends to each replica region's bus. The DR region
// copies the release to every template that replicates from that region
// (TagReplicateFrom). The rule that invokes the function for it matches
// ForwardedPattern, which leaves out this region's own results.
var KindSourcePromoted = &Kind{
	Name:       "source-promoted",
	DetailType: BumpFinished,
	Source:     SourceAmibump,
	From:       "from amibump in another region (a promoted result forwarded to this bus)",
	Check: func(e *Envelope) error {
		_, err := ParseForwarded(e.Detail)
		return err
	},
}

// ForwardedPattern is the detail part of the rule pattern for
// KindSourcePromoted on the bus of the stack in region: promoted results of
// templates in another region. The result's own region is matched, not the
// envelope's: EventBridge's pages on cross-Region routing do not say what a
// forwarded event's region and account fields become, so they are not relied on.
func ForwardedPattern(region string) map[string]any {
	return map[string]any{
		"status": []string{string(Promoted)},
		"region": []any{map[string]any{"anything-but": region}},
	}
}

// ParseForwarded reads a forwarded result: a promotion, naming the region,
// the launch template and the AMI.
func ParseForwarded(detail []byte) (*Result, error) {
	var r Result
	if err := json.Unmarshal(detail, &r); err != nil {
		return nil, fmt.Errorf("invalid bump-finished detail: %s", Clip(err.Error()))
	}
	var missing []string
	for _, f := range []struct{ name, value string }{{"region", r.Region}, {"launchTemplateId", r.LaunchTemplateID}, {"imageId", r.ImageID}} {
		if f.value == "" {
			missing = append(missing, f.name)
		}
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("invalid bump-finished detail: %s missing; a forwarded result names the region, launch template and AMI it promoted", strings.Join(missing, ", "))
	}
	if r.Status != Promoted {
		return nil, fmt.Errorf("bump-finished detail has status %s; only promoted results are forwarded between regions", Quote(string(r.Status)))
	}
	return &r, nil
}
