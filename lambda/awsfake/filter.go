package awsfake

import (
	"encoding/base64"
	"reflect"
	"sort"
	"strings"

	ec2types "github.com/aws/aws-sdk-go-v2/service/ec2/types"
)

// filterable is what a describe call's filters look at: named attributes and tags.
type filterable struct {
	attrs map[string][]string
	tags  map[string]string
}

// filter is one filter of a request: a name and the values, any of which matches.
type filter struct {
	name   string
	values []string
}

// ec2Filters converts and checks EC2 filters: every name must be one of allowed or
// a tag filter (tag:<key>, tag-key, tag-value), and every filter needs a value.
func ec2Filters(in []ec2types.Filter, allowed ...string) ([]filter, error) {
	out := make([]filter, 0, len(in))
	for _, f := range in {
		out = append(out, filter{name: derefString(f.Name), values: f.Values})
	}
	return checkFilters(out, allowed)
}

func checkFilters(fs []filter, allowed []string) ([]filter, error) {
	for _, f := range fs {
		known := f.name == "tag-key" || f.name == "tag-value" ||
			(strings.HasPrefix(f.name, "tag:") && len(f.name) > len("tag:"))
		for _, a := range allowed {
			known = known || f.name == a
		}
		if !known {
			return nil, errorf("InvalidParameterValue", "The filter '%s' is invalid", f.name)
		}
		if len(f.values) == 0 {
			// AWS rejects a filter without values; matching nothing silently would hide bugs.
			return nil, errorf("InvalidParameterValue", "The filter '%s' has no values", f.name)
		}
	}
	return fs, nil
}

// matches reports whether r passes every filter (filters AND'ed, values OR'ed).
func (r filterable) matches(fs []filter) bool {
	for _, f := range fs {
		if !r.matchesOne(f) {
			return false
		}
	}
	return true
}

func (r filterable) matchesOne(f filter) bool {
	var candidates []string
	switch {
	case strings.HasPrefix(f.name, "tag:"):
		v, ok := r.tags[strings.TrimPrefix(f.name, "tag:")]
		if !ok {
			return false
		}
		candidates = []string{v}
	case f.name == "tag-key":
		for k := range r.tags {
			candidates = append(candidates, k)
		}
	case f.name == "tag-value":
		for _, v := range r.tags {
			candidates = append(candidates, v)
		}
	default:
		candidates = r.attrs[f.name]
	}
	for _, pattern := range f.values {
		for _, c := range candidates {
			if wildcardMatch(pattern, c) {
				return true
			}
		}
	}
	return false
}

// wildcardMatch matches s against an EC2 filter value: * is any run of characters,
// ? is one character, and a backslash escapes the next character.
func wildcardMatch(pattern, s string) bool {
	p, t := []rune(pattern), []rune(s)
	var match func(i, j int) bool
	match = func(i, j int) bool {
		for i < len(p) {
			switch p[i] {
			case '*':
				for i < len(p) && p[i] == '*' {
					i++
				}
				if i == len(p) {
					return true
				}
				for k := j; k <= len(t); k++ {
					if match(i, k) {
						return true
					}
				}
				return false
			case '?':
				if j >= len(t) {
					return false
				}
			case '\\':
				if i+1 < len(p) {
					i++
				}
				if j >= len(t) || t[j] != p[i] {
					return false
				}
			default:
				if j >= len(t) || t[j] != p[i] {
					return false
				}
			}
			i++
			j++
		}
		return j == len(t)
	}
	return match(0, 0)
}

// paginate returns the page of items (sorted ascending by key) that follows token,
// at most size long (size <= 0: everything), and the token of the next page.
// Tokens name the last key returned, so pages stay correct while items come and go.
func paginate[T any](items []T, key func(T) string, token *string, size int) ([]T, *string, error) {
	start := 0
	if token != nil && *token != "" {
		raw, err := base64.RawURLEncoding.DecodeString(*token)
		if err != nil {
			return nil, nil, errorf("InvalidParameterValue", "Invalid value '%s' for NextToken", *token)
		}
		after := string(raw)
		start = sort.Search(len(items), func(i int) bool { return key(items[i]) > after })
	}
	rest := items[start:]
	if size <= 0 || len(rest) <= size {
		return rest, nil, nil
	}
	next := base64.RawURLEncoding.EncodeToString([]byte(key(rest[size-1])))
	return rest[:size], &next, nil
}

// pageSize is the size of a page: the request's limit, AWS's default when there is
// none, both capped by WithPageSize.
func (c *Cloud) pageSizeFor(requested *int32, awsDefault int) int {
	n := awsDefault
	if requested != nil {
		n = int(*requested)
	}
	if c.pageSize > 0 && (n <= 0 || n > c.pageSize) {
		n = c.pageSize
	}
	return n
}

func checkRange(name string, v *int32, lo, hi int32) error {
	if v != nil && (*v < lo || *v > hi) {
		return errorf("InvalidParameterValue", "Value ( %d ) for parameter %s is invalid. Expecting a value between %d and %d.", *v, name, lo, hi)
	}
	return nil
}

// clone returns a deep copy of v: pointers, slices, maps and the exported fields of
// structs are copied, so nothing in the result is shared with v.
func clone[T any](v T) T {
	rv := reflect.ValueOf(&v).Elem()
	return deepCopy(rv).Interface().(T)
}

func deepCopy(v reflect.Value) reflect.Value {
	switch v.Kind() {
	case reflect.Pointer:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type().Elem())
		n.Elem().Set(deepCopy(v.Elem()))
		return n
	case reflect.Slice:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeSlice(v.Type(), v.Len(), v.Len())
		for i := range v.Len() {
			n.Index(i).Set(deepCopy(v.Index(i)))
		}
		return n
	case reflect.Map:
		if v.IsNil() {
			return v
		}
		n := reflect.MakeMapWithSize(v.Type(), v.Len())
		iter := v.MapRange()
		for iter.Next() {
			n.SetMapIndex(iter.Key(), deepCopy(iter.Value()))
		}
		return n
	case reflect.Struct:
		n := reflect.New(v.Type()).Elem()
		n.Set(v)
		for i := range v.NumField() {
			if v.Type().Field(i).IsExported() {
				n.Field(i).Set(deepCopy(v.Field(i)))
			}
		}
		return n
	case reflect.Interface:
		if v.IsNil() {
			return v
		}
		n := reflect.New(v.Type()).Elem()
		n.Set(deepCopy(v.Elem()))
		return n
	default:
		return v
	}
}

func derefString(p *string) string {
	if p == nil {
		return ""
	}
	return *p
}

func copyTags(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

// ec2Tags returns m as EC2 tags sorted by key, or nil when m is empty.
func ec2Tags(m map[string]string) []ec2types.Tag {
	if len(m) == 0 {
		return nil
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]ec2types.Tag, 0, len(keys))
	for _, k := range keys {
		out = append(out, ec2types.Tag{Key: ptr(k), Value: ptr(m[k])})
	}
	return out
}

func ptr[T any](v T) *T { return &v }
