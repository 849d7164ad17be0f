// Package event holds the events amibump receives and sends, and their validation.
// The function and the command-line tool share it, so an event the CLI accepts is
// an event the function accepts.
package event

import (
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// Detail types and sources amibump dispatches on.
const (
	DeployFinished  = "deploy-finished"
	AMIStateChange  = "EC2 AMI State Change"
	ScheduledEvent  = "Scheduled Event"
	BumpFinished    = "bump-finished"
	SourceEC2       = "aws.ec2"
	SourceEvents    = "aws.events"
	SourceAmibump   = "amibump"
	DefaultCISource = "ci.jenkins"
	DefaultBusName  = "amibump"
)

// Envelope is an event as EventBridge delivers it to a Lambda function.
// ReplayName is set on events replayed from an archive; their ID is a new one.
type Envelope struct {
	Version    string          `json:"version"`
	ID         string          `json:"id"`
	DetailType string          `json:"detail-type"`
	Source     string          `json:"source"`
	Account    string          `json:"account"`
	Time       time.Time       `json:"time"`
	Region     string          `json:"region"`
	Resources  []string        `json:"resources"`
	Detail     json.RawMessage `json:"detail"`
	ReplayName string          `json:"replay-name,omitempty"`
}

// ParseEnvelope decodes an EventBridge event. Unknown top-level fields are
// tolerated (AWS adds fields over time); the detail is decoded per kind.
func ParseEnvelope(raw []byte) (*Envelope, error) {
	var e Envelope
	if err := json.Unmarshal(raw, &e); err != nil {
		return nil, fmt.Errorf("event is not an EventBridge event: %s", Clip(err.Error()))
	}
	if e.DetailType == "" || e.Source == "" {
		return nil, errors.New(`event is not an EventBridge event: "source" and "detail-type" are required`)
	}
	return &e, nil
}
