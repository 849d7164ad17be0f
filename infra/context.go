package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"

	"github.com/amibump/amibump/infra/amibump"
)

// contextKeys are the cdk.json context keys amibump reads (the stack's settings); each may be
// overridden per deploy with `cdk deploy -c key=value`.
var contextKeys = []string{
	"busName", "ciSource", "ciPrincipals", "archiveRetentionDays", "reconcileMinutes",
	"architecture", "alarmEmail", "logRetentionDays", "logLevel", "kmsKeyArns", "ssmParameterPrefix", "reservedConcurrency",
	"restrictDeployEvents", "ciOrgId", "readOnlyTrust", "resultsBusArn", "replicaRegions", "copyKmsKeyArn",
}

// propsFromContext turns context values into the construct's settings. Values
// come typed from cdk.json (numbers, lists) or as strings from -c key=value;
// both are accepted. A key that is absent keeps its default. The error joins
// every problem, each naming the key and what it allows.
func propsFromContext(values map[string]any) (*amibump.Props, error) {
	p := amibump.Defaults()
	var errs []error
	// set parses the value of key, when present, with parse; its error is
	// reported under the key.
	set := func(key string, parse func(v any) error) {
		if v, ok := values[key]; ok && v != nil {
			if err := parse(v); err != nil {
				errs = append(errs, fmt.Errorf("%s: %w", key, err))
			}
		}
	}
	str := func(dst *string) func(any) error {
		return func(v any) error {
			s, ok := v.(string)
			if !ok {
				return fmt.Errorf("%v is a %T; want a string", v, v)
			}
			*dst = strings.TrimSpace(s)
			return nil
		}
	}
	num := func(dst *int) func(any) error {
		return func(v any) error {
			n, err := wholeNumber(v)
			if err == nil {
				*dst = n // a bad value keeps the default, so Validate does not report it twice
			}
			return err
		}
	}
	list := func(what string, dst *[]string) func(any) error {
		return func(v any) (err error) { *dst, err = stringList(v, what); return err }
	}
	set("busName", str(&p.BusName))
	set("ciSource", str(&p.CISource))
	set("architecture", str(&p.Architecture))
	set("alarmEmail", str(&p.AlarmEmail))
	set("logLevel", str(&p.LogLevel))
	set("ssmParameterPrefix", str(&p.SSMParameterPrefix))
	set("ciOrgId", str(&p.CIOrgID))
	set("resultsBusArn", str(&p.ResultsBusARN))
	set("copyKmsKeyArn", str(&p.CopyKmsKeyARN))
	p.LogLevel = strings.ToUpper(p.LogLevel)
	set("archiveRetentionDays", num(&p.ArchiveRetentionDays))
	set("reconcileMinutes", num(&p.ReconcileMinutes))
	set("logRetentionDays", num(&p.LogRetentionDays))
	set("reservedConcurrency", func(v any) (err error) { p.ReservedConcurrency, err = reservedConcurrency(v); return err })
	set("restrictDeployEvents", func(v any) (err error) { p.RestrictDeployEvents, err = boolean(v); return err })
	set("ciPrincipals", list("account ids and role ARNs", &p.CIPrincipals))
	set("kmsKeyArns", list("KMS key ARNs", &p.KMSKeyARNs))
	set("readOnlyTrust", list("account ids or an organisation id", &p.ReadOnlyTrust))
	set("replicaRegions", list("region names", &p.ReplicaRegions))
	if err := p.Validate(); err != nil {
		errs = append(errs, err)
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	return &p, nil
}

// propsIn is propsFromContext for a stack deployed in region (the CDK CLI's,
// CDK_DEFAULT_REGION; "" when unknown), with the settings that depend on the
// region checked for it too (replicaRegions, copyKmsKeyArn).
func propsIn(values map[string]any, region string) (*amibump.Props, error) {
	p, err := propsFromContext(values)
	if err != nil || region == "" {
		return p, err
	}
	if err := p.ValidateIn(region); err != nil {
		return nil, err
	}
	return p, nil
}

// wholeNumber accepts 90 (from cdk.json) and "90" (from -c).
func wholeNumber(v any) (int, error) {
	switch v := v.(type) {
	case float64:
		if v != math.Trunc(v) || math.Abs(v) > math.MaxInt32 {
			return 0, fmt.Errorf("%v is not a whole number", v)
		}
		return int(v), nil
	case string:
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil {
			return 0, fmt.Errorf("%q is not a whole number", v)
		}
		return n, nil
	default:
		return 0, fmt.Errorf("%v is a %T; want a whole number", v, v)
	}
}

// boolean accepts true and false (from cdk.json) and "true" and "false" (from -c).
func boolean(v any) (bool, error) {
	switch v := v.(type) {
	case bool:
		return v, nil
	case string:
		switch strings.ToLower(strings.TrimSpace(v)) {
		case "true":
			return true, nil
		case "false":
			return false, nil
		}
		return false, fmt.Errorf("%q is not allowed; want true or false", v)
	default:
		return false, fmt.Errorf("%v is a %T; want true or false", v, v)
	}
}

// reservedConcurrency accepts "none" (or "": no reservation) and a whole
// number from 1. A 0 is refused rather than taken for "none": Lambda's
// reserved concurrency of 0 throttles every invocation, and whoever writes
// 0 may mean either.
func reservedConcurrency(v any) (int, error) {
	if s, ok := v.(string); ok {
		if s = strings.TrimSpace(s); s == "" || strings.EqualFold(s, "none") {
			return amibump.NoReservation, nil
		}
	}
	n, err := wholeNumber(v)
	if err != nil {
		return amibump.NoReservation, fmt.Errorf(`%w; want "none" or a whole number from 1`, err)
	}
	if n == 0 {
		return amibump.NoReservation, errors.New(`0 is not allowed: Lambda's reserved concurrency of 0 throttles every invocation, ` +
			`so amibump would never run; want "none" for no reservation, or a whole number from 1`)
	}
	return n, nil
}

// stringList accepts a JSON list (cdk.json, or -c 'key=["a","b"]'), a
// comma-separated string (-c key=a,b) and the empty string (none).
func stringList(v any, what string) ([]string, error) {
	var items []any
	switch v := v.(type) {
	case []any:
		items = v
	case string:
		s := strings.TrimSpace(v)
		if strings.HasPrefix(s, "[") {
			if err := json.Unmarshal([]byte(s), &items); err != nil {
				return nil, fmt.Errorf("%q is not a JSON list of strings: %v", s, err)
			}
			break
		}
		for part := range strings.SplitSeq(s, ",") {
			if part = strings.TrimSpace(part); part != "" {
				items = append(items, part)
			}
		}
	default:
		return nil, fmt.Errorf("%v is a %T; want a list of %s, or a comma-separated string", v, v, what)
	}
	var out []string
	for _, item := range items {
		s, ok := item.(string)
		if !ok {
			return nil, fmt.Errorf("%v is a %T; want a string (one of the %s)", item, item, what)
		}
		if s = strings.TrimSpace(s); s != "" {
			out = append(out, s)
		}
	}
	return out, nil
}

// unknownKeys rejects context keys that are neither amibump's nor the CDK's
// own: a typo such as -c reconcileMinute=5 must not deploy the default silently.
// context is the app's context as jsii hands it over (a map, or a pointer to one).
func unknownKeys(context any) error {
	var all map[string]any
	switch c := context.(type) {
	case map[string]any:
		all = c
	case *map[string]any:
		if c != nil {
			all = *c
		}
	}
	var errs []error
	for key := range all {
		if slices.Contains(contextKeys, key) || slices.Contains(orgKeys, key) || strings.HasPrefix(key, "@") || strings.HasPrefix(key, "aws:") || strings.HasPrefix(key, "cdk") ||
			strings.HasPrefix(key, "availability-zones:") || strings.Contains(key, ":") {
			continue
		}
		errs = append(errs, fmt.Errorf("%s: not a setting amibump knows; the settings are %s", key, strings.Join(append(slices.Clone(contextKeys), orgKeys...), ", ")))
	}
	slices.SortFunc(errs, func(a, b error) int { return strings.Compare(a.Error(), b.Error()) })
	return errors.Join(errs...)
}
