package event

import (
	_ "embed" // the deploy-finished JSON Schema
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
)

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
	if env.Classify() != KindDeploy {
		return env, nil, fmt.Errorf("event has detail-type %s, not %q", Quote(env.DetailType), DeployFinished)
	}
	d, err := ParseDeploy(env.Detail)
	if err != nil {
		return env, nil, err
	}
	if env.Time.IsZero() {
		return env, nil, errors.New(`event has no "time": amibump records it as the deploy time`)
	}
	return env, d, nil
}

// deployFields and buildFields are the detail's field names, spelled exactly.
var (
	deployFields = map[string]bool{"app": true, "env": true, "layer": true, "group": true, "build": true, "instanceId": true, "dryRun": true}
	buildFields  = map[string]bool{"id": true, "url": true, "commit": true}
)

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
			return fmt.Errorf("unknown field %s (names are case-sensitive); allowed: app, env, layer, group, build{id, url, commit}, instanceId, dryRun", Quote(name))
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
			return fmt.Errorf("unknown field %s (names are case-sensitive); allowed: app, env, layer, group, build{id, url, commit}, instanceId, dryRun", Quote("build."+name))
		}
	}
	return nil
}
