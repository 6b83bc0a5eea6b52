package codegen

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"go/version"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"time"

	microgw "github.com/micro-gw/micro-gw"
	"github.com/micro-gw/micro-gw/pkg/definition"
	"github.com/micro-gw/micro-gw/pkg/gateway"
	"github.com/micro-gw/micro-gw/pkg/project"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// BuildOptions controls Build's output.
type BuildOptions struct {
	// Out receives progress lines and warnings; nil means io.Discard.
	Out io.Writer
	// Quiet prints nothing but errors (which are returned, not printed).
	Quiet bool
	// Verbose also shows the go command and its output.
	Verbose bool
	// Strict refuses definitions with warnings (strict = true in
	// conf/gateway.conf does the same).
	Strict bool
}

// BuildResult describes a successful build.
type BuildResult struct {
	Executable string
	Size       int64
	APIs       int
	Resources  int
	Warnings   []definition.Warning
	Gateway    *spec.Gateway
	Duration   time.Duration
}

// Build loads the project's definitions, generates the gateway's sources into
// target/gen and compiles them into target/<project>. Bad input is reported
// before anything is written; a failed compile leaves the previous executable
// untouched and no partial one.
func Build(ctx context.Context, p *project.Project, opts BuildOptions) (*BuildResult, error) {
	start := time.Now()
	out := opts.Out
	if out == nil || opts.Quiet {
		out = io.Discard
	}
	step := func(what string, t0 time.Time, detail string) {
		if detail != "" {
			detail = ", " + detail
		}
		fmt.Fprintf(out, "%-26s done (%s%s)\n", what, roundDur(time.Since(t0)), detail)
	}

	t0 := time.Now()
	conf, err := p.ReadConf()
	if err != nil {
		return nil, err
	}
	buildConf, settings := project.SplitSettings(conf)
	strict := opts.Strict || buildConf["strict"] == "true"
	// The values must also be ones the runtime accepts; check them now
	// rather than when the executable starts.
	noEnv := func(string) (string, bool) { return "", false }
	if _, err := gateway.ParseConfig(settings, nil, noEnv, io.Discard); err != nil {
		return nil, fmt.Errorf("%w; fix it in %s", err, filepath.Join(project.ConfDir, project.ConfFile))
	}
	res, err := definition.LoadDir(p.DefinitionsPath())
	var diag *definition.Diagnostics
	if errors.As(err, &diag) {
		diag.Strict = strict
	}
	if err != nil {
		return nil, err
	}
	if strict && len(res.Warnings) > 0 {
		return nil, &definition.Diagnostics{Warnings: res.Warnings, Strict: true}
	}
	for _, w := range res.Warnings {
		fmt.Fprintf(out, "warning: %s\n", w)
	}
	if n := len(res.Warnings); n > 0 {
		fmt.Fprintf(out, "%s (micro-gw build --strict refuses warnings)\n", fmt.Sprintf("%d %s", n, map[bool]string{true: "warning", false: "warnings"}[n == 1]))
	}
	g := &spec.Gateway{Project: p.Name, Version: microgw.Version, Settings: settings, APIs: res.APIs}
	step("Loading definitions...", t0, fmt.Sprintf("%d APIs, %d resources", len(res.APIs), res.Resources))

	goBin, err := findGo(ctx)
	if err != nil {
		return nil, err
	}

	t0 = time.Now()
	files, err := Generated(g)
	if err != nil {
		return nil, err
	}
	mod, err := ModuleFiles()
	if err != nil {
		return nil, err
	}
	for k, v := range mod {
		files[k] = v
	}
	if err := writeTree(p.GenPath(), files); err != nil {
		return nil, err
	}
	step("Generating sources...", t0, filepath.Join(project.TargetDir, project.GenDir))

	t0 = time.Now()
	exe := p.ExecutablePath()
	if err := compile(ctx, goBin, p.GenPath(), exe, opts, out); err != nil {
		return nil, err
	}
	fi, err := os.Stat(exe)
	if err != nil {
		return nil, err
	}
	step("Compiling...", t0, "")

	total := time.Since(start)
	fmt.Fprintf(out, "\nBUILD SUCCESSFUL\nTarget: %s (%.1f MB, %s)\n", exe, float64(fi.Size())/(1<<20), roundDur(total))
	return &BuildResult{
		Executable: exe, Size: fi.Size(), APIs: len(res.APIs), Resources: res.Resources,
		Warnings: res.Warnings, Gateway: g, Duration: total,
	}, nil
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
func compile(ctx context.Context, goBin, modDir, exe string, opts BuildOptions, out io.Writer) error {
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
		fmt.Fprintf(out, "$ cd %s && CGO_ENABLED=0 GOWORK=off GOFLAGS=-mod=readonly %s %s\n", modDir, goBin, strings.Join(quoteArgs(args), " "))
		cmd.Stdout = io.MultiWriter(&buf, out)
		cmd.Stderr = io.MultiWriter(&buf, out)
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

// IsGoBuildError reports whether err is a failed go build.
func IsGoBuildError(err error) bool {
	var g *GoBuildError
	return errors.As(err, &g)
}

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

func roundDur(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}
