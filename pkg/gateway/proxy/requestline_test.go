package proxy

import (
	"bufio"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// uriRecorder is a backend that records the request-target and headers of
// every request it gets, as received, and answers 200 "ok".
type uriRecorder struct {
	mu      sync.Mutex
	uris    []string
	headers []http.Header
}

func recordURIs(t *testing.T) (*uriRecorder, string) {
	rec := &uriRecorder{}
	url := rawBackend(t, func(c *net.TCPConn, r *bufio.Reader) {
		for {
			req, err := http.ReadRequest(r)
			if err != nil {
				return
			}
			io.Copy(io.Discard, req.Body)
			rec.mu.Lock()
			rec.uris = append(rec.uris, req.RequestURI)
			rec.headers = append(rec.headers, req.Header.Clone())
			rec.mu.Unlock()
			io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	return rec, url
}

// last returns the last request-target and header received, if any.
func (r *uriRecorder) last() (string, http.Header) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if len(r.uris) == 0 {
		return "", nil
	}
	return r.uris[len(r.uris)-1], r.headers[len(r.headers)-1]
}

func (r *uriRecorder) count() int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return len(r.uris)
}

// rawGet sends GET path over a new connection and returns the answer.
func rawGet(t *testing.T, addr, path string) string {
	t.Helper()
	return rawRoundTrip(t, addr, "GET "+path+" HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
}

// TestEncodedSlashCannotEscapeBasePath is the reproduction: an
// encoded slash turns one parameter segment into "../../admin" for a
// backend that decodes it. It is refused before any backend sees it, as
// are an encoded backslash, an encoded NUL and a malformed escape.
func TestEncodedSlashCannotEscapeBasePath(t *testing.T) {
	rec, be := recordURIs(t)
	gw := startGateway(t, petstore(be, 0), Options{})
	for _, tt := range []struct {
		path string
		want *fault.Fault
	}{
		{"/petstore/v1/pet/1%2F..%2F..%2F..%2Fadmin", fault.EncodedSlash},
		{"/petstore/v1/pet/1%2f..%2f..%2fadmin", fault.EncodedSlash},
		{"/petstore/v1/pet/1%5C..%5C..%5Cadmin", fault.EncodedSlash},
		{"/petstore/v1/pet/1%5c..", fault.EncodedSlash},
		{"/petstore/v1%2Fpet/1", fault.EncodedSlash},
		{"/petstore/v1/pet/1%00", fault.BadPath},
		{"/petstore/v1/pet/1%", fault.BadPath},
		{"/petstore/v1/pet/1%zz", fault.BadPath},
	} {
		resp := rawGet(t, gw.url, tt.path)
		if !strings.HasPrefix(resp, "HTTP/1.1 400 ") || !strings.HasSuffix(withoutID(resp), string(tt.want.Body)) {
			t.Errorf("%s: got %q, want 400 %s", tt.path, resp, tt.want.Body)
		}
	}
	if n := rec.count(); n != 0 {
		uri, _ := rec.last()
		t.Errorf("the backend got %d refused requests, the last %q", n, uri)
	}
}

// TestKeepEscapedSlashesForwardsThem: with --escaped-slashes=keep an
// encoded slash is forwarded as received; an encoded NUL is still refused.
func TestKeepEscapedSlashesForwardsThem(t *testing.T) {
	rec, be := recordURIs(t)
	gw := startGateway(t, petstore(be, 0), Options{KeepEscapedSlashes: true})
	for _, path := range []string{"/pet/1%2F..%2F..%2F..%2Fadmin", "/pet/a%2fb%5Cc"} {
		if resp := rawGet(t, gw.url, "/petstore/v1"+path); !strings.HasSuffix(resp, "\r\n\r\nok") {
			t.Fatalf("%s with keep: got %q, want the backend's answer", path, resp)
		}
		if uri, _ := rec.last(); uri != "/v2"+path {
			t.Errorf("%s with keep: backend got %q, want %q", path, uri, "/v2"+path)
		}
	}
	if resp := rawGet(t, gw.url, "/petstore/v1/pet/1%00"); !strings.HasPrefix(resp, "HTTP/1.1 400 ") {
		t.Errorf("%%00 with keep: got %q, want 400", resp)
	}
}

// TestRawBackslashCannotEscapeBasePath: a backslash written plainly in the
// path is what %5C decodes to, and a backend that reads it as a slash
// (as Windows servers do) serves `1\..\..\admin` as /admin. It is refused
// as %5C is, unless --escaped-slashes=keep, which forwards it as received.
func TestRawBackslashCannotEscapeBasePath(t *testing.T) {
	rec, be := recordURIs(t)
	gw := startGateway(t, petstore(be, 0), Options{})
	for _, path := range []string{`/petstore/v1/pet/1\..\..\admin`, `/petstore/v1/pet/a\b`, `/petstore/v1\pet/1`} {
		resp := rawGet(t, gw.url, path)
		if !strings.HasPrefix(resp, "HTTP/1.1 400 ") || !strings.HasSuffix(withoutID(resp), string(fault.Backslash.Body)) {
			t.Errorf("%s: got %q, want 400 %s", path, resp, fault.Backslash.Body)
		}
	}
	if n := rec.count(); n != 0 {
		uri, _ := rec.last()
		t.Errorf("the backend got %d refused requests, the last %q", n, uri)
	}
	keep := startGateway(t, petstore(be, 0), Options{KeepEscapedSlashes: true})
	if resp := rawGet(t, keep.url, `/petstore/v1/pet/a\b`); !strings.HasSuffix(resp, "\r\n\r\nok") {
		t.Fatalf("backslash with keep: got %q, want the backend's answer", resp)
	}
	if uri, _ := rec.last(); uri != `/v2/pet/a\b` {
		t.Errorf("backslash with keep: backend got %q, want it as received", uri)
	}
}

// TestEscapedPathsReachDeclaredTemplates: a request that escapes what a
// template writes plainly (non-ASCII, reserved characters) reaches it;
// escapes of unreserved characters are decoded in the forwarded path, and
// the others are forwarded as received.
func TestEscapedPathsReachDeclaredTemplates(t *testing.T) {
	rec, be := recordURIs(t)
	g := petstore(be, 0)
	g.APIs[0].Resources = append(g.APIs[0].Resources,
		spec.Resource{Path: "/café", Method: "GET"},
		spec.Resource{Path: "/a:b", Method: "GET"},
		spec.Resource{Path: "/files/{name}.json", Method: "GET"})
	gw := startGateway(t, g, Options{})
	for _, tt := range []struct{ path, want string }{
		{"/petstore/v1/caf%C3%A9", "/v2/caf%C3%A9"},
		{"/petstore/v1/caf%c3%a9?x=%2F", "/v2/caf%c3%a9?x=%2F"},
		{"/petstore/v1/café", "/v2/café"},
		{"/petstore/v1/a%3Ab", "/v2/a%3Ab"},
		{"/petstore/v1/a:b", "/v2/a:b"},
		{"/petstore/v1/pet/%31%7e%2D%5f%2E", "/v2/pet/1~-_."},
		{"/petstore/v1/pet/a%20b%3F", "/v2/pet/a%20b%3F"},
		{"/petstore/v1/files/r%2Ejson", "/v2/files/r.json"},
		{"/petstore/v%31/pet/1", "/v2/pet/1"},
		{"/%70etstore/v1/", "/v2/"},
	} {
		resp := rawGet(t, gw.url, tt.path)
		if !strings.HasSuffix(resp, "\r\n\r\nok") {
			t.Errorf("%s: got %q, want the backend's answer", tt.path, resp)
			continue
		}
		if uri, _ := rec.last(); uri != tt.want {
			t.Errorf("%s: backend got %q, want %q", tt.path, uri, tt.want)
		}
	}
	// An escaped dot segment is still no parameter value.
	if resp := rawGet(t, gw.url, "/petstore/v1/pet/%2e%2E"); !strings.HasPrefix(resp, "HTTP/1.1 404 ") {
		t.Errorf("escaped dot segment: got %q, want 404", resp)
	}
}

// TestHTTPVersionNotSupported: a request line with a version other than
// HTTP/1.x gets 505 instead of being served as HTTP/1.0.
func TestHTTPVersionNotSupported(t *testing.T) {
	rec, be := recordURIs(t)
	gw := startGateway(t, petstore(be, 0), Options{})
	for _, proto := range []string{"HTTP/9.9", "HTTP/2.0", "HTTP/0.9", "HTTP/3.1"} {
		resp := rawRoundTrip(t, gw.url, "GET /petstore/v1/pet/1 "+proto+"\r\nHost: x\r\n\r\n")
		if !strings.HasPrefix(resp, "HTTP/1.1 505 ") || !strings.HasSuffix(withoutID(resp), string(fault.VersionNotSupported.Body)) {
			t.Errorf("%s: got %q, want 505", proto, resp)
		}
	}
	if n := rec.count(); n != 0 {
		t.Errorf("the backend got %d requests of unsupported versions", n)
	}
	for _, proto := range []string{"HTTP/1.0", "HTTP/1.1", "HTTP/1.2"} {
		resp := rawRoundTrip(t, gw.url, "GET /petstore/v1/pet/1 "+proto+"\r\nHost: x\r\nConnection: close\r\n\r\n")
		if !strings.HasPrefix(resp, "HTTP/1.1 200 ") {
			t.Errorf("%s: got %q, want 200", proto, resp)
		}
	}
}

// TestHeaderNameWithSpaceIsRefused: "Foo Bar: y" is not a header field;
// forwarding it would hand the backend a header the client did not send
// under that name.
func TestHeaderNameWithSpaceIsRefused(t *testing.T) {
	rec, be := recordURIs(t)
	gw := startGateway(t, petstore(be, 0), Options{})
	for _, h := range []string{"Foo Bar: y", "X-Forwarded For: 10.0.0.1", "Foo\tBar: y"} {
		resp := rawRoundTrip(t, gw.url, "GET /petstore/v1/pet/1 HTTP/1.1\r\nHost: x\r\n"+h+"\r\nConnection: close\r\n\r\n")
		if !strings.HasPrefix(resp, "HTTP/1.1 400 ") {
			t.Errorf("%q: got %q, want 400", h, resp)
		}
	}
	if n := rec.count(); n != 0 {
		_, hdr := rec.last()
		t.Errorf("the backend got %d requests with a bad header name, the last with %v", n, hdr)
	}
	// A space in a value is fine.
	if resp := rawRoundTrip(t, gw.url, "GET /petstore/v1/pet/1 HTTP/1.1\r\nHost: x\r\nFoo: a b\r\nConnection: close\r\n\r\n"); !strings.HasPrefix(resp, "HTTP/1.1 200 ") {
		t.Errorf("space in a value: got %q, want 200", resp)
	}
}

// TestClientForwardedHeaderIsRemoved: a client's Forwarded header would
// pass its own claims on to the backend; X-Forwarded-* say what the
// gateway saw.
func TestClientForwardedHeaderIsRemoved(t *testing.T) {
	rec, be := recordURIs(t)
	gw := startGateway(t, petstore(be, 0), Options{})
	for _, h := range []string{"Forwarded: for=10.0.0.1;host=admin.internal;proto=https", "forwarded: for=10.0.0.1"} {
		resp := rawRoundTrip(t, gw.url, "GET /petstore/v1/pet/1 HTTP/1.1\r\nHost: gw.example\r\n"+h+"\r\nConnection: close\r\n\r\n")
		if !strings.HasPrefix(resp, "HTTP/1.1 200 ") {
			t.Fatalf("%q: got %q", h, resp)
		}
		_, hdr := rec.last()
		if v, ok := hdr["Forwarded"]; ok {
			t.Errorf("%q: backend got Forwarded %q", h, v)
		}
		if hdr.Get("X-Forwarded-For") != "127.0.0.1" || hdr.Get("X-Forwarded-Host") != "gw.example" {
			t.Errorf("%q: X-Forwarded-* lost: %v", h, hdr)
		}
	}
}

// TestBareLFHeaderGetsImmediate400: a header block ended by a bare LF made
// fasthttp wait for a CRLF CRLF until the client read timeout (60 s), then
// answer 408. It gets 400 at once: rawRoundTrip gives up after 10 s, and
// the read timeout here is longer.
func TestBareLFHeaderGetsImmediate400(t *testing.T) {
	rec, be := recordURIs(t)
	gw := startGateway(t, petstore(be, 0), Options{ClientReadTimeout: time.Minute})
	for _, req := range []string{
		"GET /petstore/v1/pet/1 HTTP/1.1\nHost: x\n\n",
		"GET /petstore/v1/pet/1 HTTP/1.1\r\nHost: x\r\n\n",
		"GET /petstore/v1/pet/1 HTTP/1.1\nHost: x\n\r\n",
		"GET /petstore/v1/pet/1 HTTP/1.1\r\nHost: x\r\nX-A: 1\n\r\n",
		"GET /petstore/v1/pet/1 HTTP/1.0\n\n",
		"\nGET /petstore/v1/pet/1 HTTP/1.1\nHost: x\n\n",
		"POST /petstore/v1/pet HTTP/1.1\nHost: x\nContent-Length: 5\n\nhello",
	} {
		start := time.Now()
		resp := rawRoundTrip(t, gw.url, req)
		if !strings.HasPrefix(resp, "HTTP/1.1 400 ") || !strings.HasSuffix(withoutID(resp), string(fault.BareLineFeed.Body)) {
			t.Errorf("%q: got %q after %v, want 400 at once", req, resp, time.Since(start))
		}
	}
	if n := rec.count(); n != 0 {
		t.Errorf("the backend got %d bare-LF requests", n)
	}
}

// TestBareLFCheckSparesValidRequests: requests fasthttp accepts (a header
// line ending in LF inside a CRLF-terminated block, empty lines before the
// request line, bodies full of LFs, keep-alive and pipelined requests)
// are served, and a bare-LF request after good ones on the same
// connection still gets 400 at once.
func TestBareLFCheckSparesValidRequests(t *testing.T) {
	rec, be := recordURIs(t)
	gw := startGateway(t, petstore(be, 0), Options{ClientReadTimeout: time.Minute})
	c, err := net.Dial("tcp", strings.TrimPrefix(gw.url, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	r := bufio.NewReader(c)
	exchange := func(req string, wantStatus int) {
		t.Helper()
		if _, err := io.WriteString(c, req); err != nil {
			t.Fatal(err)
		}
		resp, err := http.ReadResponse(r, nil)
		if err != nil {
			t.Fatalf("%q: %v", req, err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != wantStatus {
			t.Fatalf("%q: got %d, want %d", req, resp.StatusCode, wantStatus)
		}
	}
	// Bodies larger than a read, so that the gateway reads them in pieces
	// after the header block.
	body := strings.Repeat("a\n\nb\r\n\n", 20000)
	exchange("GET /petstore/v1/pet/1 HTTP/1.1\r\nHost: x\nX-A: 1\r\n\r\n", 200)
	exchange("\r\nGET /petstore/v1/pet/1 HTTP/1.1\r\nHost: x\r\n\r\n", 200)
	exchange("POST /petstore/v1/pet HTTP/1.1\r\nHost: x\r\nContent-Length: "+itoa(int64(len(body)))+"\r\n\r\n"+body, 200)
	exchange("POST /petstore/v1/pet HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: chunked\r\n\r\n"+
		itoaHex(len(body))+"\r\n"+body+"\r\n0\r\n\r\n", 200)
	// Two pipelined requests in one write, the second with a body.
	if _, err := io.WriteString(c, "GET /petstore/v1/pet/1 HTTP/1.1\r\nHost: x\r\n\r\n"+
		"POST /petstore/v1/pet HTTP/1.1\r\nHost: x\r\nContent-Length: "+itoa(int64(len(body)))+"\r\n\r\n"+body); err != nil {
		t.Fatal(err)
	}
	for range 2 {
		resp, err := http.ReadResponse(r, nil)
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("pipelined: %v %v", resp, err)
		}
		io.Copy(io.Discard, resp.Body)
	}
	exchange("GET /petstore/v1/pet/1 HTTP/1.1\nHost: x\n\n", 400)
	if n := rec.count(); n != 6 {
		t.Errorf("backend got %d requests, want 6", n)
	}
}

func itoaHex(n int) string { return strings.ToUpper(strconv.FormatInt(int64(n), 16)) }

// TestForwardedRequestKeepsItsContentType: a request with a body and no
// Content-Type reaches the backend without one, as sent; fasthttp's client
// added "application/octet-stream", which tells a backend something the
// client never said. One that has a Content-Type keeps it.
func TestForwardedRequestKeepsItsContentType(t *testing.T) {
	rec, be := recordURIs(t)
	gw := startGateway(t, petstore(be, 0), Options{})
	for _, tt := range []struct{ head, want string }{
		{"", ""},
		{"Content-Type: text/csv\r\n", "text/csv"},
	} {
		resp := rawRoundTrip(t, gw.url, "POST /petstore/v1/pet HTTP/1.1\r\nHost: x\r\n"+tt.head+"Content-Length: 5\r\nConnection: close\r\n\r\nhello")
		if !strings.HasSuffix(resp, "\r\n\r\nok") {
			t.Fatalf("got %q, want the backend's answer", resp)
		}
		if _, h := rec.last(); h.Get("Content-Type") != tt.want || len(h.Values("Content-Type")) > 1 {
			t.Errorf("sent %q: backend got Content-Type %q, want %q", tt.head, h.Values("Content-Type"), tt.want)
		}
	}
}

// TestTransferEncodingOtherThanChunkedIsRefused: a request whose
// Transfer-Encoding does not end in chunked has no reliable length (RFC
// 9112 §6.3: 400, then close). fasthttp ignored "identity": it read the
// body by Content-Length, or took the request as bodyless and served the
// bytes after it as the next request, which a front proxy may have read as
// this one's body.
func TestTransferEncodingOtherThanChunkedIsRefused(t *testing.T) {
	rec, be := recordURIs(t)
	gw := startGateway(t, petstore(be, 0), Options{})
	for _, req := range []string{
		"POST /petstore/v1/pet HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\nContent-Length: 3\r\n\r\nabc",
		"POST /petstore/v1/pet HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: identity\r\n\r\nGET /petstore/v1/pet/smuggled HTTP/1.1\r\nHost: x\r\n\r\n",
		"POST /petstore/v1/pet HTTP/1.1\r\nHost: x\r\ntransfer-encoding: Identity\r\n\r\n",
	} {
		resp := rawRoundTrip(t, gw.url, req)
		if !strings.HasPrefix(resp, "HTTP/1.1 400 ") || strings.Count(resp, "HTTP/1.1 ") != 1 {
			t.Errorf("%q: got %q, want one 400 and the connection closed", req, resp)
		}
	}
	if n := rec.count(); n != 0 {
		uri, _ := rec.last()
		t.Errorf("the backend got %d refused requests, the last %q", n, uri)
	}
	// Chunked still works, in any case.
	resp := rawRoundTrip(t, gw.url, "POST /petstore/v1/pet HTTP/1.1\r\nHost: x\r\nTransfer-Encoding: Chunked\r\nConnection: close\r\n\r\n3\r\nabc\r\n0\r\n\r\n")
	if !strings.HasSuffix(resp, "\r\n\r\nok") {
		t.Errorf("chunked body: got %q, want the backend's answer", resp)
	}
}
