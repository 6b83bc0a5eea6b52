package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/spf13/cobra"

	"github.com/micro-gw/micro-gw/internal/devetcd"
	"github.com/micro-gw/micro-gw/internal/devissuer"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

type devCmd struct {
	s        streams
	etcdPort int
	gwArgs   []string
}

func newDevCmd(s streams) *cobra.Command {
	dc := &devCmd{s: s}
	c := &cobra.Command{
		Use:   "dev <project> [-- gateway flags...]",
		Short: "Build a project and run it against an embedded etcd, for development",
		Long: `Build the project, start a single-node etcd on loopback inside this process,
and run the gateway against it, trusting a throwaway JWT issuer made for the
session. The etcd URL, a ready-to-paste etcdctl line and curl lines with a
PRODUCTION and a SANDBOX token are printed; Ctrl-C stops the gateway and etcd. Flags after -- go to the
gateway (and win over the ones dev sets).`,
		Example: `  micro-gw dev petstore-project
  micro-gw dev petstore-project -- --http-port=8080 --access-log`,
		Args: func(c *cobra.Command, args []string) error {
			if n := c.ArgsLenAtDash(); n > 1 || (n < 0 && len(args) > 1) {
				return usageError{fmt.Errorf("dev takes one project folder; put gateway flags after --")}
			}
			if len(args) == 0 || c.ArgsLenAtDash() == 0 {
				return usageError{fmt.Errorf("dev needs a project folder: micro-gw dev <project>")}
			}
			return nil
		},
		ValidArgsFunction: completeDirs,
		RunE: func(c *cobra.Command, args []string) error {
			dc.gwArgs = args[1:]
			return dc.run(c, args[0])
		},
	}
	c.Flags().IntVar(&dc.etcdPort, "etcd-port", 2379, "client port of the embedded etcd on 127.0.0.1 (0 picks a free one)")
	return c
}

func (dc *devCmd) run(c *cobra.Command, dir string) error {
	ctx := c.Context()
	res, err := (&buildCmd{s: dc.s}).build(c, dir)
	if err != nil {
		return err
	}
	data, err := os.MkdirTemp("", "micro-gw-dev-etcd-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(data)
	etcd, err := devetcd.Start(ctx, devetcd.Config{Dir: data, ClientPort: dc.etcdPort})
	if err != nil {
		return fmt.Errorf("start embedded etcd on 127.0.0.1:%d: %w; is another etcd running? pass --etcd-port=0 to pick a free port", dc.etcdPort, err)
	}
	defer etcd.Close()

	fmt.Fprintf(dc.s.out, "\netcd (embedded, data discarded on exit): %s\n", etcd.ClientURL())
	defaults, _ := res.gateway.EtcdDefaults()
	if len(defaults) == 0 {
		fmt.Fprintln(dc.s.out, "This project has no etcd(<key>, <default_URL>) endpoints; the gateway routes to its static URLs.")
	}
	for _, d := range defaults {
		fmt.Fprintf(dc.s.out, "Move %q with:  etcdctl --endpoints=%s put %s %s\n", d.Key, etcd.ClientURL(), shellQuote(d.Key), shellQuote(d.URL))
	}
	issuer, err := devissuer.New(data)
	if err != nil {
		return err
	}
	// The user's own flags come last, so that theirs win.
	args := append(append([]string{"--etcdurl=" + etcd.ClientURL()}, issuer.Args()...), dc.gwArgs...)
	if err := printTokens(dc.s.out, issuer, res.gateway, httpBase(dc.gwArgs)); err != nil {
		return err
	}
	fmt.Fprintf(dc.s.out, "Running %s %v (Ctrl-C stops everything)\n\n", res.exe, args)

	gw := exec.Command(res.exe, args...)
	gw.Stdout, gw.Stderr = dc.s.out, dc.s.err
	gw.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // Ctrl-C reaches us; we stop the gateway ourselves, gracefully
	if err := gw.Start(); err != nil {
		return fmt.Errorf("start %s: %w", filepath.Base(res.exe), err)
	}
	done := make(chan error, 1)
	go func() { done <- gw.Wait() }()
	select {
	case err := <-done:
		return gatewayExit(err)
	case <-ctx.Done():
	}
	_ = gw.Process.Signal(syscall.SIGTERM)
	select {
	case <-done:
	case <-time.After(20 * time.Second):
		_ = gw.Process.Kill()
		<-done
	}
	fmt.Fprintln(dc.s.out, "\nstopped the gateway and etcd")
	return nil
}

func gatewayExit(err error) error {
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return fmt.Errorf("the gateway exited with status %d; its log is above", ee.ExitCode())
	}
	if err != nil {
		return fmt.Errorf("the gateway stopped: %w", err)
	}
	return errors.New("the gateway exited")
}

// shellQuote quotes s for a POSIX shell.
func shellQuote(s string) string {
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}

// printTokens prints, for a project whose APIs need a token, a throwaway
// PRODUCTION token holding every scope the definitions name (and a SANDBOX
// one when an API has sandbox endpoints), each with a ready-to-paste curl
// line for the first GET resource that needs one.
func printTokens(w io.Writer, is *devissuer.Issuer, g *spec.Gateway, base string) error {
	var scopes []string
	var example string
	sandbox := false
	for i := range g.APIs {
		api := &g.APIs[i]
		for j := range api.Resources {
			r := &api.Resources[j]
			sec := r.EffectiveSecurity()
			if sec.Disabled || !sec.NeedsJWT() {
				continue
			}
			for _, alt := range sec.Alternatives {
				for _, req := range alt {
					for _, s := range req.Scopes {
						if !slices.Contains(scopes, s) {
							scopes = append(scopes, s)
						}
					}
				}
			}
			sandbox = sandbox || r.EffectiveSandbox(api) != nil
			if example == "" && r.Method == "GET" {
				example = examplePath(spec.JoinPath(api.BasePath, r.Path))
			}
		}
	}
	if scopes == nil && example == "" {
		return nil
	}
	if example == "" {
		example = "/"
	}
	tok, err := is.Mint(devissuer.Token{Scopes: scopes, Lifetime: 24 * time.Hour})
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "\nThrowaway issuer %s (its key dies with this command); a PRODUCTION token with scopes [%s], valid 24h:\n", devissuer.Name, strings.Join(scopes, " "))
	fmt.Fprintf(w, "  curl -H \"Authorization: Bearer %s\" %s%s\n", tok, base, example)
	if sandbox {
		if tok, err = is.Mint(devissuer.Token{Scopes: scopes, Sandbox: true, Lifetime: 24 * time.Hour}); err != nil {
			return err
		}
		fmt.Fprintf(w, "A SANDBOX token (it reaches the sandbox endpoints):\n  curl -H \"Authorization: Bearer %s\" %s%s\n", tok, base, example)
	}
	return nil
}

// httpBase is the gateway's HTTP address as dev runs it: port 9090 unless
// the gateway flags say otherwise.
func httpBase(gwArgs []string) string {
	port := "9090"
	for _, a := range gwArgs {
		if v, ok := strings.CutPrefix(strings.TrimPrefix(a, "-"), "-http-port="); ok {
			port = v
		}
	}
	return "http://127.0.0.1:" + port
}

// examplePath fills a path template's parameters with 1.
func examplePath(template string) string {
	var b strings.Builder
	for {
		i := strings.IndexByte(template, '{')
		j := strings.IndexByte(template, '}')
		if i < 0 || j < i {
			b.WriteString(template)
			return b.String()
		}
		b.WriteString(template[:i])
		b.WriteString("1")
		template = template[j+1:]
	}
}
