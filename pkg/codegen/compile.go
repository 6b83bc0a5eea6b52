package codegen

import (
	"bytes"
	"context"
	"fmt"
	"go/version"
	"io"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	microgw "github.com/micro-gw/micro-gw"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// Input is what Compile turns into an executable: values, not a project
// folder, so that any caller can compile a model it holds.
type Input struct {
	// Gateway is the model the executable serves, with the project name,
	// the micro-gw version and the settings it starts with.
	Gateway *spec.Gateway
	// GenDir receives the generated module; whatever it held is replaced.
	GenDir string
	// Exe is the executable to write. It is replaced only by a build that
	// succeeded and runs.
	Exe string
}

// Step names a step of Compile, for Options.Progress.
type Step string

// The steps of Compile, in order.
const (
	// StepGenerate writes the generated sources and the embedded runtime into Input.GenDir.
	StepGenerate Step = "generate"
	// StepCompile runs go build and checks that the executable runs.
	StepCompile Step = "compile"
)

// Options controls how Compile reports what it does.
type Options struct {
	// Verbose writes the go command and its output to Log.
	Verbose bool
	// Log receives what Verbose shows; nil discards it.
	Log io.Writer
	// Progress, when set, is called as each step ends, with how long it took.
	Progress func(step Step, took time.Duration)
}

// Result describes the executable Compile wrote.
type Result struct {
	Executable string
	Size       int64
}

// Compile generates the gateway's sources for in.Gateway into in.GenDir and
// compiles them into in.Exe. A failed compile leaves the previous
// executable untouched and no partial one.
func Compile(ctx context.Context, in Input, opts Options) (*Result, error) {
	if opts.Log == nil {
		opts.Log = io.Discard
	}
	progress := func(s Step, t0 time.Time) {
		if opts.Progress != nil {
			opts.Progress(s, time.Since(t0))
		}
	}
	goBin, err := findGo(ctx)
	if err != nil {
		return nil, err
	}

	t0 := time.Now()
	if err := writeModule(in.Gateway, in.GenDir); err != nil {
		return nil, err
	}
	progress(StepGenerate, t0)

	t0 = time.Now()
	if err := compile(ctx, goBin, in.GenDir, in.Exe, opts); err != nil {
		return nil, err
	}
	fi, err := os.Stat(in.Exe)
	if err != nil {
		return nil, err
	}
	progress(StepCompile, t0)
	return &Result{Executable: in.Exe, Size: fi.Size()}, nil
}

// writeModule writes into dir the module go build compiles: the sources
// generated from g and the embedded runtime with micro-gw's go.mod and go.sum.
func writeModule(g *spec.Gateway, dir string) error {
	files, err := Generated(g)
	if err != nil {
		return err
	}
	mod, err := ModuleFiles()
	if err != nil {
		return err
	}
	maps.Copy(files, mod)
	return writeTree(dir, files)
}

// requiredGo is the go directive of the embedded go.mod: the oldest Go that
// can compile the runtime.
func requiredGo() string {
	data, err := microgw.Source.ReadFile("go.mod")
	if err != nil {
		panic(err) // embedded at compile time
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "go "); ok {
			return strings.TrimSpace(v)
		}
	}
	panic("embedded go.mod has no go directive")
}

// findGo locates the go command and checks its version.
func findGo(ctx context.Context) (string, error) {
	need := requiredGo()
	goBin, err := exec.LookPath("go")
	if err != nil {
		return "", fmt.Errorf("the go command is not on PATH; micro-gw compiles gateways with Go %s or newer: install it from https://go.dev/dl/ and add its bin folder to PATH", need)
	}
	cmd := exec.CommandContext(ctx, goBin, "env", "GOVERSION")
	cmd.Env = append(os.Environ(), "GOTOOLCHAIN=local")
	v, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("%s env GOVERSION failed (%v); check your Go installation (Go %s or newer is needed)", goBin, err, need)
	}
	have := strings.TrimSpace(string(v))
	if version.Compare(have, "go"+need) < 0 {
		return "", fmt.Errorf("%s is %s; micro-gw needs Go %s or newer to compile gateways: install it from https://go.dev/dl/", goBin, have, need)
	}
	return goBin, nil
}

// writeTree replaces dir with exactly files.
func writeTree(dir string, files map[string][]byte) error {
	if err := os.RemoveAll(dir); err != nil {
		return fmt.Errorf("clear %s: %w", dir, err)
	}
	paths := make([]string, 0, len(files))
	for p := range files {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	for _, p := range paths {
		full := filepath.Join(dir, filepath.FromSlash(p))
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			return fmt.Errorf("write generated sources: %w", err)
		}
		if err := os.WriteFile(full, files[p], 0o644); err != nil {
			return fmt.Errorf("write generated sources: %w", err)
		}
	}
	return nil
}

// compile runs go build into a temporary file beside exe and renames it into
// place only when the build succeeded and the result runs.
func compile(ctx context.Context, goBin, modDir, exe string, opts Options) error {
	tmp, err := os.CreateTemp(filepath.Dir(exe), "."+filepath.Base(exe)+".build-*")
	if err != nil {
		return fmt.Errorf("create output in %s: %w", filepath.Dir(exe), err)
	}
	tmp.Close()
	tmpPath := tmp.Name()
	defer os.Remove(tmpPath) // no-op after the rename

	args := []string{"build", "-trimpath", "-buildvcs=false", "-ldflags=-s -w", "-o", tmpPath, "./" + MainPackage}
	cmd := exec.CommandContext(ctx, goBin, args...)
	cmd.Dir = modDir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GOFLAGS=-mod=readonly", "GOTOOLCHAIN=local")
	cmd.WaitDelay = 5 * time.Second
	var buf bytes.Buffer
	if opts.Verbose {
		fmt.Fprintf(opts.Log, "$ cd %s && CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=readonly %s %s\n", modDir, goBin, strings.Join(quoteArgs(args), " "))
		cmd.Stdout = io.MultiWriter(&buf, opts.Log)
		cmd.Stderr = io.MultiWriter(&buf, opts.Log)
	} else {
		cmd.Stdout, cmd.Stderr = &buf, &buf
	}
	if err := cmd.Run(); err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("go build interrupted: %w", ctx.Err())
		}
		return &GoBuildError{Output: buf.String(), Err: err}
	}
	// Smoke test, as xcaddy does: the new executable must start and report itself.
	check := exec.CommandContext(ctx, tmpPath, "--version")
	if o, err := check.CombinedOutput(); err != nil {
		return fmt.Errorf("the compiled gateway does not run (%v): %s; this is a micro-gw bug, please report it", err, bytes.TrimSpace(o))
	}
	if err := os.Rename(tmpPath, exe); err != nil {
		return fmt.Errorf("install %s: %w", exe, err)
	}
	return nil
}

// GoBuildError is a failed go build, with go's output.
type GoBuildError struct {
	Output string
	Err    error
}

func (e *GoBuildError) Error() string {
	return fmt.Sprintf("go build failed (%v); its output:\n%s\nif the output names a module download, run once online or check GOPROXY; otherwise please report it", e.Err, strings.TrimRight(e.Output, "\n"))
}

func (e *GoBuildError) Unwrap() error { return e.Err }

func quoteArgs(args []string) []string {
	q := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, " \t'\"") {
			a = "'" + a + "'"
		}
		q[i] = a
	}
	return q
}
