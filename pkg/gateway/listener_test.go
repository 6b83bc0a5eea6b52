package gateway

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	goruntime "runtime"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// childEnv, when set, makes the test binary run a gateway instead of the
// tests (see runChildGateway), so that a test can run it under a lower
// open-files limit than its own.
const childEnv = "MICROGW_TEST_CHILD_GATEWAY"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(runChildGateway())
	}
	os.Exit(m.Run())
}

// startWith starts a gateway with seams replaced and shuts it down at the
// end of the test.
func startWith(t *testing.T, g *spec.Gateway, cfg Config, sm seams) (*Server, *logBuffer) {
	t.Helper()
	logs := &logBuffer{}
	if sm.admin == (adminTimeouts{}) {
		sm.admin = defaultAdminTimeouts
	}
	gw, err := start(context.Background(), Program{Project: "petstore-project"}, g, cfg, slog.New(slog.NewTextHandler(logs, nil)), sm)
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

// scriptedListener returns the queued errors from Accept, one per call,
// before accepting for real.
type scriptedListener struct {
	net.Listener
	mu   sync.Mutex
	errs []error
}

func (s *scriptedListener) queue(errnos ...syscall.Errno) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, e := range errnos {
		// As net.TCPListener.Accept returns it.
		s.errs = append(s.errs, &net.OpError{Op: "accept", Net: "tcp", Addr: s.Addr(), Err: os.NewSyscallError("accept4", e)})
	}
}

func (s *scriptedListener) Accept() (net.Conn, error) {
	s.mu.Lock()
	if len(s.errs) > 0 {
		err := s.errs[0]
		s.errs = s.errs[1:]
		s.mu.Unlock()
		return nil, err
	}
	s.mu.Unlock()
	return s.Listener.Accept()
}

// waitUntil polls cond, an observable state, for up to 10 s.
func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after 10 s waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// get fetches url on a new connection, bounded by 10 s.
func get(url string) (int, string, error) {
	c := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{DisableKeepAlives: true, TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	resp, err := c.Get(url)
	if err != nil {
		return 0, "", err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), err
}

func okBackend(t *testing.T) *httptest.Server {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	t.Cleanup(be.Close)
	return be
}

// TestGatewayKeepsServingThroughAcceptErrors protects the public HTTP
// listener of a running gateway from stopping on EMFILE, ENFILE or
// ECONNABORTED (fasthttp's Serve returns on any of them): each request on a
// new connection is still served, and the admin /health stays healthy.
func TestGatewayKeepsServingThroughAcceptErrors(t *testing.T) {
	be := okBackend(t)
	var sl *scriptedListener
	cfg := testConfig(t)
	gw, logs := startWith(t, routesFor(be.URL), cfg, seams{wrap: func(name string, ln net.Listener) net.Listener {
		if name != "http" {
			return ln
		}
		sl = &scriptedListener{Listener: ln}
		sl.queue(syscall.EMFILE, syscall.EMFILE, syscall.ENFILE)
		return sl
	}})
	url := "http://" + gw.HTTPAddr.String() + "/petstore/v1/pet/1"
	for i := range 3 {
		if code, body, err := get(url); err != nil || code != 200 || body != "ok" {
			t.Fatalf("request %d: %d %q %v; want 200 ok", i, code, body, err)
		}
		// The server is back in Accept: the next calls fail first.
		sl.queue(syscall.EMFILE, syscall.ECONNABORTED)
	}
	if code, body, err := get("http://" + gw.AdminAddr.String() + "/health"); code != 200 || err != nil {
		t.Errorf("admin /health: %d %q %v, want 200", code, body, err)
	}
	if l := logs.String(); !strings.Contains(l, "too many open files") || !strings.Contains(l, "accepting connections again") || strings.Contains(l, "stopped for good") {
		t.Errorf("logs:\n%s", l)
	}
}

// TestGatewaySurvivesRealFileDescriptorExhaustion runs a gateway in a child
// process whose open-files limit is 128 (soft and hard, so Go cannot raise
// it), opens 200 connections to it, closes them, and checks that a new
// request is served:
//   - with --max-connections above what the limit allows, accept really
//     fails with "too many open files" and the listener backs off;
//   - with the derived default, the gateway never runs out: connections past
//     the bound are closed at once.
func TestGatewaySurvivesRealFileDescriptorExhaustion(t *testing.T) {
	if goruntime.GOOS == "windows" {
		t.Skip("no open-files limit on Windows")
	}
	if testing.Short() {
		t.Skip("starts child processes")
	}
	for _, tc := range []struct {
		name    string
		env     []string
		wantLog string
		notLog  string
	}{
		{name: "accept fails with EMFILE", env: []string{"MAX_CONNECTIONS=100000"}, wantLog: "too many open files"},
		{name: "derived max-connections", wantLog: "connection limit reached", notLog: "too many open files"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			child := startChildGateway(t, 128, tc.env...)
			child.waitLog(t, "max_connections=")
			var held []net.Conn
			for range 200 {
				c, err := net.DialTimeout("tcp", child.http, 10*time.Second)
				if err != nil {
					t.Fatal(err)
				}
				held = append(held, c)
			}
			child.waitLog(t, tc.wantLog)
			for _, c := range held {
				c.Close()
			}
			waitUntil(t, "the child's connections to close", func() bool {
				var st Status
				_, body, err := get("http://" + child.admin + "/status")
				return err == nil && json.Unmarshal([]byte(body), &st) == nil && st.Connections != nil && st.Connections.Open == 0
			})
			if code, body, err := get("http://" + child.http + "/health"); err != nil || code != 200 {
				t.Fatalf("request after the connections closed: %d %q %v; want 200", code, body, err)
			}
			if code, body, err := get("http://" + child.admin + "/health"); err != nil || code != 200 {
				t.Errorf("admin /health: %d %q %v; want 200", code, body, err)
			}
			logs := child.stop(t)
			if tc.notLog != "" && strings.Contains(logs, tc.notLog) {
				t.Errorf("the child logged %q:\n%s", tc.notLog, logs)
			}
			if strings.Contains(logs, "stopped for good") {
				t.Errorf("a listener stopped:\n%s", logs)
			}
			if testing.Verbose() {
				t.Log(logs)
			}
		})
	}
}

// childGateway is a gateway running in a child process.
type childGateway struct {
	cmd         *exec.Cmd
	stdin       io.Closer
	http, admin string
	lines       chan string   // stderr lines, while it runs
	logs        chan []string // every stderr line, once it exits
	seen        []string
}

// startChildGateway runs this test binary as a gateway (see TestMain) under
// an open-files limit of nofile, with env added to its environment (names
// the shell keeps: MAX_CONNECTIONS, not max-connections).
func startChildGateway(t *testing.T, nofile int, env ...string) *childGateway {
	t.Helper()
	cmd := exec.Command("sh", "-c", fmt.Sprintf(`ulimit -n %d && exec "$0"`, nofile), os.Args[0])
	cmd.Env = append(append(os.Environ(), childEnv+"=1"), env...)
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &childGateway{cmd: cmd, stdin: stdin, lines: make(chan string, 1000), logs: make(chan []string, 1)}
	go func() {
		var all []string
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			all = append(all, sc.Text())
			select {
			case c.lines <- sc.Text():
			default: // nobody waits for it; it is in all
			}
		}
		c.logs <- all
	}()
	t.Cleanup(func() {
		stdin.Close()
		cmd.Process.Kill()
		cmd.Wait()
	})
	addrs := make(chan []string, 1)
	go func() {
		line, _ := bufio.NewReader(stdout).ReadString('\n')
		addrs <- strings.Fields(line)
		io.Copy(io.Discard, stdout)
	}()
	select {
	case a := <-addrs:
		if len(a) != 2 {
			t.Fatalf("child gateway printed %q, want its HTTP and admin addresses", a)
		}
		c.http, c.admin = a[0], a[1]
	case <-time.After(30 * time.Second):
		t.Fatal("child gateway did not start in 30 s")
	}
	return c
}

// waitLog waits up to 20 s for a stderr line containing s.
func (c *childGateway) waitLog(t *testing.T, s string) {
	t.Helper()
	for _, l := range c.seen {
		if strings.Contains(l, s) {
			return
		}
	}
	deadline := time.After(20 * time.Second)
	for {
		select {
		case l := <-c.lines:
			c.seen = append(c.seen, l)
			if strings.Contains(l, s) {
				return
			}
		case <-deadline:
			t.Fatalf("the child gateway did not log %q in 20 s; so far:\n%s", s, strings.Join(c.seen, "\n"))
		}
	}
}

// stop ends the child (closing its stdin) and returns its whole log.
func (c *childGateway) stop(t *testing.T) string {
	t.Helper()
	c.stdin.Close()
	var logs []string
	select {
	case logs = <-c.logs:
	case <-time.After(30 * time.Second):
		t.Fatal("child gateway did not stop in 30 s")
	}
	if err := c.cmd.Wait(); err != nil {
		t.Errorf("child gateway: %v\n%s", err, strings.Join(logs, "\n"))
	}
	return strings.Join(logs, "\n")
}

// runChildGateway is the child of startChildGateway: a gateway on loopback
// with HTTP and admin listeners and the MAX_CONNECTIONS of its environment
// (no other variable, whatever the test's environment holds), that prints
// its two addresses and runs until its stdin closes.
func runChildGateway() int {
	lookup := func(k string) (string, bool) {
		if k != "MAX_CONNECTIONS" {
			return "", false
		}
		return os.LookupEnv(k)
	}
	cfg, err := ParseConfig(nil, nil, lookup, os.Stderr)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 2
	}
	cfg.HTTPAddr, cfg.HTTPSAddr, cfg.AdminAddr = "127.0.0.1:0", "", "127.0.0.1:0"
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	gw, err := Start(context.Background(), Program{Project: "child"}, routesFor("http://127.0.0.1:1"), cfg, log)
	if err != nil {
		log.Error("start", "error", err)
		return 1
	}
	fmt.Printf("%s %s\n", gw.HTTPAddr, gw.AdminAddr)
	io.Copy(io.Discard, os.Stdin)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := gw.Shutdown(ctx); err != nil {
		log.Error("shutdown", "error", err)
		return 1
	}
	return 0
}

// holdConn opens a keep-alive connection (TLS when tlsConf is set), makes
// one request on it and leaves it open.
func holdConn(t *testing.T, addr string, tlsConf *tls.Config) net.Conn {
	t.Helper()
	var c net.Conn
	var err error
	if tlsConf != nil {
		c, err = tls.Dial("tcp", addr, tlsConf)
	} else {
		c, err = net.Dial("tcp", addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	c.SetDeadline(time.Now().Add(10 * time.Second))
	io.WriteString(c, "GET /health HTTP/1.1\r\nHost: x\r\n\r\n")
	resp, err := http.ReadResponse(bufio.NewReader(c), nil)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 {
		t.Fatalf("held connection: status %d", resp.StatusCode)
	}
	return c
}

// TestMaxConnectionsBoundsHTTPAndHTTPSTogether protects the gateway's file
// descriptors: with --max-connections=5 and five connections held (four
// HTTP, one HTTPS), a sixth on either listener is closed at once; after one
// closes a new one is served; and the count returns to 0.
func TestMaxConnectionsBoundsHTTPAndHTTPSTogether(t *testing.T) {
	gw, logs := startWith(t, routesFor("http://127.0.0.1:1"), testConfig(t, "--max-connections=5"), seams{})
	httpAddr, httpsAddr := gw.HTTPAddr.String(), gw.HTTPSAddr.String()
	insecure := &tls.Config{InsecureSkipVerify: true}
	var held []net.Conn
	for range 4 {
		held = append(held, holdConn(t, httpAddr, nil))
	}
	held = append(held, holdConn(t, httpsAddr, insecure))
	if n := gw.conns.Open(); n != 5 {
		t.Fatalf("open connections %d, want 5", n)
	}

	c, err := net.Dial("tcp", httpAddr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if n, err := c.Read(make([]byte, 1)); err != io.EOF {
		t.Fatalf("sixth connection (HTTP): read %d, %v; want EOF at once", n, err)
	}
	d := &net.Dialer{Timeout: 10 * time.Second}
	if tc, err := tls.DialWithDialer(d, "tcp", httpsAddr, insecure); err == nil {
		tc.Close()
		t.Fatal("sixth connection (HTTPS): TLS handshake succeeded, want the connection closed")
	} else if ne, ok := err.(net.Error); ok && ne.Timeout() {
		t.Fatalf("sixth connection (HTTPS): %v; want it closed at once", err)
	}

	held[0].Close()
	waitUntil(t, "4 open connections", func() bool { return gw.conns.Open() == 4 })
	held[0] = holdConn(t, httpAddr, nil)
	for _, c := range held {
		c.Close()
	}
	waitUntil(t, "0 open connections", func() bool { return gw.conns.Open() == 0 })

	_, body, err := get("http://" + gw.AdminAddr.String() + "/status")
	var st Status
	if err != nil || json.Unmarshal([]byte(body), &st) != nil || st.Connections == nil ||
		*st.Connections != (ConnStatus{Open: 0, Max: 5, ClosedOverMax: 2}) {
		t.Errorf("/status connections: %s %v; want open 0, max 5, closed_over_max 2", body, err)
	}
	if l := logs.String(); !strings.Contains(l, "connection limit reached") || !strings.Contains(l, "max_connections=5") {
		t.Errorf("no rate-limited log line for the closed connections:\n%s", l)
	}
}

// TestAdminHealthReportsStoppedListener protects orchestrators from a
// gateway that looks alive without serving: when a listener stops for good
// (Accept fails with a permanent error), the admin /health answers 503 and
// names it. A clean shutdown is no failure.
func TestAdminHealthReportsStoppedListener(t *testing.T) {
	gw, logs := startWith(t, routesFor("http://127.0.0.1:1"), testConfig(t), seams{wrap: func(name string, ln net.Listener) net.Listener {
		if name != "https" {
			return ln
		}
		sl := &scriptedListener{Listener: ln}
		sl.queue(syscall.EINVAL)
		return sl
	}})
	health := "http://" + gw.AdminAddr.String() + "/health"
	var code int
	var body string
	waitUntil(t, "admin /health to answer 503", func() bool {
		var err error
		code, body, err = get(health)
		return err == nil && code == http.StatusServiceUnavailable
	})
	var h Health
	if err := json.Unmarshal([]byte(body), &h); err != nil || h.Status != "unhealthy" || len(h.Listeners) != 1 ||
		h.Listeners[0].Listener != "https" || h.Listeners[0].Addr != gw.HTTPSAddr.String() || !strings.Contains(h.Listeners[0].Error, "invalid argument") {
		t.Errorf("/health body %s (%v), want unhealthy naming https and its error", body, err)
	}
	if code, _, err := get("http://" + gw.HTTPAddr.String() + "/health"); err != nil || code != 200 {
		t.Errorf("the HTTP listener still serves: %d %v", code, err)
	}
	if !strings.Contains(logs.String(), "stopped for good") {
		t.Errorf("no log line for the stopped listener:\n%s", logs)
	}

	clean, _ := startWith(t, routesFor("http://127.0.0.1:1"), testConfig(t), seams{})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if err := clean.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	if s := clean.stoppedListeners(); len(s) != 0 {
		t.Errorf("after a clean shutdown, stopped listeners %v, want none", s)
	}
}

// TestAdminClosesSilentAndIdleConnections protects the admin listener from
// clients that hold connections: one that sends nothing, one that stays
// idle after a request, one that never sends the body it announced (what
// it gets before the close does not matter). Each is closed after the
// (here shortened) timeouts.
func TestAdminClosesSilentAndIdleConnections(t *testing.T) {
	short := 200 * time.Millisecond
	gw, _ := startWith(t, routesFor("http://127.0.0.1:1"), testConfig(t), seams{admin: adminTimeouts{readHeader: short, read: short, write: short, idle: short}})
	addr := gw.AdminAddr.String()
	for _, tc := range []struct {
		name, send string
		answered   bool
	}{
		{name: "silent", send: ""},
		{name: "idle after a request", send: "GET /health HTTP/1.1\r\nHost: x\r\n\r\n", answered: true},
		{name: "body never sent", send: "POST /status HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := net.Dial("tcp", addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			c.SetDeadline(time.Now().Add(10 * time.Second))
			io.WriteString(c, tc.send)
			r := bufio.NewReader(c)
			if tc.answered {
				resp, err := http.ReadResponse(r, nil)
				if err != nil {
					t.Fatal(err)
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
			}
			if _, err := io.Copy(io.Discard, r); err != nil && !errors.Is(err, syscall.ECONNRESET) {
				t.Fatalf("read: %v; want the admin listener to close the connection", err)
			}
		})
	}
}

// blockingBackend answers after release is closed; every request sends on
// arrived first.
func blockingBackend(t *testing.T) (url string, arrived chan struct{}, release chan struct{}) {
	arrived, release = make(chan struct{}, 16), make(chan struct{})
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		arrived <- struct{}{}
		<-release
		io.WriteString(w, "finished")
	}))
	t.Cleanup(be.Close) // after the test's release
	return be.URL, arrived, release
}

// runUntilCancelled runs the gateway as Main does; it returns the running
// gateway, the cancel that stands for SIGTERM and where run's exit code
// arrives.
func runUntilCancelled(t *testing.T, backend string, cfg Config, logs io.Writer) (*Server, context.CancelFunc, chan int) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	started, code := make(chan *Server, 1), make(chan int, 1)
	go func() {
		code <- run(ctx, Program{}, routesFor(backend), cfg, slog.New(slog.NewTextHandler(logs, nil)), func(gw *Server) { started <- gw })
	}()
	select {
	case gw := <-started:
		return gw, cancel, code
	case c := <-code:
		t.Fatalf("run returned %d before starting", c)
	}
	return nil, nil, nil
}

// TestShutdownTimeoutCutRequestsExitNonZero protects supervisors from a
// shutdown that looks clean but was not: requests still in flight when
// --shutdown-timeout expires are counted in the log and the exit code is 1.
func TestShutdownTimeoutCutRequestsExitNonZero(t *testing.T) {
	backend, arrived, release := blockingBackend(t)
	defer close(release)
	cfg := testConfig(t, "--shutdown-timeout=100ms")
	cfg.HTTPSAddr, cfg.AdminAddr = "", ""
	logs := &logBuffer{}
	gw, cancel, code := runUntilCancelled(t, backend, cfg, logs)
	url := "http://" + gw.HTTPAddr.String() + "/petstore/v1/pet/1"
	for range 3 {
		go get(url) //nolint:errcheck // the requests are cut
	}
	for range 3 {
		<-arrived
	}
	cancel()
	if c := <-code; c != exitError {
		t.Errorf("exit code %d after cutting requests, want %d", c, exitError)
	}
	if l := logs.String(); !strings.Contains(l, "requests_cut=3") {
		t.Errorf("the log does not count the 3 cut requests:\n%s", l)
	}
}

// TestCleanShutdownExitsZero keeps exit code 0 for a shutdown whose
// in-flight request finished in time.
func TestCleanShutdownExitsZero(t *testing.T) {
	backend, arrived, release := blockingBackend(t)
	cfg := testConfig(t, "--shutdown-timeout=10s")
	cfg.HTTPSAddr, cfg.AdminAddr = "", ""
	logs := &logBuffer{}
	gw, cancel, code := runUntilCancelled(t, backend, cfg, logs)
	got := make(chan string, 1)
	go func() {
		_, body, err := get("http://" + gw.HTTPAddr.String() + "/petstore/v1/pet/1")
		got <- fmt.Sprint(body, err)
	}()
	<-arrived
	cancel()
	close(release)
	if c := <-code; c != exitOK {
		t.Errorf("exit code %d after a clean shutdown, want 0\n%s", c, logs.String())
	}
	if b := <-got; b != "finished<nil>" {
		t.Errorf("in-flight request: %q", b)
	}
	if l := logs.String(); strings.Contains(l, "requests_cut") || !strings.Contains(l, "msg=stopped") {
		t.Errorf("logs:\n%s", l)
	}
}

func TestDerivedMaxConnections(t *testing.T) {
	for soft, want := range map[uint64]int{
		0: 1, 66: 1, 68: 2, 128: 32, 1024: 480, 65536: 32736, 1 << 20: 524256, math.MaxUint64: math.MaxInt32,
	} {
		if got := derivedMaxConnections(soft); got != want {
			t.Errorf("derivedMaxConnections(%d) = %d, want %d", soft, got, want)
		}
	}
}

// closeNotifier tells when the gateway closes the listener.
type closeNotifier struct {
	net.Listener
	once   sync.Once
	closed chan struct{}
}

func (c *closeNotifier) Close() error {
	c.once.Do(func() { close(c.closed) })
	return c.Listener.Close()
}

// TestShutdownRightAfterStart protects a gateway that gets SIGTERM just
// after it started: fasthttp's Shutdown ignores a listener whose Serve has
// not begun, which would then be served for good and hold Shutdown forever.
// Here Serve begins only once the listener was closed.
func TestShutdownRightAfterStart(t *testing.T) {
	cfg := testConfig(t)
	cfg.HTTPSAddr, cfg.AdminAddr = "", ""
	release := make(chan struct{})
	var ln *closeNotifier
	gw, err := start(context.Background(), Program{}, routesFor("http://127.0.0.1:1"), cfg, slog.New(slog.DiscardHandler), seams{
		wrap: func(_ string, l net.Listener) net.Listener {
			ln = &closeNotifier{Listener: l, closed: make(chan struct{})}
			return ln
		},
		serving: func(string) { <-release },
	})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		done <- gw.Shutdown(ctx)
	}()
	select {
	case <-ln.closed:
	case <-time.After(10 * time.Second):
		close(release) // let the goroutines end
		t.Fatal("Shutdown did not close a listener whose Serve had not begun")
	}
	close(release)
	if err := <-done; err != nil {
		t.Errorf("Shutdown: %v", err)
	}
}
