package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/micro-gw/micro-gw/internal/gwproc"
)

// TestDev runs `micro-gw dev` as a user would: it builds the project, starts
// the embedded etcd and the gateway, prints a usable etcdctl line, follows a
// put, and stops everything on Ctrl-C (SIGINT).
func TestDev(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles the CLI and a gateway")
	}
	dir := t.TempDir()
	cli := filepath.Join(dir, "micro-gw")
	if out, err := exec.Command("go", "build", "-o", cli, ".").CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	backend := http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "moved:%s", r.URL.Path)
	})}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go backend.Serve(ln)
	defer backend.Close()

	def, err := os.ReadFile("../../examples/petstore-project/api_definitions/petstore.yaml")
	if err != nil {
		t.Fatal(err)
	}
	proj := filepath.Join(dir, "shop")
	if err := os.MkdirAll(filepath.Join(proj, "api_definitions"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proj, "api_definitions", "petstore.yaml"), def, 0o644); err != nil {
		t.Fatal(err)
	}
	pol, err := os.ReadFile("../../examples/petstore-project/policies.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(proj, "policies.yaml"), pol, 0o644); err != nil {
		t.Fatal(err)
	}
	d := startDev(t, cli, proj)
	defer d.cmd.Process.Kill()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kv, err := clientv3.New(clientv3.Config{Endpoints: []string{d.etcdURL}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	if _, err := kv.Put(ctx, "petstore", "http://"+ln.Addr().String()+"/v2"); err != nil {
		t.Fatal(err)
	}
	u := d.gateway + "/petstore/v1/pet/3"
	// The example requires a token: dev trusts a throwaway issuer and
	// prints one in a curl line.
	if resp, err := http.Get(u); err != nil || resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("GET %s without a token = %v %v, want 401", u, resp, err)
	} else {
		resp.Body.Close()
	}
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+d.token)
	var body string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.DefaultClient.Do(req); err == nil {
			b, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if body = string(b); body == "moved:/v2/pet/3" {
				break
			}
		}
	}
	if body != "moved:/v2/pet/3" {
		t.Fatalf("GET %s = %q, want the put backend", u, body)
	}

	if err := d.cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	exited := time.After(time.Minute)
	for _, l := range []*gwproc.Lines{d.out, d.errs} {
		select {
		case <-l.Done(): // the output ends once dev and its gateway have exited
		case <-exited:
			t.Fatal("dev did not exit within a minute of Ctrl-C")
		}
	}
	if err := d.cmd.Wait(); err != nil {
		t.Fatalf("dev exit after Ctrl-C: %v\n%s", err, d.errs)
	}
	if !d.out.Contains("stopped the gateway and etcd") {
		t.Errorf("no stop message:\n%s", d.out)
	}
	if _, err := http.Get(u); err == nil {
		t.Errorf("the gateway still answers after dev stopped")
	}
}

// dev is a running `micro-gw dev`.
type dev struct {
	cmd       *exec.Cmd
	out, errs *gwproc.Lines // its stdout and stderr (which has the gateway's log)
	etcdURL   string        // from the etcdctl line it prints
	gateway   string        // the gateway's HTTP base URL
	token     string        // the PRODUCTION token of the curl line it prints
}

// startDev runs `micro-gw dev` on proj and returns once its gateway has
// started. The gateway's HTTP port is one found free; if someone takes it
// first, the gateway exits with "address already in use" and dev is run
// again with another.
func startDev(t *testing.T, cli, proj string) *dev {
	t.Helper()
	etcdLine := regexp.MustCompile(`etcdctl --endpoints=(\S+) put 'petstore' 'http://127.0.0.1:8081/v2'`)
	curlLine := regexp.MustCompile(`curl -H "Authorization: Bearer (\S+)" http://127\.0\.0\.1:\d+/petstore/v1/`)
	// Generous: on a cold build cache the gateway compiles from scratch
	// while other test packages build theirs.
	ctx, cancel := context.WithTimeout(context.Background(), 8*time.Minute)
	defer cancel()
	for attempt := 1; ; attempt++ {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := ln.Addr().(*net.TCPAddr).Port
		ln.Close()
		d := &dev{cmd: exec.Command(cli, "dev", "--etcd-port=0", proj, "--", fmt.Sprintf("--http-port=%d", port), "--https-port=0", "--admin-port=0")}
		stdout, err := d.cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		stderr, err := d.cmd.StderrPipe()
		if err != nil {
			t.Fatal(err)
		}
		if err := d.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		d.out, d.errs = gwproc.Collect(stdout, nil), gwproc.Collect(stderr, nil)
		line, err := d.out.Wait(ctx, etcdLine.MatchString)
		if err == nil {
			d.etcdURL = etcdLine.FindStringSubmatch(line)[1]
			if line, err = d.out.Wait(ctx, curlLine.MatchString); err == nil {
				d.token = curlLine.FindStringSubmatch(line)[1]
			}
		}
		if err == nil {
			_, err = d.errs.Wait(ctx, func(l string) bool { return strings.Contains(l, "gateway started") })
		}
		if err == nil {
			d.gateway = fmt.Sprintf("http://127.0.0.1:%d", port)
			return d
		}
		d.cmd.Process.Kill()
		<-d.out.Done()
		<-d.errs.Done()
		d.cmd.Wait()
		if !errors.Is(err, gwproc.ErrEOF) || !d.errs.Contains("address already in use") || attempt == 3 {
			t.Fatalf("dev did not start its gateway (%v):\n%s\n%s", err, d.out, d.errs)
		}
	}
}
