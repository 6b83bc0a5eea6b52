package project

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/gateway/settings"
)

func TestValidateName(t *testing.T) {
	cases := []struct{ name, wantErr string }{
		{"petstore-project", ""},
		{"shop_v2.1", ""},
		{"évent-api", ""},
		{strings.Repeat("a", 100), ""},
		{"", "empty"},
		{".", "is a path"},
		{"..", "is a path"},
		{"a/b", "path separator"},
		{`a\b`, "path separator"},
		{"/abs", "path separator"},
		{"new\nline", "control character"},
		{"nul\x00", "control character"},
		{"del\x7f", "control character"},
		{strings.Repeat("a", 101), "101 characters long; use at most 100"},
	}
	for _, c := range cases {
		err := ValidateName(c.name)
		switch {
		case c.wantErr == "" && err != nil:
			t.Errorf("ValidateName(%q) = %v, want ok", c.name, err)
		case c.wantErr != "" && (err == nil || !strings.Contains(err.Error(), c.wantErr)):
			t.Errorf("ValidateName(%q) = %v, want an error containing %q", c.name, err, c.wantErr)
		}
	}
}

func TestParseConf(t *testing.T) {
	got, err := ParseConf("gateway.conf", []byte("# c\n\nhttp-port = 8080\n  etcdurl=http://a:2379,http://b:2379  \nlog-format = json\n"))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{"http-port": "8080", "etcdurl": "http://a:2379,http://b:2379", "log-format": "json"}
	if len(got) != len(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	for _, c := range []struct{ in, wantErr string }{
		{"http-port 8080\n", "gateway.conf:1: \"http-port 8080\" is not a setting; write name = value"},
		{"\nhttp-prot = 1\n", "gateway.conf:2: unknown setting \"http-prot\""},
		{"http-port = 1\nhttp-port = 2\n", "gateway.conf:2: http-port is set twice"},
		{"etcdpassword = x\n", "gateway.conf:1: etcdpassword may not be stored in the project: it would be compiled into the executable; pass --etcdpassword-file"},
		{"version = true\n", "gateway.conf:1: version may not be stored in the project: "},
		{"\n\nstrict = yes\n", `gateway.conf:3: strict = "yes"; write strict = true or strict = false`},
	} {
		if _, err := ParseConf("gateway.conf", []byte(c.in)); err == nil || !strings.Contains(err.Error(), c.wantErr) {
			t.Errorf("ParseConf(%q) = %v, want %q", c.in, err, c.wantErr)
		}
	}
}

// TestConfTemplateParses keeps the commented template in step with package
// settings: every commented-out line in it, uncommented, is a valid
// setting, and every setting conf/gateway.conf may hold is shown.
func TestConfTemplateParses(t *testing.T) {
	setting := regexp.MustCompile(`^# ([a-z-]+ =.*)$`)
	var lines []string
	for _, l := range strings.Split(ConfTemplate(), "\n") {
		if m := setting.FindStringSubmatch(l); m != nil {
			lines = append(lines, m[1])
		}
	}
	got, err := ParseConf("template", []byte(strings.Join(lines, "\n")))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range settings.Names(settings.Conf) {
		if _, ok := got[name]; !ok {
			t.Errorf("setting %s is not shown in ConfTemplate", name)
		}
	}
	build, gateway := SplitSettings(got)
	nBuild := len(settings.Names(settings.Build))
	if nBuild == 0 || len(build) != nBuild || len(gateway) != len(settings.Names(settings.Conf))-nBuild {
		t.Errorf("SplitSettings: %d build settings, %d gateway settings; want %d and the rest", len(build), len(gateway), nBuild)
	}
}

func TestCreateForceKeepsOtherFiles(t *testing.T) {
	dir := t.TempDir()
	if _, err := Create(dir, "p", CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	keep := filepath.Join(dir, "p", "notes.txt")
	if err := os.WriteFile(keep, []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := Create(dir, "p", CreateOptions{}); err == nil {
		t.Fatal("Create on an existing folder without Force succeeded")
	}
	if _, err := Create(dir, "p", CreateOptions{Force: true, Definitions: []Definition{{Name: "a.yaml", Data: []byte("openapi: 3.0.3")}}}); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{keep, filepath.Join(dir, "p", "api_definitions", "a.yaml"), filepath.Join(dir, "p", "conf", "gateway.conf")} {
		if _, err := os.Stat(f); err != nil {
			t.Error(err)
		}
	}
	entries, _ := os.ReadDir(dir)
	if len(entries) != 1 {
		t.Errorf("leftovers beside the project: %v", entries)
	}
}
