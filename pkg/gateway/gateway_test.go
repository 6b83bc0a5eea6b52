package gateway

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

func TestParseConfig(t *testing.T) {
	pw := filepath.Join(t.TempDir(), "pw")
	os.WriteFile(pw, []byte("s3cret\n"), 0o600)
	tests := []struct {
		name     string
		settings map[string]string
		env      map[string]string
		args     []string
		check    func(Config) bool
		err      string
	}{
		{name: "defaults", check: func(c Config) bool {
			return c.HTTPAddr == ":9090" && c.HTTPSAddr == ":9095" && c.AdminAddr == "127.0.0.1:9091" &&
				c.Discovery.Timer == 10*time.Second && c.Proxy.Timeout == time.Minute && c.ShutdownTimeout == 15*time.Second &&
				c.MaxConnections == 0
		}},
		{name: "max connections", args: []string{"--max-connections=5"}, check: func(c Config) bool { return c.MaxConnections == 5 }},
		{name: "max connections env and setting", settings: map[string]string{"max-connections": "6"}, env: map[string]string{"MAX_CONNECTIONS": "7"},
			check: func(c Config) bool { return c.MaxConnections == 7 }},
		{name: "max connections setting", settings: map[string]string{"max-connections": "6"}, check: func(c Config) bool { return c.MaxConnections == 6 }},
		{name: "equals form", args: []string{"--http-port=1234", "--bind=127.0.0.1"}, check: func(c Config) bool { return c.HTTPAddr == "127.0.0.1:1234" }},
		{name: "space form", args: []string{"--http-port", "1234"}, check: func(c Config) bool { return c.HTTPAddr == ":1234" }},
		{name: "https disabled", args: []string{"--https-port=0", "--admin-port=0"}, check: func(c Config) bool { return c.HTTPSAddr == "" && c.AdminAddr == "" }},
		{name: "env exact name", env: map[string]string{"etcdurl": "http://a:2379, http://b:2379", "etcdtimer": "500"}, check: func(c Config) bool {
			return len(c.Discovery.Endpoints) == 2 && c.Discovery.Endpoints[1] == "http://b:2379" && c.Discovery.Timer == 500*time.Millisecond
		}},
		{name: "env snake", env: map[string]string{"http_port": "7000"}, check: func(c Config) bool { return c.HTTPAddr == ":7000" }},
		{name: "env upper", env: map[string]string{"HTTP_PORT": "7001", "ETCDUSERNAME": "root"}, check: func(c Config) bool {
			return c.HTTPAddr == ":7001" && c.Discovery.Username == "root"
		}},
		{name: "exact env name wins over upper", env: map[string]string{"http-port": "7002", "HTTP_PORT": "7003"}, check: func(c Config) bool { return c.HTTPAddr == ":7002" }},
		{name: "flag beats env beats settings", settings: map[string]string{"http-port": "1", "https-port": "2", "admin-port": "3"},
			env: map[string]string{"HTTP_PORT": "11", "HTTPS_PORT": "12"}, args: []string{"--http-port=21"},
			check: func(c Config) bool {
				return c.HTTPAddr == ":21" && c.HTTPSAddr == ":12" && c.AdminAddr == "127.0.0.1:3"
			}},
		{name: "VERSION env ignored", env: map[string]string{"VERSION": "true"}, check: func(c Config) bool { return !c.Version }},
		{name: "password file", args: []string{"--etcdpassword-file=" + pw}, check: func(c Config) bool { return c.Discovery.Password == "s3cret" }},
		{name: "password env", env: map[string]string{"etcdpassword": "pw"}, check: func(c Config) bool { return c.Discovery.Password == "pw" }},
		{name: "bad env", env: map[string]string{"HTTP_PORT": "eighty"}, err: `environment variable HTTP_PORT="eighty" (flag --http-port)`},
		{name: "bad flag", args: []string{"--etcdtimer=soon"}, err: "etcdtimer"},
		{name: "unknown flag", args: []string{"--nope"}, err: "nope"},
		{name: "bad setting", settings: map[string]string{"http-port": "x"}, err: "conf/gateway.conf setting http-port"},
		{name: "unknown setting", settings: map[string]string{"colour": "blue"}, err: `setting "colour" is not a gateway flag`},
		{name: "negative max connections", args: []string{"--max-connections=-1"}, err: "--max-connections=-1: must be 0"},
		{name: "port range", args: []string{"--http-port=70000"}, err: "--http-port=70000"},
		{name: "no listener", args: []string{"--http-port=0", "--https-port=0"}, err: "enable at least one"},
		{name: "cert without key", args: []string{"--tls-cert=a.pem"}, err: "--tls-key"},
		{name: "log format", args: []string{"--log-format=xml"}, err: "--log-format"},
		{name: "log level", args: []string{"--log-level=loud"}, err: "--log-level"},
		{name: "two passwords", args: []string{"--etcdpassword=a", "--etcdpassword-file=" + pw}, err: "both set"},
		{name: "missing password file", args: []string{"--etcdpassword-file=/nonexistent/pw"}, err: "--etcdpassword-file"},
		{name: "stray argument", args: []string{"serve"}, err: `unexpected argument "serve"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lookup := func(k string) (string, bool) { v, ok := tt.env[k]; return v, ok }
			c, err := ParseConfig(tt.settings, tt.args, lookup, io.Discard)
			if tt.err != "" {
				if err == nil || !strings.Contains(err.Error(), tt.err) {
					t.Fatalf("error %v, want one containing %q", err, tt.err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tt.check(c) {
				t.Fatalf("unexpected config %+v", c)
			}
		})
	}
}

func routesFor(backend string) *spec.Gateway {
	return &spec.Gateway{Project: "petstore-project", APIs: []spec.API{{
		Title: "Petstore", Version: "1.0.0", File: "petstore.yaml", BasePath: "/petstore/v1",
		Production: &spec.Endpoints{Type: spec.TypeHTTP, URLs: []spec.EndpointURL{{URL: backend}}},
		// Served open: these tests are about serving; security_test.go
		// tests the guard.
		Resources: []spec.Resource{{Path: "/pet/{petId}", Method: "GET", Security: &spec.Security{Disabled: true}}},
	}}}
}

func testConfig(t *testing.T, args ...string) Config {
	t.Helper()
	c, err := ParseConfig(nil, args, func(string) (string, bool) { return "", false }, io.Discard)
	if err != nil {
		t.Fatal(err)
	}
	c.HTTPAddr, c.HTTPSAddr, c.AdminAddr = "127.0.0.1:0", "127.0.0.1:0", "127.0.0.1:0"
	return c
}

func startTest(t *testing.T, g *spec.Gateway, cfg Config) (*Server, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	gw, err := Start(context.Background(), Program{Project: "petstore-project", MicroGWVersion: "9.9.9"}, g, cfg,
		slog.New(slog.NewTextHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		gw.Shutdown(ctx)
	})
	return gw, logs
}

func TestServeHTTPHTTPSAdmin(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, r.URL.Path+" "+r.Header.Get("X-Forwarded-Proto"))
	}))
	defer be.Close()
	gw, logs := startTest(t, routesFor(be.URL), testConfig(t, "--access-log"))
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	defer client.CloseIdleConnections()
	fetch := func(url string) (int, string) {
		t.Helper()
		resp, err := client.Get(url)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	for url, want := range map[string]string{
		"http://" + gw.HTTPAddr.String() + "/petstore/v1/pet/1":   "/pet/1 http",
		"https://" + gw.HTTPSAddr.String() + "/petstore/v1/pet/2": "/pet/2 https",
		"http://" + gw.HTTPAddr.String() + "/health":              `{"status":"healthy"}`,
		"https://" + gw.HTTPSAddr.String() + "/health":            `{"status":"healthy"}`,
		"http://" + gw.AdminAddr.String() + "/health":             `{"status":"healthy"}`,
	} {
		if code, body := fetch(url); code != 200 || body != want {
			t.Errorf("%s: %d %q, want 200 %q", url, code, body, want)
		}
	}
	code, body := fetch("http://" + gw.AdminAddr.String() + "/status")
	var st Status
	if err := json.Unmarshal([]byte(body), &st); err != nil || code != 200 {
		t.Fatalf("/status: %d %q %v", code, body, err)
	}
	if st.Project != "petstore-project" || st.MicroGWVersion != "9.9.9" || len(st.APIs) != 1 || st.APIs[0].BasePath != "/petstore/v1" || st.Discovery != nil {
		t.Errorf("/status = %+v", st)
	}
	resp, err := client.Post("http://"+gw.AdminAddr.String()+"/status", "text/plain", nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusMethodNotAllowed {
		t.Errorf("POST /status on the admin listener: %d, want 405", resp.StatusCode)
	}
	if l := logs.String(); !strings.Contains(l, "msg=access method=GET path=/petstore/v1/pet/1 status=200 upstream="+be.URL) ||
		!strings.Contains(l, "self-signed") {
		t.Errorf("logs lack the access line or the self-signed warning:\n%s", l)
	}
	if testing.Verbose() {
		t.Log(logs.String())
	}
}

func TestGracefulShutdown(t *testing.T) {
	arrived, release := make(chan struct{}), make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		close(arrived)
		<-release
		io.WriteString(w, "finished")
	}))
	defer be.Close()
	cfg := testConfig(t)
	cfg.HTTPSAddr, cfg.AdminAddr = "", ""
	gw, err := Start(context.Background(), Program{}, routesFor(be.URL), cfg, slog.New(slog.NewTextHandler(&logBuffer{}, nil)))
	if err != nil {
		t.Fatal(err)
	}
	addr := gw.HTTPAddr.String()
	type result struct {
		body string
		err  error
	}
	got := make(chan result, 1)
	go func() {
		resp, err := http.Get("http://" + addr + "/petstore/v1/pet/1")
		if err != nil {
			got <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		got <- result{string(b), err}
	}()
	<-arrived
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
		defer cancel()
		done <- gw.Shutdown(ctx)
	}()
	// New connections are refused once shutdown has begun.
	deadline := time.Now().Add(10 * time.Second)
	for {
		c, err := net.DialTimeout("tcp", addr, time.Second)
		if err != nil {
			break
		}
		c.Close()
		if time.Now().After(deadline) {
			t.Fatal("gateway still accepts connections 10 s after shutdown began")
		}
		time.Sleep(10 * time.Millisecond)
	}
	select {
	case err := <-done:
		t.Fatalf("shutdown returned (%v) while a request was in flight", err)
	default:
	}
	close(release)
	if r := <-got; r.err != nil || r.body != "finished" {
		t.Fatalf("in-flight request: %q %v", r.body, r.err)
	}
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
}

func TestStartErrors(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	cfg := testConfig(t)
	cfg.AdminAddr = ln.Addr().String()
	_, err = Start(context.Background(), Program{}, routesFor("http://127.0.0.1:1"), cfg, slog.New(slog.DiscardHandler))
	if err == nil || !strings.Contains(err.Error(), "--admin-port") {
		t.Errorf("port in use: error %v, want it to name --admin-port", err)
	}
	cfg = testConfig(t)
	cfg.TLSCert, cfg.TLSKey = "/nonexistent/cert.pem", "/nonexistent/key.pem"
	if _, err = Start(context.Background(), Program{}, routesFor("http://127.0.0.1:1"), cfg, slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "--tls-cert") {
		t.Errorf("missing cert: error %v", err)
	}
	g := routesFor("http://127.0.0.1:1")
	g.APIs[0].Production.URLs = []spec.EndpointURL{{EtcdKey: "pets", URL: "not a url"}}
	if _, err = Start(context.Background(), Program{}, g, testConfig(t), slog.New(slog.DiscardHandler)); err == nil || !strings.Contains(err.Error(), "etcd(pets, not a url)") {
		t.Errorf("bad etcd default: error %v", err)
	}
}

func TestMainVersionAndErrors(t *testing.T) {
	g := routesFor("http://127.0.0.1:1")
	routes, _ := json.Marshal(g)
	p := Program{Project: "petstore-project", MicroGWVersion: "0.1.0-dev", Routes: routes}
	var out, errb bytes.Buffer
	if code := Main(p, []string{"--version"}, &out, &errb); code != 0 {
		t.Fatalf("--version: exit %d, stderr %s", code, errb.String())
	}
	for _, want := range []string{"micro-gw 0.1.0-dev", "project: petstore-project", "Petstore 1.0.0  /petstore/v1"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("--version output %q lacks %q", out.String(), want)
		}
	}
	errb.Reset()
	if code := Main(p, []string{"--http-port=x"}, io.Discard, &errb); code != 2 || !strings.Contains(errb.String(), "http-port") {
		t.Errorf("bad flag: exit %d, stderr %q", code, errb.String())
	}
	errb.Reset()
	if code := Main(Program{Routes: []byte("{")}, nil, io.Discard, &errb); code != 1 || !strings.Contains(errb.String(), "route table") {
		t.Errorf("bad routes: exit %d, stderr %q", code, errb.String())
	}
}
