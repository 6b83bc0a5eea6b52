package proxy

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httptrace"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// gateway is a proxy serving on a loopback port.
type gateway struct {
	url      string
	bindings map[string]*endpoint.Binding // by URL as written in the spec
	p        *Proxy
}

// startGateway serves g with a Bind that records every Binding it hands out.
func startGateway(t testing.TB, g *spec.Gateway, opts Options) *gateway {
	t.Helper()
	gw := &gateway{bindings: map[string]*endpoint.Binding{}}
	p, err := New(servedOpen(g), func(u spec.EndpointURL) (*endpoint.Binding, error) {
		tg, err := endpoint.Parse(u.URL)
		if err != nil {
			return nil, err
		}
		b := endpoint.NewBinding(tg)
		gw.bindings[u.URL] = b
		return b, nil
	}, opts)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := p.NewServer()
	done := make(chan error, 1)
	go func() { done <- srv.Serve(Listener(ln)) }()
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := srv.ShutdownWithContext(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
		<-done
		p.Close()
	})
	gw.url = "http://" + ln.Addr().String()
	gw.p = p
	return gw
}

// servedOpen marks every resource of g without security of its own as
// served open (x-wso2-disable-security): the tests of routing and
// forwarding send no credentials; the guard's tests (auth_test.go) set
// the security they test.
func servedOpen(g *spec.Gateway) *spec.Gateway {
	for i := range g.APIs {
		for j := range g.APIs[i].Resources {
			if r := &g.APIs[i].Resources[j]; r.Security == nil {
				r.Security = &spec.Security{Disabled: true}
			}
		}
	}
	return g
}

// staticBind binds each endpoint URL to its fixed target, as a gateway
// without etcd does.
func staticBind(u spec.EndpointURL) (*endpoint.Binding, error) {
	tg, err := endpoint.Parse(u.URL)
	if err != nil {
		return nil, err
	}
	return endpoint.NewBinding(tg), nil
}

// petstore is one API under /petstore/v1 whose endpoint is backend+"/v2".
func petstore(backend string, timeoutMillis int) *spec.Gateway {
	eps := &spec.Endpoints{Type: spec.TypeHTTP, URLs: []spec.EndpointURL{{URL: backend + "/v2"}}}
	if timeoutMillis > 0 {
		eps.Advanced = &spec.AdvancedConfig{TimeoutMillis: timeoutMillis}
	}
	return &spec.Gateway{APIs: []spec.API{{
		Title: "petstore", BasePath: "/petstore/v1", Production: eps,
		Resources: []spec.Resource{
			{Path: "/pet/{petId}", Method: "GET"},
			{Path: "/pet/{petId}", Method: "DELETE"},
			{Path: "/pet", Method: "POST"},
			{Path: "/", Method: "GET"},
		},
	}}}
}

// echo is a backend answering with what it received.
func echo(t testing.TB) *httptest.Server {
	s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		n, _ := io.Copy(io.Discard, r.Body)
		for k, v := range r.Header {
			w.Header()["Got-"+k] = v
		}
		fmt.Fprintf(w, "%s %s %s host=%s body=%d", r.Method, r.URL.EscapedPath(), r.URL.RawQuery, r.Host, n)
	}))
	t.Cleanup(s.Close)
	return s
}

func get(t *testing.T, c *http.Client, req *http.Request) (*http.Response, string) {
	t.Helper()
	if c == nil {
		c = http.DefaultClient
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

func newReq(t *testing.T, method, url string, body io.Reader) *http.Request {
	t.Helper()
	r, err := http.NewRequest(method, url, body)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func TestRoutingAndHeaders(t *testing.T) {
	be := echo(t)
	gw := startGateway(t, petstore(be.URL, 0), Options{})
	beHost := strings.TrimPrefix(be.URL, "http://")
	gwHost := strings.TrimPrefix(gw.url, "http://")

	tests := []struct {
		method, path string
		status       int
		body         string
	}{
		{"GET", "/petstore/v1/pet/12?x=1&y=a%20b&y=2", 200, "GET /v2/pet/12 x=1&y=a%20b&y=2 host=" + beHost + " body=0"},
		{"GET", "/petstore/v1/pet/a%3Fb%23%20c", 200, "GET /v2/pet/a%3Fb%23%20c  host=" + beHost + " body=0"},
		{"DELETE", "/petstore/v1/pet/7/", 200, "DELETE /v2/pet/7/  host=" + beHost + " body=0"},
		{"GET", "/petstore/v1", 200, "GET /v2  host=" + beHost + " body=0"},
		{"GET", "/petstore/v1/", 200, "GET /v2/  host=" + beHost + " body=0"},
		{"GET", "/petstore/v1/pet/../../admin", 404, string(fault.NotFound.Body)},
		{"GET", "/petstore/v2/pet/1", 404, string(fault.NotFound.Body)},
		{"PUT", "/petstore/v1/pet/1", 405, string(fault.MethodNotAllowed.Body)},
		{"GET", "/health", 200, `{"status":"healthy"}`},
	}
	for _, tt := range tests {
		resp, body := get(t, nil, newReq(t, tt.method, gw.url+tt.path, nil))
		if resp.StatusCode != tt.status || body != tt.body {
			t.Errorf("%s %s: got %d %q, want %d %q", tt.method, tt.path, resp.StatusCode, body, tt.status, tt.body)
		}
		if tt.status != 200 && resp.Header.Get("Content-Type") != "application/json" {
			t.Errorf("%s %s: fault Content-Type %q", tt.method, tt.path, resp.Header.Get("Content-Type"))
		}
	}
	resp, _ := get(t, nil, newReq(t, "PUT", gw.url+"/petstore/v1/pet/1", nil))
	if got := resp.Header.Get("Allow"); got != "DELETE, GET" {
		t.Errorf("Allow = %q, want %q", got, "DELETE, GET")
	}

	req := newReq(t, "GET", gw.url+"/petstore/v1/pet/1", nil)
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	req.Header.Set("X-Forwarded-Proto", "gopher")
	resp, _ = get(t, nil, req)
	for k, want := range map[string]string{
		"Got-X-Forwarded-For":   "203.0.113.9, 127.0.0.1",
		"Got-X-Forwarded-Host":  gwHost,
		"Got-X-Forwarded-Proto": "http",
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s = %q, want %q", k, got, want)
		}
	}
}

// rawRoundTrip sends raw bytes to addr and returns everything read until the
// server closes the connection.
func rawRoundTrip(t *testing.T, addr, request string) string {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(addr, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	if _, err := io.WriteString(c, request); err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(c)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// rawBackend answers every connection with handle, run on the connection.
func rawBackend(t *testing.T, handle func(c *net.TCPConn, r *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	t.Cleanup(func() { ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				c.SetDeadline(time.Now().Add(10 * time.Second))
				handle(c.(*net.TCPConn), bufio.NewReader(c))
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

func TestHopByHopHeaders(t *testing.T) {
	var got atomic.Value
	be := rawBackend(t, func(c *net.TCPConn, r *bufio.Reader) {
		req, err := http.ReadRequest(r)
		if err != nil {
			return
		}
		got.Store(req.Header.Clone())
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: X-Resp-Hop\r\nX-Resp-Hop: 1\r\n"+
			"Keep-Alive: timeout=5\r\nProxy-Authenticate: Basic\r\nUpgrade: h2c\r\nX-Kept: yes\r\n\r\nok")
	})
	gw := startGateway(t, petstore(be, 0), Options{})
	resp := rawRoundTrip(t, gw.url, "GET /petstore/v1/pet/1 HTTP/1.1\r\nHost: gw.example\r\n"+
		"Connection: close, X-Hop\r\nX-Hop: 1\r\nKeep-Alive: timeout=5\r\nProxy-Connection: keep-alive\r\n"+
		"Proxy-Authorization: Basic eA==\r\nTE: trailers\r\nUpgrade: websocket\r\nX-Kept: yes\r\n\r\n")
	h, _ := got.Load().(http.Header)
	if h == nil {
		t.Fatalf("backend got no request; gateway answered %q", resp)
	}
	for _, k := range []string{"Connection", "X-Hop", "Keep-Alive", "Proxy-Connection", "Proxy-Authorization", "Te", "Upgrade"} {
		if v, ok := h[k]; ok {
			t.Errorf("backend got hop-by-hop header %s: %q", k, v)
		}
	}
	if h.Get("X-Kept") != "yes" || h.Get("X-Forwarded-Host") != "gw.example" {
		t.Errorf("backend headers lost: %v", h)
	}
	head, body, _ := strings.Cut(resp, "\r\n\r\n")
	if !strings.HasPrefix(head, "HTTP/1.1 200") || body != "ok" {
		t.Fatalf("response %q", resp)
	}
	lower := strings.ToLower(head)
	for _, k := range []string{"x-resp-hop:", "keep-alive:", "proxy-authenticate:", "upgrade:"} {
		if strings.Contains(lower, k) {
			t.Errorf("client got hop-by-hop header %s in %q", k, head)
		}
	}
	if !strings.Contains(lower, "x-kept: yes") || !strings.Contains(lower, "connection: close") {
		t.Errorf("response header %q: want X-Kept kept and the client's Connection: close honoured", head)
	}
}

// TestHopByHopHeadersWithoutConnection checks that hop-by-hop headers are
// found in any case when no Connection header announces them.
func TestHopByHopHeadersWithoutConnection(t *testing.T) {
	var got atomic.Value
	be := rawBackend(t, func(c *net.TCPConn, r *bufio.Reader) {
		req, err := http.ReadRequest(r)
		if err != nil {
			return
		}
		got.Store(req.Header.Clone())
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nkeep-alive: timeout=5\r\nPROXY-AUTHENTICATE: Basic\r\nX-Kept: yes\r\n\r\nok")
	})
	gw := startGateway(t, petstore(be, 0), Options{})
	resp := rawRoundTrip(t, gw.url, "GET /petstore/v1/pet/1 HTTP/1.1\r\nHost: gw.example\r\n"+
		"te: trailers\r\nX-Kept: yes\r\nproxy-authorization: Basic eA==\r\nConnection: close\r\n\r\n")
	h, _ := got.Load().(http.Header)
	if h == nil {
		t.Fatalf("backend got no request; gateway answered %q", resp)
	}
	for _, k := range []string{"Te", "Proxy-Authorization", "Connection"} {
		if v, ok := h[k]; ok {
			t.Errorf("backend got hop-by-hop header %s: %q", k, v)
		}
	}
	if h.Get("X-Kept") != "yes" {
		t.Errorf("backend headers lost: %v", h)
	}
	head, body, _ := strings.Cut(resp, "\r\n\r\n")
	if !strings.HasPrefix(head, "HTTP/1.1 200") || body != "ok" {
		t.Fatalf("response %q", resp)
	}
	lower := strings.ToLower(head)
	for _, k := range []string{"keep-alive:", "proxy-authenticate:"} {
		if strings.Contains(lower, k) {
			t.Errorf("client got hop-by-hop header %s in %q", k, head)
		}
	}
	if !strings.Contains(lower, "x-kept: yes") {
		t.Errorf("response header %q: want X-Kept kept", head)
	}
}

// TestHostUserinfo checks that userinfo in the client's Host header does
// not reach the backend, as Host or as an Authorization header.
func TestHostUserinfo(t *testing.T) {
	var got atomic.Value
	be := rawBackend(t, func(c *net.TCPConn, r *bufio.Reader) {
		req, err := http.ReadRequest(r)
		if err != nil {
			return
		}
		got.Store(req)
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
	})
	gw := startGateway(t, petstore(be, 0), Options{})
	resp := rawRoundTrip(t, gw.url, "GET /petstore/v1/pet/1?a=b HTTP/1.1\r\nHost: user:pw@gw.example\r\nConnection: close\r\n\r\n")
	req, _ := got.Load().(*http.Request)
	if req == nil {
		t.Fatalf("backend got no request; gateway answered %q", resp)
	}
	if a := req.Header.Get("Authorization"); a != "" {
		t.Errorf("backend got Authorization %q from the Host header's userinfo", a)
	}
	if want := strings.TrimPrefix(be, "http://"); req.Host != want || req.RequestURI != "/v2/pet/1?a=b" {
		t.Errorf("backend got Host %q, URI %q; want %q, /v2/pet/1?a=b", req.Host, req.RequestURI, want)
	}
}

func TestHeaderTooLarge(t *testing.T) {
	be := echo(t)
	gw := startGateway(t, petstore(be.URL, 0), Options{MaxHeaderBytes: 4096})
	resp := rawRoundTrip(t, gw.url, "GET /petstore/v1/pet/1 HTTP/1.1\r\nHost: x\r\nX-Big: "+strings.Repeat("a", 8000)+"\r\n\r\n")
	if !strings.HasPrefix(resp, "HTTP/1.1 431 ") || !strings.HasSuffix(resp, string(fault.HeaderTooLarge.Body)) {
		t.Fatalf("got %q, want a 431 with the fault body", resp)
	}
	// Just under the limit passes.
	r, body := get(t, nil, func() *http.Request {
		req := newReq(t, "GET", gw.url+"/petstore/v1/pet/1", nil)
		req.Header.Set("X-Big", strings.Repeat("a", 3000))
		return req
	}())
	if r.StatusCode != 200 {
		t.Fatalf("3000-byte header: %d %s", r.StatusCode, body)
	}
}

func TestBackendErrors(t *testing.T) {
	refused := refusedURL(t)

	reset := rawBackend(t, func(c *net.TCPConn, r *bufio.Reader) {
		http.ReadRequest(r)
		c.SetLinger(0) // close with RST
	})
	closed := rawBackend(t, func(c *net.TCPConn, r *bufio.Reader) {
		http.ReadRequest(r)
	})
	garbage := rawBackend(t, func(c *net.TCPConn, r *bufio.Reader) {
		http.ReadRequest(r)
		io.WriteString(c, "SSH-2.0-OpenSSH\r\n\r\n")
	})
	release := make(chan struct{})
	slow := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	defer slow.Close()
	defer close(release)

	for _, tt := range []struct {
		name, backend string
		want          *fault.Fault
	}{
		{"refused", refused, fault.BackendUnreachable},
		{"reset", reset, fault.BackendUnreachable},
		{"closed", closed, fault.BackendUnreachable},
		{"garbage", garbage, fault.BackendUnreachable},
		{"slow", slow.URL, fault.BackendTimeout},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gw := startGateway(t, petstore(tt.backend, 300), Options{})
			for _, method := range []string{"GET", "POST"} {
				path := "/petstore/v1/pet/1"
				if method == "POST" {
					path = "/petstore/v1/pet"
				}
				resp, body := get(t, nil, newReq(t, method, gw.url+path, strings.NewReader("x")))
				if resp.StatusCode != tt.want.Status || body != string(tt.want.Body) {
					t.Errorf("%s: got %d %q, want %d %q", method, resp.StatusCode, body, tt.want.Status, tt.want.Body)
				}
			}
		})
	}
	if string(fault.BackendUnreachable.Body) != `{"fault":{"code":101503,"message":"Runtime Error","description":"Error connecting to the back end"}}` {
		t.Errorf("502 body drifted from micro-gw's: %s", fault.BackendUnreachable.Body)
	}
}

func TestHTTP10Client(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length: Go's server chunks this answer to the gateway.
		io.WriteString(w, r.Proto+" ")
		w.(http.Flusher).Flush()
		io.WriteString(w, "done")
	}))
	defer be.Close()
	gw := startGateway(t, petstore(be.URL, 0), Options{})
	resp := rawRoundTrip(t, gw.url, "GET /petstore/v1/pet/1 HTTP/1.0\r\n\r\n")
	head, body, _ := strings.Cut(resp, "\r\n\r\n")
	if !strings.Contains(head, " 200 ") || strings.Contains(strings.ToLower(head), "chunked") {
		t.Fatalf("HTTP/1.0 client got %q", resp)
	}
	if body != "HTTP/1.1 done" {
		t.Fatalf("body %q: want the backend called over HTTP/1.1 and an unchunked body", body)
	}
}

// TestHTTP10ClientThatStopsReadingIsCutOff: an HTTP/1.0 client that
// stops reading a streamed answer of unknown length is cut off after the
// client write timeout, as an HTTP/1.1 client is, and the backend
// connection is given up. That answer is written on the hijacked
// connection, on which fasthttp sets no deadline: before, the client held
// its connection, a goroutine and a backend connection for as long as it
// liked.
func TestHTTP10ClientThatStopsReadingIsCutOff(t *testing.T) {
	gone := make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// No Content-Length and no end: the gateway streams it.
		piece := make([]byte, 64<<10)
		for {
			if _, err := w.Write(piece); err != nil {
				close(gone) // the gateway closed the backend connection
				return
			}
			w.(http.Flusher).Flush()
		}
	}))
	defer be.Close()
	gw := startGateway(t, petstore(be.URL, 0), Options{ClientWriteTimeout: 200 * time.Millisecond})
	c, err := net.Dial("tcp", strings.TrimPrefix(gw.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.(*net.TCPConn).SetReadBuffer(4 << 10)
	if _, err := io.WriteString(c, "GET /petstore/v1/pet/1 HTTP/1.0\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	// The client reads nothing from here on.
	select {
	case <-gone:
	case <-time.After(10 * time.Second):
		t.Fatal("an HTTP/1.0 client that stopped reading still holds the gateway 10 s later (client write timeout 200 ms)")
	}
}

func TestKeepAliveBothSides(t *testing.T) {
	var backendConns atomic.Int32
	be := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "ok")
	}))
	be.Config.ConnState = func(c net.Conn, s http.ConnState) {
		if s == http.StateNew {
			backendConns.Add(1)
		}
	}
	be.Start()
	defer be.Close()
	gw := startGateway(t, petstore(be.URL, 0), Options{})

	client := &http.Client{Transport: &http.Transport{}}
	defer client.CloseIdleConnections()
	reused := 0
	for range 20 {
		req := newReq(t, "GET", gw.url+"/petstore/v1/pet/1", nil)
		req = req.WithContext(httptrace.WithClientTrace(req.Context(), &httptrace.ClientTrace{
			GotConn: func(i httptrace.GotConnInfo) {
				if i.Reused {
					reused++
				}
			},
		}))
		if resp, body := get(t, client, req); resp.StatusCode != 200 {
			t.Fatalf("%d %s", resp.StatusCode, body)
		}
	}
	if reused != 19 {
		t.Errorf("client connection reused %d times in 20 sequential requests, want 19", reused)
	}
	if n := backendConns.Load(); n != 1 {
		t.Errorf("gateway opened %d backend connections for 20 sequential requests, want 1", n)
	}
}

func TestBindingSwitch(t *testing.T) {
	answer := func(name string) *httptest.Server {
		s := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, name+" "+r.URL.Path)
		}))
		t.Cleanup(s.Close)
		return s
	}
	a, b := answer("a"), answer("b")
	gw := startGateway(t, petstore(a.URL, 0), Options{})
	binding := gw.bindings[a.URL+"/v2"]
	want := func(body string) {
		t.Helper()
		if _, got := get(t, nil, newReq(t, "GET", gw.url+"/petstore/v1/pet/1", nil)); got != body {
			t.Fatalf("got %q, want %q", got, body)
		}
	}
	want("a /v2/pet/1")
	tg, err := endpoint.Parse(b.URL + "/v3")
	if err != nil {
		t.Fatal(err)
	}
	binding.Store(tg)
	want("b /v3/pet/1")
	tg, _ = endpoint.Parse(a.URL + "/v4")
	binding.Store(tg)
	want("a /v4/pet/1")
}

func TestChunkedBothWays(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, err := io.ReadAll(r.Body)
		if err != nil {
			http.Error(w, err.Error(), 500)
			return
		}
		fmt.Fprintf(w, "te=%v len=%d;", r.TransferEncoding, len(b))
		for i := range 3 {
			w.(http.Flusher).Flush()
			fmt.Fprintf(w, "part%d;", i)
		}
	}))
	defer be.Close()
	gw := startGateway(t, petstore(be.URL, 0), Options{})
	body := io.MultiReader(strings.NewReader(strings.Repeat("x", 100000)), strings.NewReader("y"))
	req := newReq(t, "POST", gw.url+"/petstore/v1/pet", io.NopCloser(body)) // unknown length: sent chunked
	resp, got := get(t, nil, req)
	if want := "te=[chunked] len=100001;part0;part1;part2;"; got != want {
		t.Fatalf("got %q, want %q", got, want)
	}
	if len(resp.TransferEncoding) != 1 || resp.TransferEncoding[0] != "chunked" {
		t.Fatalf("response Transfer-Encoding %v, want chunked", resp.TransferEncoding)
	}
}

// pattern is an endless deterministic byte source.
type pattern struct{ n int64 }

func (p *pattern) Read(b []byte) (int, error) {
	for i := range b {
		b[i] = byte(p.n*7 + p.n>>9)
		p.n++
	}
	return len(b), nil
}

// heapWatch samples HeapInuse until stopped and returns the peak.
func heapWatch() (stop func() uint64) {
	var peak atomic.Uint64
	done := make(chan struct{})
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		var ms runtime.MemStats
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&ms)
			if ms.HeapInuse > peak.Load() {
				peak.Store(ms.HeapInuse)
			}
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 { close(done); wg.Wait(); return peak.Load() }
}

func TestStreamingBoundedMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("moves 512 MB")
	}
	const size = 256 << 20
	const limit = 64 << 20 // far below size: nothing may hold a body
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == "POST" {
			h := crc32.NewIEEE()
			n, err := io.Copy(h, r.Body)
			fmt.Fprintf(w, "%d %08x %v", n, h.Sum32(), err)
			return
		}
		w.Header().Set("Content-Length", fmt.Sprint(size))
		io.Copy(w, io.LimitReader(&pattern{}, size))
	}))
	defer be.Close()
	gw := startGateway(t, petstore(be.URL, 0), Options{})
	runtime.GC()

	stop := heapWatch()
	want := crc32.NewIEEE()
	io.Copy(want, io.LimitReader(&pattern{}, size))
	req := newReq(t, "POST", gw.url+"/petstore/v1/pet", io.LimitReader(&pattern{}, size))
	req.ContentLength = size
	_, got := get(t, nil, req)
	if w := fmt.Sprintf("%d %08x <nil>", size, want.Sum32()); got != w {
		t.Errorf("upload: backend got %q, want %q", got, w)
	}

	resp, err := http.Get(gw.url + "/petstore/v1/pet/1")
	if err != nil {
		t.Fatal(err)
	}
	h := crc32.NewIEEE()
	n, err := io.Copy(h, resp.Body)
	resp.Body.Close()
	if err != nil || n != size || h.Sum32() != want.Sum32() {
		t.Errorf("download: %d bytes crc %08x err %v, want %d bytes crc %08x", n, h.Sum32(), err, size, want.Sum32())
	}
	if peak := stop(); peak > limit {
		t.Errorf("heap in use peaked at %d MB while streaming %d MB each way, want under %d MB", peak>>20, size>>20, limit>>20)
	}
}

func TestNoEndpoint(t *testing.T) {
	g := &spec.Gateway{APIs: []spec.API{{Title: "t", BasePath: "/", Resources: []spec.Resource{{Path: "/x", Method: "GET"}}}}}
	gw := startGateway(t, g, Options{})
	resp, body := get(t, nil, newReq(t, "GET", gw.url+"/x", nil))
	if resp.StatusCode != 503 || body != string(fault.NoEndpoint.Body) {
		t.Fatalf("got %d %q", resp.StatusCode, body)
	}
}

func TestNewErrors(t *testing.T) {
	bad := &spec.Gateway{APIs: []spec.API{{Title: "t", File: "t.yaml", BasePath: "/",
		Production: &spec.Endpoints{URLs: []spec.EndpointURL{{URL: "ftp://x"}}},
		Resources:  []spec.Resource{{Path: "/x", Method: "GET"}}}}}
	if _, err := New(bad, staticBind, Options{}); err == nil || !strings.Contains(err.Error(), "t.yaml") || !strings.Contains(err.Error(), "ftp://x") {
		t.Errorf("bad URL: error %v, want it to name the file and the URL", err)
	}
	dup := petstore("http://127.0.0.1:1", 0)
	dup.APIs[0].Resources = append(dup.APIs[0].Resources, spec.Resource{Path: "/pet/{id}", Method: "GET"})
	if _, err := New(dup, staticBind, Options{}); err == nil || !strings.Contains(err.Error(), "duplicates") {
		t.Errorf("duplicate route: error %v", err)
	}
}

var _ = errors.New

// TestStalledClientIsDisconnected: a client that sends half a request and
// then nothing is cut off after the client read timeout, instead of holding
// its connection forever.
func TestStalledClientIsDisconnected(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.Copy(io.Discard, r.Body) }))
	defer be.Close()
	gw := startGateway(t, petstore(be.URL, 0), Options{ClientReadTimeout: 200 * time.Millisecond})
	for _, partial := range []string{
		"GET /petstore/v1/pet/1 HTTP/1.1\r\nHost: x\r\n",                                    // headers never end
		"POST /petstore/v1/pet HTTP/1.1\r\nHost: x\r\nContent-Length: 100000\r\n\r\n{\"a\"", // body never ends
	} {
		c, err := net.Dial("tcp", strings.TrimPrefix(gw.url, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(c, partial); err != nil {
			t.Fatal(err)
		}
		c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, err = io.Copy(io.Discard, c) // returns when the gateway closes the connection
		c.Close()
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Errorf("%q: the gateway still holds the connection after 10 s", partial)
		}
	}
}
