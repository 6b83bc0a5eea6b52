package discovery

import (
	"bytes"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/micro-gw/micro-gw/internal/devetcd"
	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
)

// wait is the bound of every eventual condition in these tests.
const wait = 10 * time.Second

// startEtcd starts a real etcd member, stopped when the test ends.
func startEtcd(t *testing.T, cfg devetcd.Config) *devetcd.Server {
	t.Helper()
	if cfg.Dir == "" {
		cfg.Dir = t.TempDir()
	}
	s, err := devetcd.Start(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	return s
}

// restart stops s and starts it again with cfg changed by edit (nil: same
// data directory, a plain restart).
func restart(t *testing.T, s *devetcd.Server, edit func(*devetcd.Config)) *devetcd.Server {
	t.Helper()
	cfg := s.Config()
	s.Close()
	if edit != nil {
		edit(&cfg)
	}
	return startEtcd(t, cfg)
}

// admin is a client for the test's own puts and deletes.
func admin(t *testing.T, cfg clientv3.Config) *clientv3.Client {
	t.Helper()
	cfg.DialTimeout = 5 * time.Second
	cfg.Logger = zap.NewNop()
	cli, err := clientv3.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func put(t *testing.T, cli *clientv3.Client, k, v string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	resp, err := cli.Put(ctx, k, v)
	if err != nil {
		t.Fatalf("put %s=%s: %v", k, v, err)
	}
	return resp.Header.Revision
}

func del(t *testing.T, cli *clientv3.Client, k string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := cli.Delete(ctx, k); err != nil {
		t.Fatalf("delete %s: %v", k, err)
	}
}

// logs collects a Resolver's log lines.
type logs struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logs) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logs) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.String()
}

// has reports whether one log line contains every part.
func (l *logs) has(parts ...string) bool {
	for line := range strings.SplitSeq(l.String(), "\n") {
		all := true
		for _, p := range parts {
			all = all && strings.Contains(line, p)
		}
		if all {
			return true
		}
	}
	return false
}

// newResolver builds and starts a Resolver for keys mapped to default URLs,
// closed when the test ends; it checks that Close leaves no goroutine of
// the Resolver behind.
func newResolver(t *testing.T, opts Options, defaults map[string]string) (*Resolver, *logs) {
	t.Helper()
	r, l := buildResolver(t, opts, defaults)
	r.Start(context.Background())
	return r, l
}

// buildResolver is newResolver without Start.
func buildResolver(t *testing.T, opts Options, defaults map[string]string) (*Resolver, *logs) {
	t.Helper()
	l := &logs{}
	opts.Logger = newLogger(io.MultiWriter(l, testWriter{t}))
	targets := make(map[string]*endpoint.Target, len(defaults))
	for k, u := range defaults {
		tg, err := endpoint.Parse(u)
		if err != nil {
			t.Fatal(err)
		}
		targets[k] = tg
	}
	r, err := New(opts, targets)
	if err != nil {
		t.Fatal(err)
	}
	live.Add(1)
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Error(err)
		}
		if live.Add(-1) > 0 {
			return // another Resolver of this test still runs
		}
		deadline := time.Now().Add(wait)
		for strings.Contains(stacks(), "discovery.(*Resolver)") {
			if time.Now().After(deadline) {
				t.Fatalf("Resolver goroutines left %v after Close:\n%s", wait, stacks())
			}
			time.Sleep(5 * time.Millisecond)
		}
	})
	return r, l
}

func newLogger(w io.Writer) *slog.Logger {
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: slog.LevelDebug}))
}

// live counts the Resolvers made by newResolver and not closed yet.
var live atomic.Int32

// testWriter sends log lines to the test log, for failures.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSuffix(string(p), "\n"))
	return len(p), nil
}

func stacks() string {
	buf := make([]byte, 1<<20)
	return string(buf[:runtime.Stack(buf, true)])
}

// waitFor polls cond until it holds, failing the test after wait.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("not within %v: %s", wait, what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitURL waits until key's Binding routes to want.
func waitURL(t *testing.T, r *Resolver, key, want string) {
	t.Helper()
	waitFor(t, key+" routes to "+want, func() bool { return r.Binding(key).Load().Raw == want })
}

func keyStatus(t *testing.T, r *Resolver, key string) KeyStatus {
	t.Helper()
	for _, k := range r.Status().Keys {
		if k.Key == key {
			return k
		}
	}
	t.Fatalf("no status for key %q", key)
	return KeyStatus{}
}

// certs holds PEM files of a test CA, a server certificate for 127.0.0.1
// and a client certificate, all ECDSA P-256.
type certs struct {
	CA, ServerCert, ServerKey, ClientCert, ClientKey string
}

func makeCerts(t *testing.T) certs {
	t.Helper()
	dir := t.TempDir()
	caKey, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	caTmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: "micro-gw test CA"},
		NotBefore:             now.Add(-time.Hour),
		NotAfter:              now.Add(time.Hour),
		IsCA:                  true,
		KeyUsage:              x509.KeyUsageCertSign,
		BasicConstraintsValid: true,
	}
	caDER, err := x509.CreateCertificate(rand.Reader, caTmpl, caTmpl, &caKey.PublicKey, caKey)
	if err != nil {
		t.Fatal(err)
	}
	ca, err := x509.ParseCertificate(caDER)
	if err != nil {
		t.Fatal(err)
	}
	c := certs{CA: filepath.Join(dir, "ca.pem")}
	writePEM(t, c.CA, "CERTIFICATE", caDER)
	leaf := func(name string, serial int64, usage x509.ExtKeyUsage) (certFile, keyFile string) {
		key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
		if err != nil {
			t.Fatal(err)
		}
		tmpl := &x509.Certificate{
			SerialNumber: big.NewInt(serial),
			Subject:      pkix.Name{CommonName: name},
			NotBefore:    now.Add(-time.Hour),
			NotAfter:     now.Add(time.Hour),
			KeyUsage:     x509.KeyUsageDigitalSignature,
			ExtKeyUsage:  []x509.ExtKeyUsage{usage},
			IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		}
		der, err := x509.CreateCertificate(rand.Reader, tmpl, ca, &key.PublicKey, caKey)
		if err != nil {
			t.Fatal(err)
		}
		keyDER, err := x509.MarshalECPrivateKey(key)
		if err != nil {
			t.Fatal(err)
		}
		certFile, keyFile = filepath.Join(dir, name+".pem"), filepath.Join(dir, name+"-key.pem")
		writePEM(t, certFile, "CERTIFICATE", der)
		writePEM(t, keyFile, "EC PRIVATE KEY", keyDER)
		return certFile, keyFile
	}
	c.ServerCert, c.ServerKey = leaf("server", 2, x509.ExtKeyUsageServerAuth)
	c.ClientCert, c.ClientKey = leaf("client", 3, x509.ExtKeyUsageClientAuth)
	return c
}

func writePEM(t *testing.T, path, typ string, der []byte) {
	t.Helper()
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
}

// proxy forwards TCP connections to target until cut, which drops every
// connection and refuses new ones until mend. Made without a target, it
// starts cut: it holds its address for an etcd started later.
type proxy struct {
	l      net.Listener
	target string
	mu     sync.Mutex
	down   bool
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func newProxy(t *testing.T, target string) *proxy {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	p := &proxy{l: l, target: target, conns: map[net.Conn]struct{}{}, down: target == ""}
	p.wg.Add(1)
	go p.serve()
	t.Cleanup(func() {
		l.Close()
		p.cut()
		p.wg.Wait()
	})
	return p
}

func (p *proxy) URL() string { return "http://" + p.l.Addr().String() }

func (p *proxy) serve() {
	defer p.wg.Done()
	for {
		c, err := p.l.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		if p.down {
			p.mu.Unlock()
			c.Close()
			continue
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.mu.Unlock()
			c.Close()
			continue
		}
		p.conns[c], p.conns[up] = struct{}{}, struct{}{}
		p.wg.Add(2)
		p.mu.Unlock()
		pipe := func(dst, src net.Conn) {
			defer p.wg.Done()
			io.Copy(dst, src)
			dst.Close()
			src.Close()
		}
		go pipe(up, c)
		go pipe(c, up)
	}
}

func (p *proxy) cut() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = true
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
}

func (p *proxy) mend() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.down = false
}

// retarget makes p forward new connections to target and mends it.
func (p *proxy) retarget(target string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.target, p.down = target, false
}

// waitURLWithin waits at most d until key's Binding routes to want.
func waitURLWithin(t *testing.T, r *Resolver, key, want string, d time.Duration) {
	t.Helper()
	deadline := time.Now().Add(d)
	for r.Binding(key).Load().Raw != want {
		if time.Now().After(deadline) {
			t.Fatalf("%s does not route to %s within %v (it routes to %s)", key, want, d, r.Binding(key).Load().Raw)
		}
		time.Sleep(time.Millisecond)
	}
}

// restartAndWaitReread restarts e with the same data and waits until r has
// read etcd again, as it does on every reconnection: a put after that is
// carried by the resumed watch, not by that read.
func restartAndWaitReread(t *testing.T, r *Resolver, e *devetcd.Server) *devetcd.Server {
	t.Helper()
	before := time.Now()
	e = restart(t, e, nil)
	waitFor(t, "a read after the restart", func() bool { return r.Status().Etcd.LastContact.After(before) })
	return e
}
