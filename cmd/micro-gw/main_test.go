package main

import (
	"flag"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/rogpeppe/go-internal/testscript"
)

var updateScripts = flag.Bool("update-scripts", false, "rewrite testdata/script files with actual output")

func TestMain(m *testing.M) {
	os.Exit(testscript.RunMain(m, map[string]func() int{
		"micro-gw": func() int { return run(os.Args[1:], os.Stdin, os.Stdout, os.Stderr) },
	}))
}

// TestScripts runs the CLI end to end: testdata/script/*.txtar.
//
// Scripts run in a temporary folder outside the repository. The Go caches
// are the machine's own (so builds are warm and the module cache can serve
// them offline); GOPROXY is off so a build that needed the network fails.
func TestScripts(t *testing.T) {
	goEnv := map[string]string{}
	for _, k := range []string{"GOCACHE", "GOMODCACHE", "GOPATH", "GOROOT"} {
		out, err := exec.Command("go", "env", k).Output()
		if err != nil {
			t.Fatalf("go env %s: %v", k, err)
		}
		goEnv[k] = strings.TrimSpace(string(out))
	}
	repo, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	testscript.Run(t, testscript.Params{
		Dir:                 "testdata/script",
		UpdateScripts:       *updateScripts,
		RequireExplicitExec: true,
		Setup: func(env *testscript.Env) error {
			for k, v := range goEnv {
				env.Setenv(k, v)
			}
			env.Setenv("HOME", filepath.Join(env.WorkDir, ".home"))
			env.Setenv("GOPROXY", "off")
			env.Setenv("GOFLAGS", "")
			env.Setenv("REPO", repo)
			// CMDDIR holds only the commands testscript provides (micro-gw):
			// PATH=$CMDDIR is a PATH without the go command.
			env.Setenv("CMDDIR", filepath.SplitList(env.Getenv("PATH"))[0])
			return nil
		},
	})
}
