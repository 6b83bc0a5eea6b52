package codegen

import (
	"context"
	"os"
	"os/exec"
	"path"
	"path/filepath"
	"strings"
	"testing"

	"github.com/micro-gw/micro-gw/internal/golden"
	"github.com/micro-gw/micro-gw/pkg/definition"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// gatewayFor loads one definition into a Gateway with a fixed version, so
// the output is stable across releases.
func gatewayFor(t *testing.T, projectName, def string) *spec.Gateway {
	t.Helper()
	api, _, err := definition.LoadFile(def)
	if err != nil {
		t.Fatalf("load %s: %v", def, err)
	}
	return &spec.Gateway{Project: projectName, Version: "0.0.0-golden", APIs: []spec.API{*api}}
}

// TestGenerateGolden compares the generated sources with testdata/golden;
// run with -update to rewrite them after an intended change.
func TestGenerateGolden(t *testing.T) {
	cases := map[string]struct{ project, def string }{
		"petstore": {"petstore-project", "../../examples/petstore-project/api_definitions/petstore.yaml"},
		"hostile":  {"evil\"`*/{{.}}", "../definition/testdata/defs/hostile.yaml"},
	}
	for name, c := range cases {
		t.Run(name, func(t *testing.T) {
			files, err := Generated(gatewayFor(t, c.project, c.def))
			if err != nil {
				t.Fatal(err)
			}
			for rel, got := range files {
				golden.Check(t, filepath.Join("testdata", "golden", name, path.Base(rel)+".golden"), got)
			}
		})
	}
}

// TestGeneratedMainCarriesNoDefinitionText checks the template boundary: the
// only definition-derived value in Go source is the project name, quoted.
func TestGeneratedMainCarriesNoDefinitionText(t *testing.T) {
	g := gatewayFor(t, "evil\"`*/{{.}}", "../definition/testdata/defs/hostile.yaml")
	files, err := Generated(g)
	if err != nil {
		t.Fatal(err)
	}
	main := string(files[path.Join(MainPackage, "main.go")])
	literal := `Project:        "evil\"` + "`" + `*/{{.}}",`
	if !strings.Contains(main, literal) {
		t.Fatalf("project name is not a quoted string literal in main.go:\n%s", main)
	}
	rest := strings.Replace(main, literal, "", 1)
	for _, bad := range []string{"RemoveAll", "os.Exit(1)", "panic", "{{", "/hostile", "Evil"} {
		if strings.Contains(rest, bad) {
			t.Errorf("generated main.go contains definition text %q:\n%s", bad, main)
		}
	}
}

// TestCompileHostile compiles a hostile definition and a hostile project
// name into a real executable and runs it: the values come back as data,
// exactly, and nothing in them ran.
func TestCompileHostile(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles a gateway")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH")
	}
	name := "evil\"`*{{.}}$(touch pwned)"
	dir := t.TempDir()
	g := gatewayFor(t, name, "../definition/testdata/defs/hostile.yaml")
	res, err := Compile(context.Background(), Input{Gateway: g, GenDir: filepath.Join(dir, "gen"), Exe: filepath.Join(dir, name)}, Options{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(res.Executable, "--version").CombinedOutput()
	if err != nil {
		t.Fatalf("%s --version: %v\n%s", res.Executable, err, out)
	}
	for _, want := range []string{"project: " + name, g.APIs[0].BasePath} {
		if !strings.Contains(string(out), want) {
			t.Errorf("--version output lacks %q:\n%s", want, out)
		}
	}
	for _, p := range []string{filepath.Join(dir, "pwned"), "pwned"} {
		if _, err := os.Stat(p); err == nil {
			t.Errorf("%s exists: something in the definition ran", p)
		}
	}
}
