// Package e2e holds the end-to-end tests: the example project built into a
// real executable, run as its own process against real loopback backends and
// a real (in-process) etcd. run.sh does the same with Debian's etcd/etcdctl
// and the installed CLI.
package e2e

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/micro-gw/micro-gw/internal/devetcd"
	"github.com/micro-gw/micro-gw/internal/devissuer"
	"github.com/micro-gw/micro-gw/internal/gwproc"
	"github.com/micro-gw/micro-gw/internal/loopback"
	"github.com/micro-gw/micro-gw/pkg/gateway"
	"github.com/micro-gw/micro-gw/pkg/gateway/discovery"
	"github.com/micro-gw/micro-gw/pkg/project"
)

// exampleDefault is the default URL compiled into the example project.
const exampleDefault = "http://127.0.0.1:8081/v2"

// buildExample copies examples/petstore-project into a temp folder with its
// default URL replaced by defaultURL, and builds it. The test thus owns the
// default backend's port instead of hoping that 8081 is free.
func buildExample(t *testing.T, defaultURL string) string {
	t.Helper()
	if testing.Short() {
		t.Skip("-short: compiles a gateway")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH")
	}
	def, err := os.ReadFile("../../examples/petstore-project/api_definitions/petstore.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Contains(def, []byte(exampleDefault)) {
		t.Fatalf("the example no longer has the default URL %s; update this test", exampleDefault)
	}
	def = bytes.ReplaceAll(def, []byte(exampleDefault), []byte(defaultURL))
	p, err := project.Create(t.TempDir(), "petstore-project", project.CreateOptions{
		Definitions: []project.Definition{{Name: "petstore.yaml", Data: def}},
	})
	if err != nil {
		t.Fatal(err)
	}
	exe, err := gwproc.Build(context.Background(), p)
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

type backend struct {
	name, addr string
}

// startBackend serves {"backend": name, "path": <request URI>} on a free
// loopback port.
func startBackend(t *testing.T, name string) *backend {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
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

// token is the bearer token get sends (runGateway mints it).
var token string

func get(t *testing.T, u string) answer {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := c.Do(req)
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

// runGateway starts the executable on free loopback ports and returns once
// it has logged that it started; it is stopped when the test ends.
//
// The example needs an OAuth2 token (micro-gw 3.x's default): the gateway
// trusts a throwaway issuer, whose PRODUCTION token get sends.
func runGateway(t *testing.T, exe string, args ...string) *gwproc.Gateway {
	t.Helper()
	is, err := devissuer.New(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	if token, err = is.Mint(devissuer.Token{Scopes: []string{"read:pets", "write:pets"}}); err != nil {
		t.Fatal(err)
	}
	gw, err := gwproc.Start(context.Background(), exe, gwproc.Options{Args: append(is.Args(), args...)})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = gw.Stop(20 * time.Second) })
	return gw
}

// keyStatus reads one etcd key's state from the gateway's GET /status.
func keyStatus(t *testing.T, gw *gwproc.Gateway, key string) discovery.KeyStatus {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(gw.Admin + "/status")
	if err != nil {
		t.Fatalf("GET /status: %v", err)
	}
	defer resp.Body.Close()
	var st gateway.Status
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || st.Discovery == nil {
		t.Fatalf("GET /status: %v (discovery %v)", err, st.Discovery)
	}
	for _, k := range st.Discovery.Keys {
		if k.Key == key {
			return k
		}
	}
	t.Fatalf("GET /status: no key %q in %+v", key, st.Discovery.Keys)
	return discovery.KeyStatus{}
}

// waitRejected polls /status, for at most 10 s, until the gateway has
// rejected the value of key written at revision rev.
func waitRejected(t *testing.T, gw *gwproc.Gateway, key string, rev int64) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		k := keyStatus(t, gw, key)
		if k.Rejected != nil && k.Rejected.ModRevision >= rev {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("the value of %q written at revision %d was not rejected within 10 s: %+v", key, rev, k)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestExampleFollowsEtcd is the seed's story: the example gateway serves the
// default, follows put, put and delete, keeps the last good URL through an
// invalid value, and exits 0 on SIGTERM.
func TestExampleFollowsEtcd(t *testing.T) {
	def := startBackend(t, "default")
	blue := startBackend(t, "blue")
	green := startBackend(t, "green")
	exe := buildExample(t, "http://"+def.addr+"/v2")

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

	gw := runGateway(t, exe, "--etcdurl="+etcd.ClientURL(), "--etcdtimer=10000")
	pet := gw.HTTP + "/petstore/v1/pet/7?verbose=1"

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
	put, err := kv.Put(ctx, "petstore", "ftp://nope")
	if err != nil {
		t.Fatal(err)
	}
	// Once the gateway shows the value rejected, it has handled it: a
	// wrong switch would have happened by then.
	waitRejected(t, gw, "petstore", put.Header.Revision)
	if got := get(t, pet).Backend; got != "green" {
		t.Fatalf("after an invalid value: routed to %q, want green (the last good URL)", got)
	}
	if _, err := kv.Delete(ctx, "petstore"); err != nil {
		t.Fatal(err)
	}
	eventually(t, pet, "default")

	if got := get(t, gw.HTTP+"/petstore/v1/nope"); got.Status != 404 {
		t.Errorf("unknown path: status %d, want 404", got.Status)
	}
	if err := gw.Stop(20 * time.Second); err != nil {
		t.Fatalf("gateway exit on SIGTERM: %v\n%s", err, gw.Log)
	}
	<-gw.Log.Done()
	for _, want := range []string{`key=petstore`, `ftp://nope`, `source=watch`} {
		if !gw.Log.Contains(want) {
			t.Errorf("gateway log lacks %q:\n%s", want, gw.Log)
		}
	}
}

// TestLateEtcd starts the gateway before etcd exists (micro-gw issue 1091).
// The etcd URL it is given is a relay that refuses connections, as an
// address with no etcd behind it does, until etcd has started.
func TestLateEtcd(t *testing.T) {
	def := startBackend(t, "default")
	blue := startBackend(t, "blue")
	exe := buildExample(t, "http://"+def.addr+"/v2")
	relay, err := loopback.NewRelay()
	if err != nil {
		t.Fatal(err)
	}
	defer relay.Close()

	gw := runGateway(t, exe, "--etcdurl=http://"+relay.Addr(), "--etcdtimer=1000")
	pet := gw.HTTP + "/petstore/v1/pet/1"
	if got := get(t, pet).Backend; got != "default" {
		t.Fatalf("etcd absent: routed to %q, want default", got)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	etcd, err := devetcd.Start(ctx, devetcd.Config{Dir: filepath.Join(t.TempDir(), "etcd")})
	if err != nil {
		t.Fatal(err)
	}
	defer etcd.Close()
	if err := relay.SetTarget(strings.TrimPrefix(etcd.ClientURL(), "http://")); err != nil {
		t.Fatal(err)
	}
	kv, err := clientv3.New(clientv3.Config{Endpoints: []string{"http://" + relay.Addr()}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer kv.Close()
	if _, err := kv.Put(ctx, "petstore", "http://"+blue.addr+"/v2"); err != nil {
		t.Fatal(err)
	}
	eventually(t, pet, "blue")
}
