package main

import (
	"bufio"
	"context"
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

	"github.com/micro-gw/micro-gw/internal/devetcd"
)

// TestDev runs `micro-gw dev` as a user would: it builds the project, starts
// the embedded etcd and the gateway, prints a usable etcdctl line, follows a
// put, and stops everything on Ctrl-C (SIGINT).
func TestDev(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the CLI and a gateway")
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
	port, err := devetcd.FreePort()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(cli, "dev", "--etcd-port=0", proj, "--", fmt.Sprintf("--http-port=%d", port), "--https-port=0", "--admin-port=0")
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var stderr strings.Builder
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer cmd.Process.Kill()

	lines := make(chan string, 100)
	var all strings.Builder
	go func() {
		sc := bufio.NewScanner(stdout)
		for sc.Scan() {
			lines <- sc.Text()
		}
		close(lines)
	}()
	etcdLine := regexp.MustCompile(`etcdctl --endpoints=(\S+) put 'petstore' 'http://127.0.0.1:8081/v2'`)
	var etcdURL string
	// Generous: on a cold build cache the gateway compiles from scratch
	// while other test packages build theirs.
	timeout := time.After(8 * time.Minute)
	for etcdURL == "" {
		select {
		case l, ok := <-lines:
			if !ok {
				t.Fatalf("dev exited early:\n%s\n%s", all.String(), stderr.String())
			}
			all.WriteString(l + "\n")
			if m := etcdLine.FindStringSubmatch(l); m != nil {
				etcdURL = m[1]
			}
		case <-timeout:
			t.Fatalf("no etcdctl line within 8 minutes:\n%s", all.String())
		}
	}
	drained := make(chan struct{})
	go func() {
		defer close(drained)
		for l := range lines {
			all.WriteString(l + "\n")
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	kv, err := clientv3.New(clientv3.Config{Endpoints: []string{etcdURL}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	if _, err := kv.Put(ctx, "petstore", "http://"+ln.Addr().String()+"/v2"); err != nil {
		t.Fatal(err)
	}
	u := fmt.Sprintf("http://127.0.0.1:%d/petstore/v1/pet/3", port)
	var body string
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if resp, err := http.Get(u); err == nil {
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

	if err := cmd.Process.Signal(syscall.SIGINT); err != nil {
		t.Fatal(err)
	}
	select {
	case <-drained: // stdout reaches EOF once dev and its gateway have exited
	case <-time.After(time.Minute):
		t.Fatal("dev did not exit within a minute of Ctrl-C")
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("dev exit after Ctrl-C: %v\n%s", err, stderr.String())
	}
	if !strings.Contains(all.String(), "stopped the gateway and etcd") {
		t.Errorf("no stop message:\n%s", all.String())
	}
	if _, err := http.Get(u); err == nil {
		t.Errorf("the gateway still answers after dev stopped")
	}
}
