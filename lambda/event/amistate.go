package event

import (
	"encoding/json"
	"fmt"
	"strings"
)

// KindAMIState is EC2's AMI State Change event, on the default bus.
var KindAMIState = &Kind{
	Name:       "ami-state",
	DetailType: AMIStateChange,
	Source:     SourceEC2,
	From:       "from " + SourceEC2,
	Check: func(e *Envelope) error {
		_, err := ParseAMIState(e.Detail)
		return err
	},
}

// AMIState is the detail of an EC2 AMI State Change event.
type AMIState struct {
	RequestID    string `json:"RequestId"`
	ImageID      string `json:"ImageId"`
	State        string `json:"State"`
	ErrorMessage string `json:"ErrorMessage"`
}

// ParseAMIState decodes an EC2 AMI State Change detail. Fields AWS may add are tolerated.
func ParseAMIState(detail []byte) (*AMIState, error) {
	var s AMIState
	if err := json.Unmarshal(detail, &s); err != nil {
		return nil, fmt.Errorf("invalid EC2 AMI State Change detail: %s", Clip(err.Error()))
	}
	if !strings.HasPrefix(s.ImageID, "ami-") {
		return nil, fmt.Errorf("invalid EC2 AMI State Change detail: ImageId %s is not an AMI id", Quote(s.ImageID))
	}
	return &s, nil
}
