package main

import (
	"fmt"

	"github.com/spf13/cobra"

	"github.com/micro-gw/micro-gw/pkg/codegen"
	"github.com/micro-gw/micro-gw/pkg/project"
)

type buildCmd struct {
	s                      streams
	quiet, verbose, strict bool
}

func newBuildCmd(s streams) *cobra.Command {
	bc := &buildCmd{s: s}
	c := &cobra.Command{
		Use:   "build <project> [-q|-v] [--strict]",
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
refuses them too.`,
		Example:           "  micro-gw build petstore-project",
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
	c.MarkFlagsMutuallyExclusive("quiet", "verbose")
	return c
}

// build runs the build and prints BUILD FAILED on error (unless quiet).
func (bc *buildCmd) build(c *cobra.Command, dir string) (*codegen.BuildResult, error) {
	p, err := project.Open(dir)
	if err != nil {
		return nil, err
	}
	if !bc.quiet {
		fmt.Fprintf(bc.s.out, "Building project %s\n", p.Name)
	}
	res, err := codegen.Build(c.Context(), p, codegen.BuildOptions{Out: bc.s.out, Quiet: bc.quiet, Verbose: bc.verbose, Strict: bc.strict})
	if err != nil && !bc.quiet {
		fmt.Fprintln(bc.s.out, "\nBUILD FAILED")
	}
	return res, err
}

func completeDirs(*cobra.Command, []string, string) ([]string, cobra.ShellCompDirective) {
	return nil, cobra.ShellCompDirectiveFilterDirs
}
