package event

import (
	"bytes"
	_ "embed" // the rollback-requested JSON Schema
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"unicode"
	"unicode/utf8"
)

// RollbackRequested is the detail type of a rollback request: CI, a person
// (amibump rollback) or the EventBridge console puts it on amibump's bus,
// from the CI source, like deploy-finished.
const RollbackRequested = "rollback-requested"

// maxReasonLength bounds a rollback's reason, which the results repeat.
const maxReasonLength = 256

// KindRollback is the rollback-requested event: put the previous release (or
// the named build) back on the templates the detail selects, and hold them
// there.
var KindRollback = &Kind{
	Name:       "rollback",
	DetailType: RollbackRequested,
	From:       "(from CI or amibump rollback)",
	Check: func(e *Envelope) error {
		_, err := checkRollbackEvent(e)
		return err
	},
	Schema: RollbackRequestedSchema,
	DryRun: func(detail []byte) ([]byte, error) {
		r, err := ParseRollback(detail)
		if err != nil {
			return nil, err
		}
		r.DryRun = true
		return json.Marshal(r)
	},
}

// Rollback is the detail of a rollback-requested event.
type Rollback struct {
	App   string `json:"app"`
	Env   string `json:"env"`
	Layer string `json:"layer,omitempty"`
	Group string `json:"group,omitempty"`
	// ToBuild names the build to roll back to; empty: the release before the
	// current one.
	ToBuild string `json:"toBuild,omitempty"`
	// Reason is for people: the results repeat it.
	Reason string `json:"reason,omitempty"`
	DryRun bool   `json:"dryRun,omitempty"`
}

// RollbackRequestedSchema is the JSON Schema (draft-04) of a
// rollback-requested event as EventBridge delivers it, tested against
// ParseRollbackEvent like DeployFinishedSchema.
//
//go:embed rollback-requested.schema.json
var RollbackRequestedSchema []byte

var (
	rollbackFields        = jsonNames(reflect.TypeFor[Rollback]())
	allowedRollbackFields = describeFields(reflect.TypeFor[Rollback]())
)

// ParseRollback decodes and validates a rollback-requested detail as strictly
// as a deploy-finished one: unknown fields (and names that differ only in
// case) are rejected, and the error lists every problem, each naming the
// field and what is allowed.
func ParseRollback(detail []byte) (*Rollback, error) {
	dec := json.NewDecoder(bytes.NewReader(detail))
	dec.DisallowUnknownFields()
	var r Rollback
	if err := dec.Decode(&r); err != nil {
		msg := describeDecodeError(err)
		if field, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
			msg = fmt.Sprintf("unknown field %s; allowed: %s", Clip(field), allowedRollbackFields)
		}
		return nil, fmt.Errorf("invalid rollback-requested detail: %s", msg)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, errors.New("invalid rollback-requested detail: trailing data after the JSON object")
	}
	var top map[string]json.RawMessage
	if err := json.Unmarshal(detail, &top); err != nil {
		return nil, fmt.Errorf("invalid rollback-requested detail: %s", Clip(err.Error()))
	}
	for _, name := range slices.Sorted(maps.Keys(top)) {
		if !rollbackFields[name] {
			return nil, fmt.Errorf("invalid rollback-requested detail: unknown field %s (names are case-sensitive); allowed: %s", Quote(name), allowedRollbackFields)
		}
	}
	if err := r.Validate(); err != nil {
		return nil, err
	}
	return &r, nil
}

// Validate checks every field of the detail and returns all problems at once.
func (r *Rollback) Validate() error {
	d := Deploy{App: r.App, Env: r.Env, Layer: r.Layer, Group: r.Group, Build: Build{ID: "x"}}
	var errs []error
	if err := d.Validate(); err != nil {
		errs = append(errs, err)
	}
	if r.ToBuild != "" && (len(r.ToBuild) > maxBuildIDLength || !buildIDValue.MatchString(r.ToBuild)) {
		errs = append(errs, fmt.Errorf("detail.toBuild %s is not allowed: use the build id of a deploy (1-%d printable ASCII characters, no leading or trailing space), or leave it out for the release before the current one", Quote(r.ToBuild), maxBuildIDLength))
	}
	if utf8.RuneCountInString(r.Reason) > maxReasonLength || !printable(r.Reason) {
		errs = append(errs, fmt.Errorf("detail.reason is not allowed: use at most %d printable characters, no control characters", maxReasonLength))
	}
	return errors.Join(errs...)
}

func printable(s string) bool {
	for _, c := range s {
		if unicode.IsControl(c) {
			return false
		}
	}
	return true
}

// Selector returns the tag filters the request selects launch templates by,
// as a deploy-finished event's do.
func (r *Rollback) Selector() []TagValue {
	d := Deploy{App: r.App, Env: r.Env, Layer: r.Layer, Group: r.Group}
	return d.Selector()
}

// ParseRollbackEvent decodes a rollback-requested event as EventBridge
// delivers it and validates it as the function does.
func ParseRollbackEvent(raw []byte) (*Envelope, *Rollback, error) {
	env, err := ParseEnvelope(raw)
	if err != nil {
		return nil, nil, err
	}
	r, err := checkRollbackEvent(env)
	return env, r, err
}

// checkRollbackEvent validates a rollback-requested envelope: its detail
// type, a time (a deploy after it supersedes the rollback) and its detail.
func checkRollbackEvent(env *Envelope) (*Rollback, error) {
	if env.DetailType != RollbackRequested {
		return nil, fmt.Errorf("event has detail-type %s, not %q", Quote(env.DetailType), RollbackRequested)
	}
	r, err := ParseRollback(env.Detail)
	if err != nil {
		return nil, err
	}
	if env.Time.IsZero() {
		return nil, errors.New(`event has no "time": a deploy after it supersedes the rollback`)
	}
	return r, nil
}
