package main

import (
	"strings"
	"testing"

	"github.com/amibump/amibump/infra/amibump"
	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestOrgContext(t *testing.T) {
	member := amibump.Defaults()
	targets := map[string]any{"organizationalUnitIds": []any{"ou-ab12-cd34ef56"}, "regions": "eu-west-1, us-east-1"}
	tests := []struct {
		name   string
		values map[string]any
		want   *amibump.OrgProps
	}{
		{"no orgTargets: no organisation stack", nil, nil},
		{"orgTargets {} (cdk.json's default): none", map[string]any{"orgTargets": map[string]any{}, "orgCallAs": "SELF"}, nil},
		{"orgTargets empty from -c: none", map[string]any{"orgTargets": " "}, nil},
		{"from cdk.json, SELF by default", map[string]any{"orgTargets": targets},
			&amibump.OrgProps{Member: member, OrganizationalUnitIDs: []string{"ou-ab12-cd34ef56"}, Regions: []string{"eu-west-1", "us-east-1"}, CallAs: "SELF"}},
		{"from -c as JSON, a delegated administrator", map[string]any{
			"orgTargets": `{"organizationalUnitIds": ["r-ab12"], "regions": ["eu-central-1"]}`, "orgCallAs": "delegated_admin"},
			&amibump.OrgProps{Member: member, OrganizationalUnitIDs: []string{"r-ab12"}, Regions: []string{"eu-central-1"}, CallAs: "DELEGATED_ADMIN"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := orgFromContext(tt.values, &member)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got, cmpopts.IgnoreUnexported(amibump.Props{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestBadOrgContext(t *testing.T) {
	member := amibump.Defaults()
	tests := []struct {
		name   string
		values map[string]any
		want   []string
	}{
		{"not JSON", map[string]any{"orgTargets": "{ou-1"}, []string{"orgTargets", "not JSON", `"organizationalUnitIds"`}},
		{"a list", map[string]any{"orgTargets": []any{"ou-ab12-cd34ef56"}}, []string{"orgTargets", "want {"}},
		{"a misspelled key", map[string]any{"orgTargets": map[string]any{"ous": []any{"ou-ab12-cd34ef56"}, "regions": []any{"eu-west-1"}}},
			[]string{"orgTargets.ous: not a key of orgTargets", "organizationalUnitIds and regions"}},
		{"no regions", map[string]any{"orgTargets": map[string]any{"organizationalUnitIds": []any{"ou-ab12-cd34ef56"}}}, []string{"orgTargets.regions: empty"}},
		{"an account for an OU", map[string]any{"orgTargets": map[string]any{"organizationalUnitIds": []any{"123456789012"}, "regions": []any{"eu-west-1"}}},
			[]string{`orgTargets.organizationalUnitIds: "123456789012" is not allowed`}},
		{"regions not strings", map[string]any{"orgTargets": map[string]any{"organizationalUnitIds": []any{"ou-ab12-cd34ef56"}, "regions": []any{1.0}}},
			[]string{"orgTargets.regions", "want a string"}},
		{"orgCallAs", map[string]any{"orgCallAs": "ADMIN", "orgTargets": map[string]any{"organizationalUnitIds": []any{"r-ab12"}, "regions": []any{"eu-west-1"}}},
			[]string{`orgCallAs: "ADMIN" is not allowed`, "DELEGATED_ADMIN"}},
		{"orgCallAs not a string", map[string]any{"orgCallAs": true, "orgTargets": map[string]any{"organizationalUnitIds": []any{"r-ab12"}, "regions": []any{"eu-west-1"}}},
			[]string{"orgCallAs", "want SELF or DELEGATED_ADMIN"}},
		{"orgCallAs without orgTargets", map[string]any{"orgCallAs": "DELEGATED-ADMIN"}, []string{`orgCallAs: "DELEGATED-ADMIN" is not allowed`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := orgFromContext(tt.values, &member)
			if err == nil {
				t.Fatalf("got no error, want one naming %v", tt.want)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}
