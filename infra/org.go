package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/amibump/amibump/infra/amibump"
)

// orgKeys are the context keys of the organisation's stack, AmibumpOrg,
// which the app builds only when orgTargets is set.
var orgKeys = []string{"orgTargets", "orgCallAs"}

// orgFromContext turns orgTargets and orgCallAs into the organisation's
// settings, with member's as every member stack's; nil when orgTargets is
// absent or empty (no AmibumpOrg). orgTargets comes as an object from
// cdk.json, or as its JSON from -c orgTargets='{...}'.
func orgFromContext(values map[string]any, member *amibump.Props) (*amibump.OrgProps, error) {
	callAs, err := orgCallAs(values["orgCallAs"])
	if err != nil {
		return nil, err // checked with or without orgTargets: a typo must not wait for the day it is used
	}
	raw, ok := values["orgTargets"]
	if s, isString := raw.(string); isString {
		if s = strings.TrimSpace(s); s == "" {
			ok = false
		} else if err := json.Unmarshal([]byte(s), &raw); err != nil {
			return nil, fmt.Errorf("orgTargets: %q is not JSON: %v; want {\"organizationalUnitIds\": [...], \"regions\": [...]}", s, err)
		}
	}
	targets, isObject := raw.(map[string]any)
	if !ok || raw == nil || isObject && len(targets) == 0 {
		return nil, nil
	}
	if !isObject {
		return nil, fmt.Errorf(`orgTargets: %v is a %T; want {"organizationalUnitIds": [...], "regions": [...]}, or {} for no organisation stack`, raw, raw)
	}
	o := &amibump.OrgProps{Member: *member, CallAs: callAs}
	var errs []error
	for key, v := range targets {
		var err error
		switch key {
		case "organizationalUnitIds":
			o.OrganizationalUnitIDs, err = stringList(v, "OU ids")
		case "regions":
			o.Regions, err = stringList(v, "regions")
		default:
			err = errors.New("not a key of orgTargets; the keys are organizationalUnitIds and regions")
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("orgTargets.%s: %w", key, err))
		}
	}
	if len(errs) == 0 {
		errs = append(errs, o.Validate())
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(fmt.Sprint(a), fmt.Sprint(b)) })
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return o, nil
}

// orgCallAs accepts SELF and DELEGATED_ADMIN, in any case; absent or empty: SELF.
func orgCallAs(v any) (string, error) {
	s, isString := v.(string)
	if v != nil && !isString {
		return "", fmt.Errorf("orgCallAs: %v is a %T; want SELF or DELEGATED_ADMIN", v, v)
	}
	if s = strings.ToUpper(strings.TrimSpace(s)); s == "" {
		return "SELF", nil
	}
	if !slices.Contains(amibump.CallAsValues, s) {
		return "", fmt.Errorf("orgCallAs: %q is not allowed; want SELF (the management account) or DELEGATED_ADMIN (a delegated administrator of StackSets)", v)
	}
	return s, nil
}
