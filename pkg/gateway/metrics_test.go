package gateway

import (
	"bufio"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"golang.org/x/crypto/bcrypt"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// metricsRoutes is one open API with a resource on a live backend and one
// on a closed port.
func metricsRoutes(backend, closed string) *spec.Gateway {
	open := &spec.Security{Disabled: true}
	return &spec.Gateway{Project: "petstore-project", APIs: []spec.API{{
		Title: "Petstore", Version: "1.0.0", File: "petstore.yaml", BasePath: "/petstore/v1",
		Production: &spec.Endpoints{Type: spec.TypeHTTP, URLs: []spec.EndpointURL{{URL: backend}}},
		Resources: []spec.Resource{
			{Path: "/pet/{petId}", Method: "GET", Security: open},
			{Path: "/store", Method: "GET", Security: open,
				Production: &spec.Endpoints{Type: spec.TypeHTTP, URLs: []spec.EndpointURL{{URL: closed}}}},
		},
	}}}
}

// closedURL is an http URL on loopback where nothing listens.
func closedURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	u := "http://" + ln.Addr().String()
	ln.Close()
	return u
}

// TestMetricsScrapedFromRunningGateway protects GET /metrics end to end:
// requests through a started gateway to a real backend move the request
// counters of their route (labelled by path template, never the raw path)
// and status class, the backend counters of the URL (attempts, 5xx,
// connect errors), the latency histograms; unmatched requests have their
// own series; Go and process metrics are there.
func TestMetricsScrapedFromRunningGateway(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if strings.HasSuffix(r.URL.Path, "/500") {
			w.WriteHeader(500)
		}
		io.WriteString(w, "pet")
	}))
	defer be.Close()
	closed := closedURL(t)
	gw, _ := startTest(t, metricsRoutes(be.URL, closed), testConfig(t))
	base := "http://" + gw.HTTPAddr.String()
	for path, want := range map[string]int{"/petstore/v1/pet/1": 200, "/petstore/v1/pet/500": 500, "/petstore/v1/nope": 404, "/petstore/v1/store": 502} {
		if code, _ := fetchID(t, base+path, nil); code != want {
			t.Fatalf("%s: %d, want %d", path, code, want)
		}
	}
	fams := scrape(t, gw)
	route := map[string]string{"api": "Petstore", "resource": "/petstore/v1/pet/{petId}", "method": "GET"}
	for class, want := range map[string]float64{"2xx": 1, "5xx": 1, "4xx": 0} {
		if got := series(t, fams, "microgw_requests_total", with(route, "class", class)); got.GetCounter().GetValue() != want {
			t.Errorf("requests %s: %v, want %v", class, got.GetCounter().GetValue(), want)
		}
	}
	if got := series(t, fams, "microgw_requests_total", map[string]string{"api": "", "resource": "", "method": "", "class": "4xx"}); got.GetCounter().GetValue() != 1 {
		t.Errorf("unmatched 4xx: %v, want 1", got.GetCounter().GetValue())
	}
	if got := series(t, fams, "microgw_requests_total", map[string]string{"api": "Petstore", "resource": "/petstore/v1/store", "method": "GET", "class": "5xx"}); got.GetCounter().GetValue() != 1 {
		t.Errorf("/store 5xx: %v, want 1", got.GetCounter().GetValue())
	}
	if h := series(t, fams, "microgw_request_backend_duration_seconds", route).GetHistogram(); h.GetSampleCount() != 2 || h.GetSampleSum() <= 0 {
		t.Errorf("backend time: %d samples, sum %v; want 2 with a positive sum", h.GetSampleCount(), h.GetSampleSum())
	}
	if h := series(t, fams, "microgw_request_gateway_duration_seconds", route).GetHistogram(); h.GetSampleCount() != 2 {
		t.Errorf("gateway time: %d samples, want 2", h.GetSampleCount())
	}
	if got := series(t, fams, "microgw_response_body_bytes_total", route).GetCounter().GetValue(); got != 6 {
		t.Errorf("bytes out %v, want 6 (two bodies of 3)", got)
	}
	if got := series(t, fams, "microgw_backend_requests_total", map[string]string{"url": be.URL}).GetCounter().GetValue(); got != 2 {
		t.Errorf("backend attempts %v, want 2", got)
	}
	if got := series(t, fams, "microgw_backend_errors_total", map[string]string{"url": be.URL, "kind": "5xx"}).GetCounter().GetValue(); got != 1 {
		t.Errorf("backend 5xx %v, want 1", got)
	}
	if got := series(t, fams, "microgw_backend_errors_total", map[string]string{"url": closed, "kind": "connect"}).GetCounter().GetValue(); got != 1 {
		t.Errorf("connect errors of %s: %v, want 1", closed, got)
	}
	if got := series(t, fams, "microgw_backend_open_connections", map[string]string{"url": be.URL}).GetGauge().GetValue(); got < 1 {
		t.Errorf("open connections to the backend: %v, want at least 1 (pooled)", got)
	}
	for _, name := range []string{"go_goroutines", "process_resident_memory_bytes"} {
		if fams[name] == nil {
			t.Errorf("no %s", name)
		}
	}
	for name, f := range fams {
		for _, m := range f.GetMetric() {
			for _, l := range m.GetLabel() {
				if strings.Contains(l.GetValue(), "/pet/1") || strings.Contains(l.GetValue(), "/nope") {
					t.Errorf("%s carries a raw path: %s=%q", name, l.GetName(), l.GetValue())
				}
			}
		}
	}
}

// TestMetricsOffServesNoMetrics protects --metrics=false: the admin
// listener has no /metrics and requests still pass.
func TestMetricsOffServesNoMetrics(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "pet") }))
	defer be.Close()
	gw, _ := startTest(t, routesFor(be.URL), testConfig(t, "--metrics=false"))
	if code, _ := fetchID(t, "http://"+gw.HTTPAddr.String()+"/petstore/v1/pet/1", nil); code != 200 {
		t.Fatalf("request: %d", code)
	}
	if code, _ := fetchID(t, "http://"+gw.AdminAddr.String()+"/metrics", nil); code != 404 {
		t.Fatalf("GET /metrics with metrics off: %d, want 404", code)
	}
}

// TestRequestIDReachesBackendClientAndJSONAccessLog protects request ids
// and the JSON access log: a sane incoming X-Request-ID is sent to the
// backend and returned; an insane one is replaced by a new id, the same
// at the backend, in the answer and in the log line, which has the
// fields people query.
func TestRequestIDReachesBackendClientAndJSONAccessLog(t *testing.T) {
	var mu sync.Mutex
	var seen []string
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		seen = append(seen, strings.Join(r.Header.Values("X-Request-Id"), ","))
		mu.Unlock()
		io.WriteString(w, "pet")
	}))
	defer be.Close()
	logs := &logBuffer{}
	cfg := testConfig(t, "--access-log", "--log-format=json")
	gw, err := Start(context.Background(), Program{Project: "p", MicroGWVersion: "9.9.9"}, routesFor(be.URL), cfg,
		slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		gw.Shutdown(ctx)
	})
	url := "http://" + gw.HTTPAddr.String() + "/petstore/v1/pet/7"
	_, kept := fetchID(t, url, map[string]string{"X-Request-ID": "trace-42.a_b"})
	_, made := fetchID(t, url, map[string]string{"X-Request-ID": "no spaces allowed"})
	mu.Lock()
	defer mu.Unlock()
	if kept != "trace-42.a_b" || seen[0] != kept {
		t.Errorf("sane id: answered %q, backend saw %q; want trace-42.a_b both", kept, seen[0])
	}
	if made == "" || made == "no spaces allowed" || seen[1] != made {
		t.Errorf("insane id: answered %q, backend saw %q; want one new id for both", made, seen[1])
	}
	lines := accessLines(t, logs.String())
	if len(lines) != 2 {
		t.Fatalf("%d access lines, want 2:\n%s", len(lines), logs.String())
	}
	l := lines[1]
	for k, want := range map[string]any{"id": made, "api": "Petstore", "resource": "/petstore/v1/pet/{petId}", "method": "GET",
		"path": "/petstore/v1/pet/7", "status": 200.0, "upstream": be.URL, "retries": 0.0, "client": "127.0.0.1", "bytes_out": 3.0, "bytes_in": 0.0} {
		if l[k] != want {
			t.Errorf("access line %s = %#v, want %#v", k, l[k], want)
		}
	}
	for _, k := range []string{"time", "duration", "backend_duration"} {
		if _, ok := l[k]; !ok {
			t.Errorf("access line lacks %s: %v", k, l)
		}
	}
	if d, _ := l["backend_duration"].(float64); d <= 0 || d > l["duration"].(float64) {
		t.Errorf("backend_duration %v, duration %v: want 0 < backend <= total", l["backend_duration"], l["duration"])
	}
	if _, ok := l["application"]; ok {
		t.Errorf("an open route's access line names an application: %v", l)
	}
}

func accessLines(t *testing.T, logs string) []map[string]any {
	t.Helper()
	var out []map[string]any
	sc := bufio.NewScanner(strings.NewReader(logs))
	for sc.Scan() {
		var m map[string]any
		if err := json.Unmarshal(sc.Bytes(), &m); err != nil {
			t.Fatalf("log line is not JSON: %q", sc.Text())
		}
		if m["msg"] == "access" {
			out = append(out, m)
		}
	}
	return out
}

// fetchID fetches url with headers and returns the status and X-Request-ID.
func fetchID(t *testing.T, url string, headers map[string]string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	io.Copy(io.Discard, resp.Body)
	return resp.StatusCode, resp.Header.Get("X-Request-ID")
}

// scrape reads GET /metrics of gw's admin listener.
func scrape(t *testing.T, gw *Server) map[string]*dto.MetricFamily {
	t.Helper()
	resp, err := http.Get("http://" + gw.AdminAddr.String() + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("GET /metrics: %d", resp.StatusCode)
	}
	var p expfmt.TextParser
	fams, err := p.TextToMetricFamilies(resp.Body)
	if err != nil {
		t.Fatalf("GET /metrics is not the text format: %v", err)
	}
	return fams
}

func with(labels map[string]string, k, v string) map[string]string {
	out := map[string]string{k: v}
	for a, b := range labels {
		out[a] = b
	}
	return out
}

// series returns the series of family name whose labels are exactly labels.
func series(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	t.Helper()
	f := fams[name]
	if f == nil {
		t.Fatalf("no metric family %s", name)
	}
next:
	for _, m := range f.GetMetric() {
		if len(m.GetLabel()) != len(labels) {
			continue
		}
		for _, l := range m.GetLabel() {
			if v, ok := labels[l.GetName()]; !ok || v != l.GetValue() {
				continue next
			}
		}
		return m
	}
	t.Fatalf("no series %s%v", name, labels)
	return nil
}

// TestAuthenticatedAccessLogAndAuthFailureMetric protects the security
// side of the access log and the metrics: a request with good basic
// credentials is logged with its user as application and its key type
// and never with the password; a wrong password counts an auth failure
// under its fault code (900911).
func TestAuthenticatedAccessLogAndAuthFailureMetric(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "pet") }))
	defer be.Close()
	const password = "pa55-w0rd-secret"
	hash, err := bcrypt.GenerateFromPassword([]byte(password), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	htpasswd := filepath.Join(t.TempDir(), "htpasswd")
	if err := os.WriteFile(htpasswd, []byte("alice:"+string(hash)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	g := routesFor(be.URL)
	g.APIs[0].Resources[0].Security = &spec.Security{Alternatives: [][]spec.Requirement{{{Scheme: "basicAuth", Kind: spec.KindBasic}}}}
	logs := &logBuffer{}
	cfg := testConfig(t, "--access-log", "--log-format=json", "--basic-auth-file="+htpasswd)
	gw, err := Start(context.Background(), Program{Project: "p", MicroGWVersion: "9.9.9"}, g, cfg, slog.New(slog.NewJSONHandler(logs, nil)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		gw.Shutdown(ctx)
	})
	url := "http://" + gw.HTTPAddr.String() + "/petstore/v1/pet/7"
	basicAuth := func(pw string) map[string]string {
		return map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("alice:"+pw))}
	}
	if code, _ := fetchID(t, url, basicAuth(password)); code != 200 {
		t.Fatalf("good credentials: %d", code)
	}
	if code, _ := fetchID(t, url, basicAuth("wrong")); code != 401 {
		t.Fatalf("wrong password: %d", code)
	}
	lines := accessLines(t, logs.String())
	if len(lines) != 2 {
		t.Fatalf("%d access lines, want 2", len(lines))
	}
	if lines[0]["application"] != "alice" || lines[0]["key_type"] != "PRODUCTION" {
		t.Errorf("authenticated access line: application %v, key_type %v; want alice, PRODUCTION", lines[0]["application"], lines[0]["key_type"])
	}
	if _, ok := lines[1]["application"]; ok || lines[1]["status"] != 401.0 {
		t.Errorf("refused request's access line: %v", lines[1])
	}
	if l := logs.String(); strings.Contains(l, password) || strings.Contains(l, base64.StdEncoding.EncodeToString([]byte("alice:"+password))) {
		t.Errorf("the log shows the credential:\n%s", l)
	}
	fams := scrape(t, gw)
	if got := series(t, fams, "microgw_auth_failures_total", map[string]string{"api": "Petstore", "code": "900911"}).GetCounter().GetValue(); got != 1 {
		t.Errorf("auth failures 900911: %v, want 1", got)
	}
}
