package plan

import (
	"strings"
	"testing"
	"time"
)

func TestTagParameter(t *testing.T) {
	tests := []struct {
		name, value, want, wantErr string
	}{
		{"true names the template under the prefix", "true", "/amibump/shop-web", ""},
		{"any case", " TRUE ", "/amibump/shop-web", ""},
		{"false or empty: none", "false", "", ""},
		{"a name under the prefix", "/amibump/web/current", "/amibump/web/current", ""},
		{"the prefix alone", "/amibump/", "", "outside /amibump/"},
		{"outside the prefix", "/platform/ami", "", "outside /amibump/"},
		{"not a name", "yes please", "", "is not a parameter name"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := TagParameter("amibump:ssm-parameter", tt.value, "shop-web", DefaultSSMPrefix)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) || !strings.Contains(err.Error(), "amibump:ssm-parameter") {
					t.Fatalf("got %q, %v; want an error naming the tag and saying %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
	if _, err := TagParameter("amibump:ssm-parameter", "true", "web(blue)", DefaultSSMPrefix); err == nil {
		t.Error("a template name SSM does not allow in a parameter name must be an error")
	}
}

func TestAliasParameter(t *testing.T) {
	tests := []struct {
		imageID, want, wantErr string
	}{
		{"resolve:ssm:/amibump/web", "/amibump/web", ""},
		{"resolve:ssm:/amibump/web:3", "", "pins"},
		{"resolve:ssm:/amibump/web:live", "", "pins"},
		{"resolve:ssm:/platform/web", "", "outside /amibump/"},
		{"resolve:ssm:arn:aws:ssm:us-east-1:123456789012:parameter/amibump/web", "", "another account"},
	}
	for _, tt := range tests {
		t.Run(tt.imageID, func(t *testing.T) {
			got, err := AliasParameter(tt.imageID, "web", DefaultSSMPrefix)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("got %q, %v; want an error saying %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Errorf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestCheckSSMPrefix(t *testing.T) {
	for prefix, ok := range map[string]bool{
		"/amibump/": true, "/platform/amis/": true, "amibump/": false, "/amibump": false, "/": false,
		"/aws/x/": false, "/SSM/": false, "/a b/": false, "/a//b/": false,
	} {
		if err := CheckSSMPrefix(prefix); (err == nil) != ok {
			t.Errorf("%q: %v, want ok=%t", prefix, err, ok)
		}
	}
}

func TestResolvedDescription(t *testing.T) {
	d := ResolvedDescription("ami-0123456789abcdef0", strings.Repeat("b", 300), "c1")
	if !Marked(d) || len(d) > 255 || DescribedImage(d) != "ami-0123456789abcdef0" {
		t.Errorf("description %q: want marked, at most 255 characters, naming the AMI", d)
	}
	if DescribedImage(VersionDescription("b", "c")) != "" {
		t.Error("a plain amibump description names no AMI")
	}
}

func TestParameterStep(t *testing.T) {
	ours := Image{ID: "ami-new", Deploy: dep(10, "b10")}
	older, newer := dep(5, "b5"), dep(20, "b20")
	tests := []struct {
		name    string
		current string
		held    *Deploy
		want    ParameterAction
	}{
		{"missing", "", nil, Write},
		{"already ours", "ami-new", &ours.Deploy, Keep},
		{"an older release", "ami-old", &older, Write},
		{"a newer release", "ami-newer", &newer, Newer},
		{"an AMI amibump did not make", "ami-base", nil, Write},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := ParameterStep(tt.current, tt.held, ours); got != tt.want {
				t.Errorf("got %d, want %d", got, tt.want)
			}
		})
	}
}

func TestDrift(t *testing.T) {
	top := Image{ID: "ami-top", Deploy: dep(10, "b10"), State: "available"}
	tmpl := func(latest Version) Template {
		return Template{
			Versions: []Version{{Number: 1, ImageID: "ami-base"}, {Number: 2, ImageID: "ami-top", Marked: true, Default: true}, latest},
			Images:   map[string]Image{"ami-top": top},
		}
	}
	tests := []struct {
		name   string
		latest Version
		want   bool
	}{
		{"a hand-made version with another AMI", Version{Number: 3, ImageID: "ami-base"}, true},
		{"a hand-made version with the same AMI", Version{Number: 3, ImageID: "ami-top"}, false},
		{"a hand-made version resolving a parameter", Version{Number: 3, ImageID: "resolve:ssm:/amibump/web"}, false},
		{"amibump's own version", Version{Number: 3, ImageID: "ami-top", Marked: true}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			latest, v, img, ok := DriftSuspect(tmpl(tt.latest))
			if ok != tt.want || (ok && (latest.Number != 3 || v.Number != 2 || img.ID != "ami-top")) {
				t.Errorf("got %+v %+v %+v %t, want suspect=%t", latest, v, img, ok, tt.want)
			}
		})
	}
	if !Drifted(t0, top) || Drifted(t0.Add(time.Hour), top) || !Drifted(time.Time{}, top) {
		t.Error("older or unknown AMIs drift, newer ones do not")
	}
}
