package etcdstore

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/micro-gw/micro-gw/internal/devetcd"
	"github.com/micro-gw/micro-gw/pkg/gateway/discovery"
)

// wait bounds every eventual condition in these tests.
const wait = 10 * time.Second

const (
	keyPrefix = "micro-gw/apikeys/"
	revPrefix = "micro-gw/revoked/"
)

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

func admin(t *testing.T, url string) *clientv3.Client {
	t.Helper()
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{url}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	return cli
}

func put(t *testing.T, cli *clientv3.Client, k, v string, opts ...clientv3.OpOption) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	resp, err := cli.Put(ctx, k, v, opts...)
	if err != nil {
		t.Fatalf("put %s: %v", k, err)
	}
	return resp.Header.Revision
}

func del(t *testing.T, cli *clientv3.Client, k string) int64 {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	resp, err := cli.Delete(ctx, k)
	if err != nil {
		t.Fatalf("delete %s: %v", k, err)
	}
	return resp.Header.Revision
}

// putKey stores the record of key and returns the put's revision.
func putKey(t *testing.T, cli *clientv3.Client, key string, r Record) int64 {
	t.Helper()
	b, err := json.Marshal(r)
	if err != nil {
		t.Fatal(err)
	}
	return put(t, cli, keyPrefix+Hash([]byte(key)), string(b))
}

// logs collects log lines.
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

// newStore starts a Resolver on url with a Store on it, both closed when
// the test ends.
func newStore(t *testing.T, url string, dopts discovery.Options, opts Options) (*Store, *logs) {
	t.Helper()
	l := &logs{}
	log := slog.New(slog.NewTextHandler(io.MultiWriter(l, testWriter{t}), nil))
	dopts.Endpoints = []string{url}
	dopts.Logger = log
	if dopts.StartupTimeout == 0 {
		dopts.StartupTimeout = wait
	}
	r, err := discovery.New(dopts, nil)
	if err != nil {
		t.Fatal(err)
	}
	opts.Logger = log
	s, err := New(r, opts)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(func() {
		cancel()
		r.Close()
	})
	r.Start(ctx)
	return s, l
}

// testWriter sends logs to t.Log, for -v.
type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

// waitFor polls cond, a cheap read of the store's state, until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(wait)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// waitKeysRev waits until the store has applied the API keys up to rev.
func waitKeysRev(t *testing.T, s *Store, rev int64) {
	t.Helper()
	waitFor(t, "API keys at the revision", func() bool { k, _ := s.Revisions(); return k >= rev })
}

// waitRevokedRev waits until the store has applied the revocations up to rev.
func waitRevokedRev(t *testing.T, s *Store, rev int64) {
	t.Helper()
	waitFor(t, "revocations at the revision", func() bool { _, r := s.Revisions(); return r >= rev })
}
