package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/spf13/cobra"

	microgw "github.com/micro-gw/micro-gw"
	"github.com/micro-gw/micro-gw/pkg/codegen"
	"github.com/micro-gw/micro-gw/pkg/definition"
	"github.com/micro-gw/micro-gw/pkg/gateway"
	"github.com/micro-gw/micro-gw/pkg/policy"
	"github.com/micro-gw/micro-gw/pkg/project"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

type buildCmd struct {
	s                      streams
	quiet, verbose, strict bool
	image                  string // --image name:tag; "" builds no image
	lookupEnv              func(string) (string, bool)
}

func newBuildCmd(s streams) *cobra.Command {
	bc := &buildCmd{s: s, lookupEnv: os.LookupEnv}
	c := &cobra.Command{
		Use:   "build <project> [-q|-v] [--strict] [--image name:tag]",
		Short: "Compile a project's definitions into target/<project>, one executable",
		Long: `Read every *.yaml, *.yml and *.json in <project>/api_definitions/, check them,
generate the gateway's sources into <project>/target/gen/ and compile them with
the Go toolchain into <project>/target/<project>: one static executable that
needs nothing else to run. Bad input is reported with its file and line and
nothing is written; a failed compile leaves the previous executable untouched.

Every problem of every definition is reported in one build, sorted by file
and line. Errors are what makes routing impossible or ambiguous (no endpoint,
a bad URL, two operations on one route, a path the router cannot match).
Specification violations the gateway does not depend on are warnings, as
micro-gw 3.x read them; --strict (or strict = true in conf/gateway.conf)
refuses them too.

--image name:tag also packages the executable as an OCI container image,
<project>/target/<project>.oci.tar (for podman load, docker load, skopeo
copy), with no container engine needed: the executable on an empty base
with the build machine's CA bundle, run as the non-root user 65532, ports
9090 and 9095 exposed, settings from -e variables (-e etcdurl=...). The
same inputs give the same image digest (times are SOURCE_DATE_EPOCH, or
1970). target/Dockerfile builds the same image with an engine instead.`,
		Example:           "  micro-gw build petstore-project\n  micro-gw build petstore-project --image registry.example.com/petstore:1.0",
		Args:              projectArg,
		ValidArgsFunction: completeDirs,
		RunE: func(c *cobra.Command, args []string) error {
			if len(args) == 0 {
				return usageError{fmt.Errorf("build needs a project folder: micro-gw build <project>")}
			}
			_, err := bc.build(c, args[0])
			return err
		},
	}
	c.Flags().BoolVarP(&bc.quiet, "quiet", "q", false, "print only errors")
	c.Flags().BoolVarP(&bc.verbose, "verbose", "v", false, "also show the go command and its output")
	c.Flags().BoolVar(&bc.strict, "strict", false, "refuse definitions with warnings too (strict = true in conf/gateway.conf does the same)")
	c.Flags().StringVar(&bc.image, "image", "", "also write target/<project>.oci.tar, an OCI image of the gateway named name:tag, and target/Dockerfile")
	c.MarkFlagsMutuallyExclusive("quiet", "verbose")
	return c
}

// built is what a successful build made.
type built struct {
	exe     string
	gateway *spec.Gateway
}

// build runs the build and prints BUILD FAILED on error (unless quiet).
func (bc *buildCmd) build(c *cobra.Command, dir string) (*built, error) {
	var plan *imagePlan
	if c.Flags().Changed("image") {
		var err error
		if plan, err = planImage(bc.image, bc.lookupEnv); err != nil {
			return nil, err
		}
	}
	p, err := project.Open(dir)
	if err != nil {
		return nil, err
	}
	if !bc.quiet {
		fmt.Fprintf(bc.s.out, "Building project %s\n", p.Name)
	}
	res, err := bc.compile(c.Context(), p, plan)
	if err != nil && !bc.quiet {
		fmt.Fprintln(bc.s.out, "\nBUILD FAILED")
	}
	return res, err
}

// compile loads the project's settings and definitions, then generates the
// gateway's sources into target/gen and compiles them into
// target/<project>, and with plan, the image. Bad input is reported before
// anything is written.
func (bc *buildCmd) compile(ctx context.Context, p *project.Project, plan *imagePlan) (*built, error) {
	start := time.Now()
	out := bc.s.out
	if bc.quiet {
		out = io.Discard
	}
	step := func(what string, took time.Duration, detail string) {
		if detail != "" {
			detail = ", " + detail
		}
		fmt.Fprintf(out, "%-26s done (%s%s)\n", what, roundDur(took), detail)
	}

	g, resources, err := bc.load(p, out)
	if err != nil {
		return nil, err
	}
	step("Loading definitions...", time.Since(start), fmt.Sprintf("%d APIs, %d resources", len(g.APIs), resources))
	printSecurity(out, g.APIs)

	res, err := codegen.Compile(ctx, codegen.Input{Gateway: g, GenDir: p.GenPath(), Exe: p.ExecutablePath()}, codegen.Options{
		Verbose: bc.verbose,
		Log:     out,
		Progress: func(s codegen.Step, took time.Duration) {
			switch s {
			case codegen.StepGenerate:
				step("Generating sources...", took, filepath.Join(project.TargetDir, project.GenDir))
			case codegen.StepCompile:
				step("Compiling...", took, "")
			}
		},
	})
	if err != nil {
		return nil, err
	}
	var img *imageResult
	if plan != nil {
		t0 := time.Now()
		if img, err = writeImage(plan, p, g, res.Executable, bc.s.err); err != nil {
			return nil, err
		}
		step("Writing image...", time.Since(t0), filepath.Base(img.archive))
	}
	total := time.Since(start)
	fmt.Fprintf(out, "\nBUILD SUCCESSFUL\nTarget: %s (%.1f MB, %s)\n", res.Executable, float64(res.Size)/(1<<20), roundDur(total))
	if img != nil {
		fmt.Fprintf(out, "Image: %s (%s, %s, %s; CA bundle from %s)\nDockerfile: %s\n", img.archive, plan.spec.Ref, img.digest, roundSize(img.size), plan.caFrom, img.dockerfile)
	}
	return &built{exe: res.Executable, gateway: g}, nil
}

// load reads conf/gateway.conf and the definitions of p into the model the
// gateway serves, and prints the warnings to out. It returns the number of
// resources too.
func (bc *buildCmd) load(p *project.Project, out io.Writer) (*spec.Gateway, int, error) {
	settings, strict, opts, err := bc.settings(p)
	if err != nil {
		return nil, 0, err
	}
	policies, err := p.ReadPolicies()
	if err != nil {
		return nil, 0, err
	}
	res, err := bc.definitions(p, strict, opts, out)
	if err != nil {
		return nil, 0, err
	}
	if err := res.CheckTiers(policies, policy.File); err != nil {
		return nil, 0, err
	}
	g := &spec.Gateway{Project: p.Name, Version: microgw.Version, Settings: settings, Policies: policies, APIs: res.APIs}
	return g, res.Resources, nil
}

// printSecurity prints one line per API with the effective security of
// its operations, so that what a definition leaves protected or open is
// seen at every build: "petstore: oauth2 (default, as micro-gw 3.x; ...)".
func printSecurity(out io.Writer, apis []spec.API) {
	for i := range apis {
		a := &apis[i]
		name := strings.TrimSuffix(a.File, filepath.Ext(a.File))
		fmt.Fprintf(out, "%s: %s\n", name, a.SecuritySummary())
	}
}

// settings reads conf/gateway.conf: the gateway settings, which must be
// values the gateway accepts (checked now rather than when the executable
// starts), whether the build is strict (--strict or strict = true), and
// the options of loading the definitions (request-validation,
// response-validation).
func (bc *buildCmd) settings(p *project.Project) (map[string]string, bool, definition.Options, error) {
	conf, err := p.ReadConf()
	if err != nil {
		return nil, false, definition.Options{}, err
	}
	buildConf, settings := project.SplitSettings(conf)
	noEnv := func(string) (string, bool) { return "", false }
	if _, err := gateway.ParseConfig(settings, nil, noEnv, io.Discard); err != nil {
		return nil, false, definition.Options{}, fmt.Errorf("%w; fix it in %s", err, filepath.Join(project.ConfDir, project.ConfFile))
	}
	opts := definition.Options{
		RequestValidation:  buildConf["request-validation"] == "true",
		ResponseValidation: buildConf["response-validation"] == "true",
	}
	return settings, bc.strict || buildConf["strict"] == "true", opts, nil
}

// definitions loads the definitions of p and prints their warnings to out;
// in strict mode warnings fail the build.
func (bc *buildCmd) definitions(p *project.Project, strict bool, opts definition.Options, out io.Writer) (*definition.Result, error) {
	res, err := definition.LoadDirWith(p.DefinitionsPath(), opts)
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
	if n := len(res.Warnings); n == 1 {
		fmt.Fprintln(out, "1 warning (micro-gw build --strict refuses warnings)")
	} else if n > 1 {
		fmt.Fprintf(out, "%d warnings (micro-gw build --strict refuses warnings)\n", n)
	}
	return res, nil
}

// roundDur rounds a step's duration for display.
func roundDur(d time.Duration) time.Duration {
	if d < time.Second {
		return d.Round(time.Millisecond)
	}
	return d.Round(10 * time.Millisecond)
}

func completeDirs(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}
