// Package e2e holds the end-to-end tests: the example project built into a
// real executable, run as its own process against real loopback backends and
// a real (in-process) etcd. run.sh does the same with Debian's etcd/etcdctl
// and the installed CLI.
package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/micro-gw/micro-gw/internal/devetcd"
	"github.com/micro-gw/micro-gw/pkg/codegen"
	"github.com/micro-gw/micro-gw/pkg/project"
)

// buildExample copies examples/petstore-project into a temp folder and builds it.
func buildExample(t *testing.T) string {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH")
	}
	def, err := os.ReadFile("../../examples/petstore-project/api_definitions/petstore.yaml")
	if err != nil {
		t.Fatal(err)
	}
	p, err := project.Create(t.TempDir(), "petstore-project", project.CreateOptions{
		Definitions: []project.Definition{{Name: "petstore.yaml", Data: def}},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := codegen.Build(context.Background(), p, codegen.BuildOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return res.Executable
}

type backend struct {
	name, addr string
	hits       chan string
}

// startBackend serves {"backend": name, "path": <request URI>} on addr.
func startBackend(t *testing.T, name, addr string) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		t.Skipf("backend %s cannot listen on %s (%v); the example's default URL needs that port free", name, addr, err)
	}
	b := &backend{name: name, addr: ln.Addr().String()}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]string{
			"backend": name, "path": r.URL.RequestURI(), "xff": r.Header.Get("X-Forwarded-For"),
			"xfh": r.Header.Get("X-Forwarded-Host"), "host": r.Host,
		})
	})}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })
	return b
}

type answer struct {
	Backend, Path, XFF, XFH, Host string
	Status                        int
}

func get(t *testing.T, u string) answer {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	a := answer{Status: resp.StatusCode}
	_ = json.Unmarshal(body, &a)
	if a.Backend == "" && resp.StatusCode == 200 {
		t.Fatalf("GET %s: unexpected body %s", u, body)
	}
	return a
}

// eventually polls GET u until backend want answers, for at most 10 s.
func eventually(t *testing.T, u, want string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	var last answer
	for time.Now().Before(deadline) {
		if last = get(t, u); last.Backend == want {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatalf("GET %s: still answered by %q, want %q", u, last.Backend, want)
}

func freePort(t *testing.T) int {
	t.Helper()
	p, err := devetcd.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// runGateway starts the executable and waits for /health.
func runGateway(t *testing.T, exe string, args ...string) (base string, log *strings.Builder, stop func() error) {
	t.Helper()
	port := freePort(t)
	args = append([]string{fmt.Sprintf("--http-port=%d", port), "--https-port=0", "--admin-port=0", "--bind=127.0.0.1"}, args...)
	cmd := exec.Command(exe, args...)
	log = &strings.Builder{}
	cmd.Stdout, cmd.Stderr = log, log
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	stopped := false
	stop = func() error {
		if stopped {
			return nil
		}
		stopped = true
		_ = cmd.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-done:
			return err
		case <-time.After(20 * time.Second):
			_ = cmd.Process.Kill()
			return fmt.Errorf("gateway did not stop within 20 s of SIGTERM")
		}
	}
	t.Cleanup(func() { _ = stop() })
	base = fmt.Sprintf("http://127.0.0.1:%d", port)
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		if resp, err := http.Get(base + "/health"); err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return base, log, stop
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatalf("gateway did not answer /health within 10 s; its log:\n%s", log)
	return
}

// TestExampleFollowsEtcd is the seed's story: the example gateway serves the
// default, follows put, put and delete, keeps the last good URL through an
// invalid value, and exits 0 on SIGTERM.
func TestExampleFollowsEtcd(t *testing.T) {
	exe := buildExample(t)
	def := startBackend(t, "default", "127.0.0.1:8081") // the default compiled into the example
	blue := startBackend(t, "blue", "127.0.0.1:0")
	green := startBackend(t, "green", "127.0.0.1:0")

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	etcd, err := devetcd.Start(ctx, devetcd.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	kv, err := clientv3.New(clientv3.Config{Endpoints: []string{etcd.ClientURL()}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()

	gw, log, stop := runGateway(t, exe, "--etcdurl="+etcd.ClientURL(), "--etcdtimer=10000")
	pet := gw + "/petstore/v1/pet/7?verbose=1"

	a := get(t, pet)
	if a.Backend != "default" || a.Path != "/v2/pet/7?verbose=1" {
		t.Fatalf("before any put: got %+v, want the default backend at /v2/pet/7?verbose=1", a)
	}
	if a.XFF != "127.0.0.1" || !strings.HasPrefix(a.XFH, "127.0.0.1:") || a.Host != def.addr {
		t.Errorf("forwarding headers: got X-Forwarded-For %q, X-Forwarded-Host %q, Host %q", a.XFF, a.XFH, a.Host)
	}

	for _, b := range []*backend{blue, green} {
		if _, err := kv.Put(ctx, "petstore", "http://"+b.addr+"/v2"); err != nil {
			t.Fatal(err)
		}
		eventually(t, pet, b.name)
	}
	if _, err := kv.Put(ctx, "petstore", "ftp://nope"); err != nil {
		t.Fatal(err)
	}
	time.Sleep(200 * time.Millisecond) // give a wrong switch the chance to happen
	if got := get(t, pet).Backend; got != "green" {
		t.Fatalf("after an invalid value: routed to %q, want green (the last good URL)", got)
	}
	if _, err := kv.Delete(ctx, "petstore"); err != nil {
		t.Fatal(err)
	}
	eventually(t, pet, "default")

	if got := get(t, gw+"/petstore/v1/nope"); got.Status != 404 {
		t.Errorf("unknown path: status %d, want 404", got.Status)
	}
	if err := stop(); err != nil {
		t.Fatalf("gateway exit on SIGTERM: %v\n%s", err, log)
	}
	for _, want := range []string{`key=petstore`, `ftp://nope`, `source=watch`} {
		if !strings.Contains(log.String(), want) {
			t.Errorf("gateway log lacks %q:\n%s", want, log)
		}
	}
}

// TestLateEtcd starts the gateway before etcd exists (micro-gw issue 1091).
func TestLateEtcd(t *testing.T) {
	exe := buildExample(t)
	startBackend(t, "default", "127.0.0.1:8081")
	blue := startBackend(t, "blue", "127.0.0.1:0")
	port := freePort(t)
	url := fmt.Sprintf("http://127.0.0.1:%d", port)

	gw, _, _ := runGateway(t, exe, "--etcdurl="+url, "--etcdtimer=1000")
	pet := gw + "/petstore/v1/pet/1"
	if got := get(t, pet).Backend; got != "default" {
		t.Fatalf("etcd absent: routed to %q, want default", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	etcd, err := devetcd.Start(ctx, devetcd.Config{Dir: filepath.Join(t.TempDir(), "etcd"), ClientPort: port})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	kv, err := clientv3.New(clientv3.Config{Endpoints: []string{url}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	if _, err := kv.Put(ctx, "petstore", "http://"+blue.addr+"/v2"); err != nil {
		t.Fatal(err)
	}
	eventually(t, pet, "blue")
}
