package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"github.com/micro-gw/micro-gw/pkg/definition"
)

// Exit codes, mapped in this one place.
const (
	exitOK          = 0
	exitFailure     = 1 // the command ran and failed (bad input, failed build)
	exitUsage       = 2 // the command line itself is wrong
	exitInterrupted = 130
)

// usageError marks errors in how the command was invoked.
type usageError struct{ err error }

func (e usageError) Error() string { return e.err.Error() }
func (e usageError) Unwrap() error { return e.err }

// streams are the standard streams a command talks to.
type streams struct {
	in       io.Reader
	out, err io.Writer
}

// run is the testable entry point: it executes the CLI with args and returns
// the process exit code. Errors print once, as "micro-gw: <message>".
func run(args []string, stdin io.Reader, stdout, stderr io.Writer) int {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()

	root := newRootCmd(streams{stdin, stdout, stderr})
	root.SetArgs(args)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return exitOK
	}
	printError(stderr, err)
	return exitCode(ctx, err)
}

// printError prints err as "micro-gw: <message>". Problems in definitions
// print as a compiler's do, one "file:line: ..." line each, followed by
// "micro-gw: " and their count.
func printError(stderr io.Writer, err error) {
	msg := err.Error()
	var d *definition.Diagnostics
	if errors.As(err, &d) {
		for _, l := range d.Lines() {
			fmt.Fprintln(stderr, l)
		}
		msg = strings.Replace(msg, d.Error(), d.Summary(), 1)
	}
	fmt.Fprintf(stderr, "micro-gw: %s\n", msg)
}

func exitCode(ctx context.Context, err error) int {
	var u usageError
	switch {
	case ctx.Err() != nil:
		return exitInterrupted
	case errors.As(err, &u):
		return exitUsage
	default:
		return exitFailure
	}
}

func newRootCmd(s streams) *cobra.Command {
	root := &cobra.Command{
		Use:   "micro-gw",
		Short: "Compile OpenAPI definitions into one self-contained API gateway executable",
		Long: `micro-gw compiles OpenAPI 3.x and Swagger 2.0 definitions, with the x-wso2-*
extensions of WSO2 API Microgateway, into one self-contained gateway executable.
Endpoints written as etcd(<key>, <default_URL>) follow etcd live.

  micro-gw init petstore-project -a petstore.yaml
  micro-gw dev petstore-project        # try it: embedded etcd, throwaway token issuer
  micro-gw build petstore-project
  ./petstore-project/target/petstore-project --etcdurl=http://127.0.0.1:2379 \
      --jwt-issuer=https://idp.example.com/oauth2/token --jwt-jwks-url=https://idp.example.com/oauth2/jwks`,
		SilenceErrors:     true,
		SilenceUsage:      true,
		CompletionOptions: cobra.CompletionOptions{HiddenDefaultCmd: false},
	}
	root.SetIn(s.in)
	root.SetOut(s.out)
	root.SetErr(s.err)
	root.SetFlagErrorFunc(func(c *cobra.Command, err error) error {
		return usageError{fmt.Errorf("%w; see: %s --help", err, c.CommandPath())}
	})
	root.AddCommand(newInitCmd(s), newBuildCmd(s), newDevCmd(s), newAPIKeyCmd(s), newRevokeCmd(s), newVersionCmd(s))
	return root
}

// projectArg accepts at most the one project folder, with a usage error
// that says so; the command itself says when the folder is missing.
func projectArg(c *cobra.Command, args []string) error {
	if len(args) > 1 {
		return usageError{fmt.Errorf("%s takes one project folder, got %d arguments; see: %s --help", c.Name(), len(args), c.CommandPath())}
	}
	return nil
}
