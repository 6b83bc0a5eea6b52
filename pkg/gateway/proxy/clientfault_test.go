package proxy

import (
	"bufio"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// logRecorder is a slog.Handler keeping every record, for tests that count
// log lines.
type logRecorder struct {
	mu      sync.Mutex
	records []slog.Record
	// logged, when set, gets each record's message (without blocking).
	logged chan string
}

func (l *logRecorder) Enabled(context.Context, slog.Level) bool { return true }
func (l *logRecorder) WithAttrs([]slog.Attr) slog.Handler       { return l }
func (l *logRecorder) WithGroup(string) slog.Handler            { return l }
func (l *logRecorder) Handle(_ context.Context, r slog.Record) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.records = append(l.records, r.Clone())
	if l.logged != nil {
		select {
		case l.logged <- r.Message:
		default:
		}
	}
	return nil
}

// count returns how many records have level and message msg.
func (l *logRecorder) count(level slog.Level, msg string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, r := range l.records {
		if r.Level == level && r.Message == msg {
			n++
		}
	}
	return n
}

// atLeast returns how many records have at least level.
func (l *logRecorder) atLeast(level slog.Level) []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	var msgs []string
	for _, r := range l.records {
		if r.Level >= level {
			msgs = append(msgs, r.Message)
		}
	}
	return msgs
}

// badBodies are requests whose body the client gets wrong: each must be
// answered 400 without blaming the backend. The path is filled in.
var badBodies = []struct {
	name, head, body string
}{
	{"chunk size zz", "Transfer-Encoding: chunked", "zz\r\n\r\n"},
	{"chunk size -5", "Transfer-Encoding: chunked", "-5\r\nhello\r\n0\r\n\r\n"},
	{"chunk size 0x5", "Transfer-Encoding: chunked", "0x5\r\nhello\r\n0\r\n\r\n"},
	{"chunk lines ending in LF only", "Transfer-Encoding: chunked", "5\nhello\n0\n\n"},
	{"chunk without its CRLF", "Transfer-Encoding: chunked", "5\r\nhelloXX0\r\n\r\n"},
	{"forbidden trailer", "Transfer-Encoding: chunked", "5\r\nhello\r\n0\r\nContent-Length: 5\r\n\r\n"},
}

// sendBadBody sends one request with a malformed body to addr and returns
// the gateway's answer.
func sendBadBody(t *testing.T, addr, path, head, body string) string {
	t.Helper()
	return rawRoundTrip(t, addr, "POST "+path+" HTTP/1.1\r\nHost: x\r\n"+head+"\r\n\r\n"+body)
}

// TestMalformedBodyNeverOpensBreakerOrFailsOver sends each malformed body
// several times through a failover list with a circuit breaker: each gets
// 400, the breaker stays closed, and good requests keep going to the
// healthy first URL. No warning is logged.
func TestMalformedBodyNeverOpensBreakerOrFailsOver(t *testing.T) {
	a, b := startBackend(t, "a", nil), startBackend(t, "b", nil)
	logs := &logRecorder{}
	adv := breakerConfig(3, 0.5, 60000, 500)
	gw := startGateway(t, listAPI(spec.TypeFailover, adv, a.URL(), b.URL()), Options{Logger: slog.New(logs)})
	for _, tt := range badBodies {
		t.Run(tt.name, func(t *testing.T) {
			for range 5 {
				resp := sendBadBody(t, gw.url, "/api/item", tt.head, tt.body)
				if !strings.HasPrefix(resp, "HTTP/1.1 400 ") || !strings.HasSuffix(withoutID(resp), string(fault.BadBody.Body)) {
					t.Fatalf("got %q, want 400 with the bad-body fault", resp)
				}
			}
			if status, body := call(t, "GET", gw.url+"/api/item", nil); status != 200 || body != "a 0" {
				t.Fatalf("after 5 malformed bodies: got %d %q, want the first URL's 200 (breaker closed, no failover)", status, body)
			}
		})
	}
	if w := logs.atLeast(slog.LevelWarn); len(w) > 0 {
		t.Errorf("malformed bodies logged warnings: %q", w)
	}
	if b.hits.Load() != 0 {
		t.Errorf("the second URL got %d requests: a client's bad body moved traffic off the first", b.hits.Load())
	}
}

// TestTwentyBadChunkedPostsKeepBreakerClosed is the reproduction:
// 20 POSTs with a malformed chunk size to a route with a circuit breaker,
// then a good request, which must reach the backend.
func TestTwentyBadChunkedPostsKeepBreakerClosed(t *testing.T) {
	be := startBackend(t, "be", nil)
	gw := startGateway(t, listAPI(spec.TypeHTTP, breakerConfig(5, 0.5, 60000), be.URL()), Options{})
	for i := range 20 {
		if resp := sendBadBody(t, gw.url, "/api/item", "Transfer-Encoding: chunked", "zz\r\n\r\n"); !strings.HasPrefix(resp, "HTTP/1.1 400 ") {
			t.Fatalf("bad POST %d: got %q, want 400", i+1, resp)
		}
	}
	if status, body := call(t, "POST", gw.url+"/api/item", strings.NewReader("good")); status != 200 || body != "be 4" {
		t.Fatalf("good POST after 20 bad ones: got %d %q, want the backend's 200", status, body)
	}
}

// TestMalformedBodyOnPlainPathIs400 covers the plain path (one URL, no
// policy): a malformed body is the client's 400, not the backend's 502.
func TestMalformedBodyOnPlainPathIs400(t *testing.T) {
	be := echo(t)
	logs := &logRecorder{}
	gw := startGateway(t, petstore(be.URL, 0), Options{Logger: slog.New(logs)})
	for _, tt := range badBodies {
		resp := sendBadBody(t, gw.url, "/petstore/v1/pet", tt.head, tt.body)
		if !strings.HasPrefix(resp, "HTTP/1.1 400 ") || !strings.HasSuffix(withoutID(resp), string(fault.BadBody.Body)) {
			t.Errorf("%s: got %q, want 400 with the bad-body fault", tt.name, resp)
		}
	}
	if w := logs.atLeast(slog.LevelWarn); len(w) > 0 {
		t.Errorf("malformed bodies logged warnings: %q", w)
	}
}

// abortUpload announces a body of 1 MB, sends 64 KB of it, shuts its
// sending side and returns what the gateway answers, if anything.
func abortUpload(t *testing.T, addr, path string) string {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(addr, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	head := "POST " + path + " HTTP/1.1\r\nHost: x\r\nContent-Length: 1000000\r\n\r\n"
	if _, err := io.WriteString(c, head+strings.Repeat("x", 64<<10)); err != nil {
		t.Fatal(err)
	}
	c.(*net.TCPConn).CloseWrite()
	b, _ := io.ReadAll(c) // a reset is an acceptable end too
	return string(b)
}

// TestAbortedUploadIsTheClientsFault: a client that stops sending after
// 64 KB of a 1 MB body gets 400 (or nothing), and neither the breaker nor
// the failover order counts it against the backend.
func TestAbortedUploadIsTheClientsFault(t *testing.T) {
	a, b := startBackend(t, "a", nil), startBackend(t, "b", nil)
	logs := &logRecorder{}
	gw := startGateway(t, listAPI(spec.TypeFailover, breakerConfig(3, 0.5, 60000), a.URL(), b.URL()), Options{Logger: slog.New(logs)})
	for range 5 {
		if resp := abortUpload(t, gw.url, "/api/item"); resp != "" && !strings.HasPrefix(resp, "HTTP/1.1 400 ") {
			t.Fatalf("aborted upload: got %q, want 400 or a closed connection", resp)
		}
	}
	if status, body := call(t, "GET", gw.url+"/api/item", nil); status != 200 || body != "a 0" {
		t.Fatalf("after 5 aborted uploads: got %d %q, want the first URL's 200", status, body)
	}
	plain := startGateway(t, petstore(a.URL(), 0), Options{Logger: slog.New(logs)})
	if resp := abortUpload(t, plain.url, "/petstore/v1/pet"); resp != "" && !strings.HasPrefix(resp, "HTTP/1.1 400 ") {
		t.Fatalf("aborted upload on the plain path: got %q, want 400 or a closed connection", resp)
	}
	if w := logs.atLeast(slog.LevelWarn); len(w) > 0 {
		t.Errorf("aborted uploads logged warnings: %q", w)
	}
}

// TestConnectionListingFramingHeaders: a client naming Content-Length or
// Transfer-Encoding in Connection must not strip the body's framing: the
// body reaches the backend whole.
func TestConnectionListingFramingHeaders(t *testing.T) {
	var got sync.Map
	be := rawBackend(t, func(c *net.TCPConn, r *bufio.Reader) {
		req, err := http.ReadRequest(r)
		if err != nil {
			return
		}
		b, err := io.ReadAll(req.Body)
		got.Store(req.Header.Get("X-Case"), string(b)+" "+errString(err))
		io.WriteString(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: Content-Length, close\r\n\r\nok")
	})
	gw := startGateway(t, petstore(be, 0), Options{})
	for _, tt := range []struct{ name, head, body string }{
		{"content-length", "Content-Length: 5\r\nConnection: Content-Length, close", "hello"},
		{"transfer-encoding", "Transfer-Encoding: chunked\r\nConnection: close, Transfer-Encoding", "5\r\nhello\r\n0\r\n\r\n"},
	} {
		resp := rawRoundTrip(t, gw.url, "POST /petstore/v1/pet HTTP/1.1\r\nHost: x\r\nX-Case: "+tt.name+"\r\n"+tt.head+"\r\n\r\n"+tt.body)
		if !strings.HasPrefix(resp, "HTTP/1.1 200 ") || !strings.HasSuffix(resp, "\r\n\r\nok") {
			t.Errorf("%s: got %q, want the backend's 200", tt.name, resp)
		}
		if v, _ := got.Load(tt.name); v != "hello <nil>" {
			t.Errorf("%s: backend read body %q, want \"hello <nil>\"", tt.name, v)
		}
	}
}

func errString(err error) string {
	if err == nil {
		return "<nil>"
	}
	return err.Error()
}

// TestBadBodyGivesBackBreakerTrial: when the half-open breaker's one trial
// request turns out to carry a malformed body, the trial is given back, so
// the next request tries the backend instead of the breaker staying
// half-open (503) for good.
func TestBadBodyGivesBackBreakerTrial(t *testing.T) {
	var failing atomic.Bool
	failing.Store(true)
	be := startBackend(t, "be", func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		if failing.Load() {
			w.WriteHeader(500)
			return
		}
		io.WriteString(w, "ok")
	})
	gw := startGateway(t, listAPI(spec.TypeHTTP, breakerConfig(3, 0.5, 100, 500), be.URL()), Options{})
	url := gw.url + "/api/item"
	for range 3 {
		if status, _ := call(t, "GET", url, nil); status != 500 {
			t.Fatalf("closed breaker: got %d, want the backend's 500", status)
		}
	}
	failing.Store(false)
	// Once the reset time is over, the bad body is let through as the
	// trial: it gets 400 instead of the open breaker's 503.
	deadline := time.Now().Add(wait)
	for {
		resp := sendBadBody(t, gw.url, "/api/item", "Transfer-Encoding: chunked", "zz\r\n\r\n")
		if strings.HasPrefix(resp, "HTTP/1.1 400 ") {
			break
		}
		if !strings.HasPrefix(resp, "HTTP/1.1 503 ") || time.Now().After(deadline) {
			t.Fatalf("bad body to an open breaker: got %q, want 503 until the reset time, then 400", resp)
		}
		time.Sleep(20 * time.Millisecond)
	}
	if status, body := call(t, "GET", url, nil); status != 200 || body != "ok" {
		t.Fatalf("after the bad trial: got %d %q, want the next request to be the trial, answered 200", status, body)
	}
}

// lastAttr returns the value of attribute key in the last record with
// message msg, as a string.
func (l *logRecorder) lastAttr(msg, key string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	for i := len(l.records) - 1; i >= 0; i-- {
		if l.records[i].Message != msg {
			continue
		}
		v := ""
		l.records[i].Attrs(func(a slog.Attr) bool {
			if a.Key == key {
				v = a.Value.String()
				return false
			}
			return true
		})
		return v
	}
	return ""
}

// slowUpload sends a POST whose 200 KB body takes about d to arrive, in
// ten pieces, and returns the gateway's answer. The body is larger than
// maxReplayBody, so it streams to the backend while it arrives.
func slowUpload(t *testing.T, addr, path string, d time.Duration) string {
	t.Helper()
	c, err := net.Dial("tcp", strings.TrimPrefix(addr, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(10 * time.Second))
	const pieces, size = 10, 20 << 10
	if _, err := io.WriteString(c, "POST "+path+" HTTP/1.1\r\nHost: x\r\nContent-Length: "+itoa(pieces*size)+"\r\n\r\n"); err != nil {
		t.Fatal(err)
	}
	piece := strings.Repeat("x", size)
	for range pieces {
		time.Sleep(d / pieces) // the client's pace, not a wait on the gateway
		if _, err := io.WriteString(c, piece); err != nil {
			break // the gateway answered and closed: read its answer
		}
	}
	line, _ := bufio.NewReader(c).ReadString('\n')
	return line
}

// TestSlowUploadPastBackendTimeoutIsTheClientsFault: a client whose body
// takes longer to arrive than the endpoint's timeout gets 408; the breaker
// does not count it, the failover list keeps its first URL, and no backend
// warning is logged. Before, the gateway answered 504 and blamed the
// backend, so two slow uploads opened the breaker for every client.
func TestSlowUploadPastBackendTimeoutIsTheClientsFault(t *testing.T) {
	a, b := startBackend(t, "a", nil), startBackend(t, "b", nil)
	logs := &logRecorder{}
	adv := breakerConfig(2, 0.5, 60000)
	adv.TimeoutMillis = 300
	gw := startGateway(t, listAPI(spec.TypeFailover, adv, a.URL(), b.URL()), Options{Logger: slog.New(logs)})
	for range 3 {
		if resp := slowUpload(t, gw.url, "/api/item", 900*time.Millisecond); !strings.HasPrefix(resp, "HTTP/1.1 408 ") {
			t.Fatalf("upload slower than the backend timeout: got %.120q, want 408", resp)
		}
	}
	if status, body := call(t, "GET", gw.url+"/api/item", nil); status != 200 || body != "a 0" {
		t.Fatalf("after 3 slow uploads: got %d %q, want the first URL's 200 (breaker closed, no failover)", status, body)
	}
	if b.hits.Load() != 0 {
		t.Errorf("the second URL got %d requests: a slow client moved traffic off the first", b.hits.Load())
	}

	plain := startGateway(t, petstore(a.URL(), 300), Options{Logger: slog.New(logs)})
	if resp := slowUpload(t, plain.url, "/petstore/v1/pet", 900*time.Millisecond); !strings.HasPrefix(resp, "HTTP/1.1 408 ") {
		t.Fatalf("slow upload on the plain path: got %.120q, want 408", resp)
	}
	if w := logs.atLeast(slog.LevelWarn); len(w) > 0 {
		t.Errorf("slow uploads logged warnings: %q", w)
	}
}
