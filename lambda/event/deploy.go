package event

import (
	"bytes"
	_ "embed" // the deploy-finished JSON Schema
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"net/url"
	"reflect"
	"regexp"
	"slices"
	"strings"
)

// The limits of a deploy-finished detail's build fields.
const (
	maxBuildIDLength  = 128
	maxBuildURLLength = 256
	maxCommitLength   = 64
)

// KindDeploy is the deploy-finished event CI puts on amibump's bus.
var KindDeploy = &Kind{
	Name:       "deploy",
	DetailType: DeployFinished,
	From:       "(from CI)",
	Check: func(e *Envelope) error {
		_, err := checkDeployEvent(e)
		return err
	},
	Schema: DeployFinishedSchema,
	DryRun: func(detail []byte) ([]byte, error) {
		d, err := ParseDeploy(detail)
		if err != nil {
			return nil, err
		}
		d.DryRun = true
		return json.Marshal(d)
	},
}

// Deploy is the detail of a deploy-finished event: the contract between CI
// and amibump.
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
		return fmt.Sprintf("unknown field %s; allowed: %s", field, allowedFields)
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

// DeployFinishedSchema is the JSON Schema of a deploy-finished event as
// EventBridge delivers it (the whole envelope, the detail under
// definitions/DeployFinished). It is written in draft-04, one of the two
// formats an EventBridge schema registry accepts, so that the same document is
// registered by the stack (type DeployFinishedSchemaType) and tested against
// ParseDeployEvent on every sample event.
//
//go:embed deploy-finished.schema.json
var DeployFinishedSchema []byte

// DeployFinishedSchemaType is the EventBridge schema registry's name for the
// format of DeployFinishedSchema (AWS::EventSchemas::Schema Type).
const DeployFinishedSchemaType = "JSONSchemaDraft4"

// ParseDeployEvent decodes a deploy-finished event as EventBridge delivers it
// and validates it as the function does: an EventBridge envelope with
// detail-type deploy-finished, a time (recorded as the deploy time) and a
// valid detail.
func ParseDeployEvent(raw []byte) (*Envelope, *Deploy, error) {
	env, err := ParseEnvelope(raw)
	if err != nil {
		return nil, nil, err
	}
	d, err := checkDeployEvent(env)
	return env, d, err
}

// checkDeployEvent validates a deploy-finished envelope: its detail type, a
// time (recorded as the deploy time) and a valid detail.
func checkDeployEvent(env *Envelope) (*Deploy, error) {
	if env.DetailType != DeployFinished {
		return nil, fmt.Errorf("event has detail-type %s, not %q", Quote(env.DetailType), DeployFinished)
	}
	d, err := ParseDeploy(env.Detail)
	if err != nil {
		return nil, err
	}
	if env.Time.IsZero() {
		return nil, errors.New(`event has no "time": amibump records it as the deploy time`)
	}
	return d, nil
}

// deployFields and buildFields are the detail's field names, spelled exactly:
// the JSON names of Deploy's and Build's fields, which are the one list of
// them. allowedFields names them for messages.
var (
	deployFields  = jsonNames(reflect.TypeFor[Deploy]())
	buildFields   = jsonNames(reflect.TypeFor[Build]())
	allowedFields = describeFields(reflect.TypeFor[Deploy]())
)

// jsonNames is the set of the JSON names of a struct's fields.
func jsonNames(t reflect.Type) map[string]bool {
	names := map[string]bool{}
	for f := range t.Fields() {
		names[jsonName(f)] = true
	}
	return names
}

func jsonName(f reflect.StructField) string {
	name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
	return name
}

// describeFields lists a struct's JSON names in order, a nested struct's in
// braces: "app, env, layer, group, build{id, url, commit}, instanceId, dryRun".
func describeFields(t reflect.Type) string {
	var names []string
	for f := range t.Fields() {
		n := jsonName(f)
		if f.Type.Kind() == reflect.Struct {
			n += "{" + describeFields(f.Type) + "}"
		}
		names = append(names, n)
	}
	return strings.Join(names, ", ")
}

// checkFieldNames rejects field names that differ from the contract's only in
// case ("App", "instanceid"): encoding/json would match them to the field, the
// schema (and every other reader of the event) would not. It runs after the
// detail has decoded into a Deploy, so the detail and its build are objects.
func checkFieldNames(detail []byte) error {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(detail, &top); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(top)) {
		if !deployFields[name] {
			return fmt.Errorf("unknown field %s (names are case-sensitive); allowed: %s", Quote(name), allowedFields)
		}
	}
	var build map[string]json.RawMessage
	if raw, ok := top["build"]; ok {
		if err := json.Unmarshal(raw, &build); err != nil {
			return err
		}
	}
	for _, name := range slices.Sorted(maps.Keys(build)) {
		if !buildFields[name] {
			return fmt.Errorf("unknown field %s (names are case-sensitive); allowed: %s", Quote("build."+name), allowedFields)
		}
	}
	return nil
}
