package proxy

import (
	"bytes"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/internal/loopback"
	"github.com/micro-gw/micro-gw/pkg/spec"
	"github.com/valyala/fasthttp"
)

// wait bounds every eventual condition in these tests.
const wait = 10 * time.Second

// listAPI is one API under /api with GET and POST /item, served by an
// endpoint list of type typ over urls.
func listAPI(typ string, adv *spec.AdvancedConfig, urls ...string) *spec.Gateway {
	eps := &spec.Endpoints{Type: typ, Advanced: adv}
	for _, u := range urls {
		eps.URLs = append(eps.URLs, spec.EndpointURL{URL: u})
	}
	return &spec.Gateway{APIs: []spec.API{{
		Title: "list", File: "list.yaml", BasePath: "/api", Production: eps,
		Resources: []spec.Resource{{Path: "/item", Method: "GET"}, {Path: "/item", Method: "POST"}},
	}}}
}

// backend is a loopback HTTP server that counts its requests and can be
// stopped and started again on the same address.
type backend struct {
	t       *testing.T
	name    string
	port    *loopback.Reservation // held for the test, so a restart finds it free
	addr    string
	handler http.HandlerFunc
	hits    atomic.Int64

	mu  sync.Mutex
	srv *http.Server
}

// newBackend starts a backend whose handler is h, or one answering its
// name and the body length it read when h is nil.
func startBackend(t *testing.T, name string, h http.HandlerFunc) *backend {
	t.Helper()
	port := reservePort(t)
	b := &backend{t: t, name: name, port: port, addr: port.Addr(), handler: h}
	if h == nil {
		b.handler = func(w http.ResponseWriter, r *http.Request) {
			n, _ := io.Copy(io.Discard, r.Body)
			io.WriteString(w, name+" "+itoa(n))
		}
	}
	b.start()
	t.Cleanup(b.stop)
	return b
}

func itoa(n int64) string { return string(fasthttp.AppendUint(nil, int(n))) }

func (b *backend) URL() string { return "http://" + b.addr }

// start listens on the backend's port; while it is stopped, connections
// to the port are refused.
func (b *backend) start() {
	b.t.Helper()
	ln, err := b.port.Listen()
	if err != nil {
		b.t.Fatalf("backend %s: %v", b.name, err)
	}
	srv := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b.hits.Add(1)
		b.handler(w, r)
	})}
	b.mu.Lock()
	b.srv = srv
	b.mu.Unlock()
	go srv.Serve(ln)
}

// stop closes the listener and every connection at once, as a crash would.
func (b *backend) stop() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.srv != nil {
		b.srv.Close()
		b.srv = nil
	}
}

// call sends one request and returns the status and body.
func call(t *testing.T, method, url string, body io.Reader) (int, string) {
	t.Helper()
	resp, b := get(t, nil, newReq(t, method, url, body))
	return resp.StatusCode, b
}

// who sends n GETs and returns the body of each 200 answer, counted.
func who(t *testing.T, url string, n int) map[string]int {
	t.Helper()
	got := map[string]int{}
	for range n {
		status, body := call(t, "GET", url, nil)
		if status != 200 {
			t.Fatalf("GET %s: %d %s", url, status, body)
		}
		got[body]++
	}
	return got
}

func TestRoundRobin(t *testing.T) {
	a, b, c := startBackend(t, "a", nil), startBackend(t, "b", nil), startBackend(t, "c", nil)
	gw := startGateway(t, listAPI(spec.TypeLoadBalance, nil, a.URL(), b.URL(), c.URL()), Options{})
	got := who(t, gw.url+"/api/item", 300)
	for _, name := range []string{"a 0", "b 0", "c 0"} {
		if got[name] != 100 {
			t.Errorf("300 sequential requests over 3 URLs: %v, want 100 each", got)
			break
		}
	}
	// Sequential requests alternate strictly.
	first := who(t, gw.url+"/api/item", 1)
	second := who(t, gw.url+"/api/item", 1)
	for k := range first {
		if second[k] != 0 {
			t.Errorf("two consecutive requests both went to %s", k)
		}
	}
}

func TestFailoverBackendKilledAndBack(t *testing.T) {
	a, b := startBackend(t, "a", nil), startBackend(t, "b", nil)
	gw := startGateway(t, listAPI(spec.TypeFailover, nil, a.URL(), b.URL()), Options{})
	url := gw.url + "/api/item"

	if got := who(t, url, 10); got["a 0"] != 10 {
		t.Fatalf("both up: %v, want all on the first URL", got)
	}
	a.stop()
	// The first request fails on a and moves on within the request; the
	// others skip a while it is marked down.
	if got := who(t, url, 10); got["b 0"] != 10 {
		t.Fatalf("first URL down: %v, want all on the second", got)
	}
	// A POST whose body is buffered moves on too.
	if status, body := call(t, "POST", url, strings.NewReader("hello")); status != 200 || body != "b 5" {
		t.Fatalf("POST with the first URL down: %d %q", status, body)
	}

	a.start()
	deadline := time.Now().Add(wait)
	for {
		if who(t, url, 1)["a 0"] == 1 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("traffic did not return to the first URL within %v of it coming back", wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := who(t, url, 10); got["a 0"] != 10 {
		t.Fatalf("first URL back: %v, want all on it again", got)
	}
}

func TestFailoverStreamedBodyWhenFirstRefuses(t *testing.T) {
	refused := refusedURL(t)
	b := startBackend(t, "b", nil)
	gw := startGateway(t, listAPI(spec.TypeFailover, nil, refused, b.URL()), Options{})
	// A chunked body is never buffered, but a refused connection sent
	// nothing, so the request may still move to the next URL.
	body := io.NopCloser(bytes.NewReader(bytes.Repeat([]byte("x"), 200<<10)))
	if status, got := call(t, "POST", gw.url+"/api/item", body); status != 200 || got != "b 204800" {
		t.Fatalf("got %d %q, want the second URL to get the whole body", status, got)
	}
}

func TestLoadBalanceSkipsDeadURL(t *testing.T) {
	a, b := startBackend(t, "a", nil), startBackend(t, "b", nil)
	gw := startGateway(t, listAPI(spec.TypeLoadBalance, nil, a.URL(), b.URL()), Options{})
	url := gw.url + "/api/item"
	a.stop()
	if got := who(t, url, 20); got["b 0"] != 20 {
		t.Fatalf("one URL of two down: %v, want every request answered by the other", got)
	}
	a.start()
	deadline := time.Now().Add(wait)
	for who(t, url, 2)["a 0"] == 0 {
		if time.Now().After(deadline) {
			t.Fatalf("the restarted URL got no traffic within %v", wait)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if got := who(t, url, 20); got["a 0"] != 10 || got["b 0"] != 10 {
		t.Fatalf("both up again: %v, want an even spread", got)
	}
}

func TestAllURLsDown(t *testing.T) {
	var refused []string
	for range 2 {
		refused = append(refused, refusedURL(t))
	}
	for _, typ := range []string{spec.TypeFailover, spec.TypeLoadBalance} {
		gw := startGateway(t, listAPI(typ, nil, refused...), Options{})
		for range 3 {
			resp, body := get(t, nil, newReq(t, "GET", gw.url+"/api/item", nil))
			if resp.StatusCode != 502 || !strings.Contains(body, "101503") {
				t.Fatalf("%s, every URL refused: %d %s", typ, resp.StatusCode, body)
			}
		}
	}
}

func TestHTTPTypeUsesFirstURL(t *testing.T) {
	a, b := startBackend(t, "a", nil), startBackend(t, "b", nil)
	gw := startGateway(t, listAPI(spec.TypeHTTP, nil, a.URL(), b.URL()), Options{})
	if got := who(t, gw.url+"/api/item", 5); got["a 0"] != 5 {
		t.Fatalf("type http: %v, want the first URL only", got)
	}
}

func TestMemberHealth(t *testing.T) {
	var m member
	now := int64(time.Hour)
	if !m.available(now) {
		t.Fatal("a new member is down")
	}
	m.failed(now)
	if m.available(now + int64(downMin) - 1) {
		t.Fatal("available before its retry-after")
	}
	if !m.available(now + int64(downMin)) {
		t.Fatal("no probe after the retry-after")
	}
	if m.available(now + int64(downMin)) {
		t.Fatal("a second probe while the first is out")
	}
	m.failed(now + int64(downMin))
	if m.available(now + 2*int64(downMin)) {
		t.Fatal("second consecutive failure: want a doubled retry-after")
	}
	for range 10 {
		m.failed(now)
	}
	if !m.available(now + int64(downMax)) {
		t.Fatalf("retry-after grew past %v", downMax)
	}
	m.succeeded()
	if !m.available(now) || !m.available(now) {
		t.Fatal("up again after a success: want every request")
	}
}

// BenchmarkProxyLoadBalance is BenchmarkProxy through a load-balanced list
// of two URLs with a retry config and a circuit breaker: the list path.
func BenchmarkProxyLoadBalance(b *testing.B) {
	body := bytes.Repeat([]byte(`{"id":1,"name":"doggie"},`), 40)
	var urls []string
	for range 2 {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			b.Fatal(err)
		}
		be := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.SetContentType("application/json")
			ctx.SetBody(body)
		}}
		go be.Serve(ln)
		defer be.Shutdown()
		urls = append(urls, "http://"+ln.Addr().String())
	}
	adv := &spec.AdvancedConfig{
		Retry:          &spec.RetryConfig{Count: 1, StatusCodes: []int{503}},
		CircuitBreaker: &spec.CircuitBreaker{RequestVolumeThreshold: 10, FailureThreshold: 0.5, ResetTimeMillis: 1000, StatusCodes: []int{500}},
	}
	gw := startGateway(b, listAPI(spec.TypeLoadBalance, adv, urls...), Options{})
	benchGET(b, gw.url, "/api/item", len(body))
}

func TestLevelsAndSandbox(t *testing.T) {
	api, op, sb := startBackend(t, "api", nil), startBackend(t, "op", nil), startBackend(t, "sandbox", nil)
	g := listAPI(spec.TypeHTTP, nil, api.URL())
	g.APIs[0].Sandbox = &spec.Endpoints{Type: spec.TypeHTTP, URLs: []spec.EndpointURL{{URL: sb.URL()}}}
	g.APIs[0].Resources[1].Production = &spec.Endpoints{Type: spec.TypeLoadBalance, URLs: []spec.EndpointURL{{URL: op.URL()}, {URL: op.URL() + "/"}}}
	gw := startGateway(t, g, Options{})
	if _, body := call(t, "GET", gw.url+"/api/item", nil); body != "api 0" {
		t.Errorf("GET: answered by %q, want the API-level endpoint", body)
	}
	if _, body := call(t, "POST", gw.url+"/api/item", nil); body != "op 0" {
		t.Errorf("POST: answered by %q, want the operation-level endpoint", body)
	}
	if gw.bindings[sb.URL()] == nil {
		t.Error("the sandbox endpoint was not resolved")
	}
	if sb.hits.Load() != 0 {
		t.Error("a request reached the sandbox before authentication can select it")
	}

	g.APIs[0].Sandbox.URLs[0].URL = "ftp://sandbox"
	if _, err := New(g, staticBind, Options{}); err == nil || !strings.Contains(err.Error(), "sandbox endpoint ftp://sandbox") || !strings.Contains(err.Error(), "list.yaml") {
		t.Errorf("bad sandbox URL: error %v, want it to name the file, the sandbox and the URL", err)
	}
}
