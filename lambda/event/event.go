// Package event holds the events amibump receives and sends, and their validation.
// The function and the command-line tool share it, so an event the CLI accepts is
// an event the function accepts.
package event

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/url"
	"regexp"
	"strings"
	"time"
)

// Detail types and sources amibump dispatches on.
const (
	DeployFinished    = "deploy-finished"
	AMIStateChange    = "EC2 AMI State Change"
	ScheduledEvent    = "Scheduled Event"
	BumpFinished      = "bump-finished"
	SourceEC2         = "aws.ec2"
	SourceEvents      = "aws.events"
	SourceAmibump     = "amibump"
	DefaultCISource   = "ci.jenkins"
	DefaultBusName    = "amibump"
	maxBuildIDLength  = 128
	maxBuildURLLength = 256
	maxCommitLength   = 64
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

// Kind says which of amibump's triggers an envelope is.
type Kind int

// The triggers, as dispatched by Classify.
const (
	KindUnknown Kind = iota
	KindDeploy
	KindAMIState
	KindReconcile
)

// Classify tells which trigger an envelope is, from its source and detail type.
// A deploy-finished event is recognised by its detail type whatever the CI source:
// the rule on the bus already admits only the configured source.
func (e *Envelope) Classify() Kind {
	switch {
	case e.DetailType == DeployFinished:
		return KindDeploy
	case e.Source == SourceEC2 && e.DetailType == AMIStateChange:
		return KindAMIState
	case e.Source == SourceEvents && e.DetailType == ScheduledEvent:
		return KindReconcile
	}
	return KindUnknown
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

// Deploy is the detail of a deploy-finished event (README: "The deploy-finished event").
type Deploy struct {
	App        string `json:"app"`
	Env        string `json:"env"`
	Layer      string `json:"layer,omitempty"`
	Group      string `json:"group,omitempty"`
	Build      Build  `json:"build"`
	InstanceID string `json:"instanceId,omitempty"`
	DryRun     bool   `json:"dryRun,omitempty"`
}

// Build identifies the CI run that deployed the release.
type Build struct {
	ID     string `json:"id"`
	URL    string `json:"url,omitempty"`
	Commit string `json:"commit,omitempty"`
}

var (
	selectorValue = regexp.MustCompile(`^[A-Za-z0-9._-]{1,32}$`)
	instanceID    = regexp.MustCompile(`^i-([0-9a-f]{8}|[0-9a-f]{17})$`)
	commitValue   = regexp.MustCompile(`^[A-Za-z0-9._-]{1,64}$`)
	buildIDValue  = regexp.MustCompile(`^[\x21-\x7e]([\x20-\x7e]*[\x21-\x7e])?$`)
	// buildURLValue is an http(s) URL of RFC 3986 characters that url.Parse
	// accepts; the same pattern as in deploy-finished.schema.json.
	buildURLValue = regexp.MustCompile(`^https?://[A-Za-z0-9.-]+(:[0-9]{1,5})?` +
		`(/([A-Za-z0-9._~!$&'()*+,;=:@/-]|%[0-9A-Fa-f]{2})*)?` +
		`(\?([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?` +
		`(#([A-Za-z0-9._~!$&'()*+,;=:@/?-]|%[0-9A-Fa-f]{2})*)?$`)
)

// ParseDeploy decodes and validates a deploy-finished detail. Unknown fields are
// rejected, so that a typo such as "grup" cannot silently fan out to every group.
// The error lists every problem found, each naming the field and what is allowed.
func ParseDeploy(detail []byte) (*Deploy, error) {
	dec := json.NewDecoder(bytes.NewReader(detail))
	dec.DisallowUnknownFields()
	var d Deploy
	if err := dec.Decode(&d); err != nil {
		return nil, fmt.Errorf("invalid deploy-finished detail: %s", describeDecodeError(err))
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("invalid deploy-finished detail: trailing data after the JSON object")
	}
	if err := checkFieldNames(detail); err != nil {
		return nil, fmt.Errorf("invalid deploy-finished detail: %w", err)
	}
	if err := d.Validate(); err != nil {
		return nil, err
	}
	return &d, nil
}

// Validate checks every field of the detail and returns all problems at once.
func (d *Deploy) Validate() error {
	var errs []error
	selector := func(field, v string, required bool) {
		switch {
		case v == "" && required:
			errs = append(errs, fmt.Errorf("detail.%s is required: 1-32 characters of A-Z a-z 0-9 . _ -", field))
		case v != "" && !selectorValue.MatchString(v):
			errs = append(errs, fmt.Errorf("detail.%s %s is not allowed: use 1-32 characters of A-Z a-z 0-9 . _ -", field, Quote(v)))
		}
	}
	selector("app", d.App, true)
	selector("env", d.Env, true)
	selector("layer", d.Layer, false)
	selector("group", d.Group, false)
	switch {
	case d.Build.ID == "":
		errs = append(errs, errors.New("detail.build.id is required: a unique id per deploy, such as Jenkins' BUILD_TAG"))
	case len(d.Build.ID) > maxBuildIDLength || !buildIDValue.MatchString(d.Build.ID):
		errs = append(errs, fmt.Errorf("detail.build.id %s is not allowed: use 1-%d printable ASCII characters, no leading or trailing space", Quote(d.Build.ID), maxBuildIDLength))
	}
	if d.Build.URL != "" {
		u, err := url.Parse(d.Build.URL)
		if err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" || len(d.Build.URL) > maxBuildURLLength || !buildURLValue.MatchString(d.Build.URL) {
			errs = append(errs, fmt.Errorf("detail.build.url %s is not allowed: use an http(s) URL of at most %d characters", Quote(d.Build.URL), maxBuildURLLength))
		}
	}
	if d.Build.Commit != "" && !commitValue.MatchString(d.Build.Commit) {
		errs = append(errs, fmt.Errorf("detail.build.commit %s is not allowed: use 1-%d characters of A-Z a-z 0-9 . _ -", Quote(d.Build.Commit), maxCommitLength))
	}
	if d.InstanceID != "" && !instanceID.MatchString(d.InstanceID) {
		errs = append(errs, fmt.Errorf("detail.instanceId %s is not allowed: use an EC2 instance id such as i-0123456789abcdef0", Quote(d.InstanceID)))
	}
	return errors.Join(errs...)
}

// Selector returns the tag filters the event selects launch templates by, in a
// stable order: app, env, then layer and group when given.
func (d *Deploy) Selector() []TagValue {
	s := []TagValue{{TagApp, d.App}, {TagEnv, d.Env}}
	if d.Layer != "" {
		s = append(s, TagValue{TagLayer, d.Layer})
	}
	if d.Group != "" {
		s = append(s, TagValue{TagGroup, d.Group})
	}
	return s
}

// TagValue is one tag key and value.
type TagValue struct{ Key, Value string }

func (t TagValue) String() string { return t.Key + "=" + t.Value }

func describeDecodeError(err error) string {
	var typeErr *json.UnmarshalTypeError
	if errors.As(err, &typeErr) {
		field := "detail"
		if typeErr.Field != "" {
			field += "." + typeErr.Field
		}
		return fmt.Sprintf("%s must be a %s, not a JSON %s", field, kindName(typeErr.Type.Kind().String()), typeErr.Value)
	}
	msg := err.Error()
	if field, ok := strings.CutPrefix(msg, "json: unknown field "); ok {
		field = Clip(field)
		return fmt.Sprintf("unknown field %s; allowed: app, env, layer, group, build{id, url, commit}, instanceId, dryRun", field)
	}
	return Clip(msg)
}

func kindName(k string) string {
	switch k {
	case "bool":
		return "boolean"
	case "struct":
		return "JSON object"
	}
	return k
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
