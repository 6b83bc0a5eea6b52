// Command demo tells the service-discovery story end to end with nothing but
// Go installed: an embedded etcd, three loopback backends, the example project
// built with the micro-gw CLI, and the gateway following etcdctl-style puts
// and deletes live. It exits by itself and leaves nothing running.
//
//	go run ./internal/demo -cli bin/micro-gw -project examples/petstore-project
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/micro-gw/micro-gw/internal/devetcd"
	"github.com/micro-gw/micro-gw/internal/devissuer"
	"github.com/micro-gw/micro-gw/internal/gwproc"
)

const (
	key        = "petstore"
	defaultURL = "127.0.0.1:8081" // the default compiled into the example: etcd(petstore, http://127.0.0.1:8081/v2)
	resource   = "/petstore/v1/pet/1"
)

func main() {
	cli := flag.String("cli", "bin/micro-gw", "the micro-gw CLI to build with")
	proj := flag.String("project", "examples/petstore-project", "the project to build")
	flag.Parse()
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, *cli, *proj); err != nil {
		fmt.Fprintf(os.Stderr, "demo: %v\n", err)
		os.Exit(1)
	}
}

func step(format string, args ...any) { fmt.Printf("\n==> "+format+"\n", args...) }

func run(ctx context.Context, cli, proj string) error {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Minute) // a cold first build takes about a minute
	defer cancel()

	step("Starting an embedded etcd and three backends on loopback")
	dir, err := os.MkdirTemp("", "micro-gw-demo-")
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	etcd, err := devetcd.Start(ctx, devetcd.Config{Dir: filepath.Join(dir, "etcd")})
	if err != nil {
		return fmt.Errorf("start embedded etcd: %w", err)
	}
	defer etcd.Close()
	fmt.Printf("    etcd      %s\n", etcd.ClientURL())

	def, err := startBackend("default", defaultURL)
	if err != nil {
		return fmt.Errorf("the example's default URL is http://%s/v2, but that port is taken (%w); stop what uses it and run the demo again", defaultURL, err)
	}
	defer def.Close()
	blue, err := startBackend("blue", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer blue.Close()
	green, err := startBackend("green", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer green.Close()
	sandbox, err := startBackend("sandbox", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer sandbox.Close()
	for _, b := range []*backend{def, blue, green, sandbox} {
		fmt.Printf("    backend   %-8s %s/v2\n", b.name, b.url)
	}

	step("micro-gw build %s", proj)
	build := exec.CommandContext(ctx, cli, "build", proj)
	build.Stdout, build.Stderr = indent(os.Stdout), indent(os.Stderr)
	if err := build.Run(); err != nil {
		return fmt.Errorf("build %s: %w", proj, err)
	}

	issuer, err := devissuer.New(dir)
	if err != nil {
		return err
	}
	token, err := issuer.Mint(devissuer.Token{Scopes: []string{"read:pets"}})
	if err != nil {
		return err
	}
	exe := filepath.Join(proj, "target", filepath.Base(proj))
	args := append([]string{"--etcdurl=" + etcd.ClientURL(), "--etcdtimer=10000"}, issuer.Args()...)
	step("Starting the gateway: %s %s (on free loopback ports)", exe, strings.Join(args, " "))
	gw, err := gwproc.Start(ctx, exe, gwproc.Options{
		Args: args,
		Echo: func(line string) { fmt.Printf("    gateway | %s\n", line) },
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := gw.Stop(10 * time.Second); err != nil {
			fmt.Printf("    gateway stop: %v\n", err)
		}
		<-gw.Log.Done() // every line printed
	}()
	gwURL := gw.HTTP

	client := &http.Client{Timeout: 5 * time.Second}
	step("GET %s%s: the key is absent, so the default URL serves", gwURL, resource)
	fmt.Printf("    (with a PRODUCTION token of the throwaway issuer, scope read:pets: the example requires OAuth2)\n")
	get := func(c *http.Client, u string) (string, error) { return getAs(c, u, token) }
	who, err := get(client, gwURL+resource)
	if err != nil {
		return err
	}
	fmt.Printf("    served by %s\n", who)
	if who != def.name {
		return fmt.Errorf("expected the default backend, got %q", who)
	}

	kv, err := clientv3.New(clientv3.Config{Endpoints: []string{etcd.ClientURL()}, DialTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer kv.Close()

	moves := []struct {
		show string
		do   func(context.Context) error
		want *backend
	}{
		{fmt.Sprintf("etcdctl put %s %s/v2", key, blue.url), func(ctx context.Context) error {
			_, err := kv.Put(ctx, key, blue.url+"/v2")
			return err
		}, blue},
		{fmt.Sprintf("etcdctl put %s %s/v2", key, green.url), func(ctx context.Context) error {
			_, err := kv.Put(ctx, key, green.url+"/v2")
			return err
		}, green},
		{fmt.Sprintf("etcdctl del %s", key), func(ctx context.Context) error {
			_, err := kv.Delete(ctx, key)
			return err
		}, def},
	}
	for _, m := range moves {
		step("%s", m.show)
		took, err := switchTime(ctx, client, gwURL+resource, m.want.name, m.do, get)
		if err != nil {
			return err
		}
		fmt.Printf("    traffic on %s %.1f ms after the change (the seed's micro-gw polled: up to 10 s)\n", m.want.name, float64(took.Microseconds())/1000)
	}

	if err := securityStory(ctx, client, gwURL, issuer, token, kv, sandbox); err != nil {
		return err
	}

	step("GET %s/status (admin listener, loopback only)", gw.Admin)
	if err := showStatus(client, gw.Admin+"/status"); err != nil {
		return err
	}

	step("Operating it: the dashboard is %s/ (while it runs); GET %s/metrics, a few lines", gw.Admin, gw.Admin)
	if err := showMetrics(client, gw.Admin+"/metrics"); err != nil {
		return err
	}

	step("Done: stopping the gateway, the backends and etcd")
	return nil
}

// switchTime applies change and measures until a request is routed to want.
func switchTime(ctx context.Context, c *http.Client, u, want string, change func(context.Context) error, get func(*http.Client, string) (string, error)) (time.Duration, error) {
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	start := time.Now()
	if err := change(cctx); err != nil {
		return 0, fmt.Errorf("etcd: %w", err)
	}
	deadline := start.Add(15 * time.Second)
	for time.Now().Before(deadline) {
		who, err := get(c, u)
		if err == nil && who == want {
			return time.Since(start), nil
		}
		time.Sleep(time.Millisecond)
	}
	return 0, fmt.Errorf("traffic did not reach %s within 15 s", want)
}

// getAs GETs u with the bearer token and returns the backend that answered.
func getAs(c *http.Client, u, token string) (string, error) {
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct{ Backend, Path string }
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil || resp.StatusCode != 200 {
		return "", fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return body.Backend, nil
}

func showStatus(c *http.Client, u string) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 64<<10))
	for sc.Scan() {
		fmt.Printf("    %s\n", sc.Text())
	}
	return sc.Err()
}

// showMetrics prints the request counters of /metrics.
func showMetrics(c *http.Client, u string) error {
	resp, err := c.Get(u)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	sc := bufio.NewScanner(io.LimitReader(resp.Body, 4<<20))
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	shown := 0
	for sc.Scan() && shown < 8 {
		line := sc.Text()
		if strings.HasSuffix(line, " 0") {
			continue // series made at start that nothing counted yet
		}
		if strings.HasPrefix(line, "microgw_requests_total{") || strings.HasPrefix(line, "microgw_throttled_requests_total{") || strings.HasPrefix(line, "microgw_auth_failures_total{") {
			fmt.Printf("    %s\n", line)
			shown++
		}
	}
	if shown == 0 {
		return fmt.Errorf("GET %s: no microgw_requests_total series", u)
	}
	return sc.Err()
}

type backend struct {
	name, url string
	srv       *http.Server
}

func (b *backend) Close() { b.srv.Close() }

// startBackend serves {"backend": name, "path": ...} on addr.
func startBackend(name, addr string) (*backend, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{"backend": name, "path": r.URL.Path})
	}), ReadHeaderTimeout: 5 * time.Second}
	go srv.Serve(ln)
	return &backend{name: name, url: "http://" + ln.Addr().String(), srv: srv}, nil
}

func indent(w io.Writer) io.Writer { return prefixWriter{w: w, prefix: "    "} }

// prefixWriter writes each line of the build's output with a prefix.
type prefixWriter struct {
	w      io.Writer
	prefix string
}

func (p prefixWriter) Write(b []byte) (int, error) {
	for _, line := range strings.SplitAfter(string(b), "\n") {
		if line != "" {
			if _, err := io.WriteString(p.w, p.prefix+line); err != nil {
				return 0, err
			}
		}
	}
	return len(b), nil
}
