package main

import (
	"bytes"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/gateway/settings"
	"github.com/micro-gw/micro-gw/pkg/project"
)

// root is the repository root, from this package's folder.
const root = "../.."

// TestREADMESettingsTableIsCurrent fails when README.md's settings table
// is not what package settings says: a setting added, renamed, or given
// another default or help without go generate.
func TestREADMESettingsTableIsCurrent(t *testing.T) {
	checkCurrent(t, readmeFile)
}

// TestExampleConfIsTheTemplate fails when the example project's
// conf/gateway.conf is not the template micro-gw init writes.
func TestExampleConfIsTheTemplate(t *testing.T) {
	checkCurrent(t, exampleConf)
}

func checkCurrent(t *testing.T, rel string) {
	t.Helper()
	i := slices.IndexFunc(files, func(f file) bool { return f.path == rel })
	have, want, err := generate(root, files[i])
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(have, want) {
		line, h, w := firstDiff(have, want)
		t.Errorf("%s is stale; run go generate . in the repository root.\nfirst difference at line %d:\nhave %q\nwant %q", rel, line, h, w)
	}
}

// firstDiff returns the first line that differs, numbered from 1.
func firstDiff(a, b []byte) (int, string, string) {
	al, bl := strings.Split(string(a), "\n"), strings.Split(string(b), "\n")
	for i := range max(len(al), len(bl)) {
		var x, y string
		if i < len(al) {
			x = al[i]
		}
		if i < len(bl) {
			y = bl[i]
		}
		if x != y || i >= len(al) || i >= len(bl) {
			return i + 1, x, y
		}
	}
	return 0, "", ""
}

// TestStaleFilesAreRewritten shows that the checks above can fail and that
// generating repairs them: a README whose table lacks a setting, and an
// example conf that is an old hand copy, are rewritten; README text around
// the table is kept.
func TestStaleFilesAreRewritten(t *testing.T) {
	dir := t.TempDir()
	readme := "# title\n\ntext before\n\n" + tableStart + "| flag | default |\n|---|---|\n| `--http-port` | 9090 |\n" + tableEnd + "\ntext after\n"
	if err := os.WriteFile(filepath.Join(dir, readmeFile), []byte(readme), 0o644); err != nil {
		t.Fatal(err)
	}
	conf := filepath.Join(dir, filepath.FromSlash(exampleConf))
	if err := os.MkdirAll(filepath.Dir(conf), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(conf, []byte("# http-port = 9090\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := run([]string{"-root", dir}, &stderr); code != 0 {
		t.Fatalf("exit %d: %s", code, stderr.String())
	}
	got, _ := os.ReadFile(filepath.Join(dir, readmeFile))
	if !strings.HasPrefix(string(got), "# title\n\ntext before\n\n"+tableStart+"| flag | type |") || !strings.HasSuffix(string(got), tableEnd+"\ntext after\n") {
		t.Errorf("README not spliced:\n%s", got)
	}
	for _, s := range settings.All() {
		row := "| `--" + s.Name + "` |"
		if s.In(settings.Flag) != strings.Contains(string(got), row) {
			t.Errorf("README row of %s (a flag: %v):\n%s", s.Name, s.In(settings.Flag), got)
		}
	}
	if got, _ := os.ReadFile(conf); string(got) != project.ConfTemplate() {
		t.Errorf("example conf not rewritten:\n%s", got)
	}
}

// TestREADMEWithoutMarkersIsAnError: a README that lost its markers is
// an error that says what to add, not a README rewritten without a table.
func TestREADMEWithoutMarkersIsAnError(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, readmeFile), []byte("# title\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stderr bytes.Buffer
	if code := run([]string{"-root", dir}, &stderr); code != 1 || !strings.Contains(stderr.String(), "README.md: no settings table: put the lines") {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}
