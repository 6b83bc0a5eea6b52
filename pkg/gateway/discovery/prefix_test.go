package discovery

import (
	"context"
	"maps"
	"strconv"
	"sync"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/micro-gw/micro-gw/internal/devetcd"
)

// prefixState is a PrefixSink that keeps what it was given.
type prefixState struct {
	mu      sync.Mutex
	kvs     map[string]string
	rev     int64
	resets  map[string]int // by source
	applies int
}

func newPrefixState() *prefixState {
	return &prefixState{kvs: map[string]string{}, resets: map[string]int{}}
}

func (p *prefixState) Reset(kvs []KV, rev int64, source string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.kvs = map[string]string{}
	for _, kv := range kvs {
		p.kvs[kv.Key] = string(kv.Value)
	}
	p.rev = rev
	p.resets[source]++
}

func (p *prefixState) Apply(changes []KV, rev int64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range changes {
		if c.Deleted {
			delete(p.kvs, c.Key)
		} else {
			p.kvs[c.Key] = string(c.Value)
		}
	}
	p.rev = rev
	p.applies++
}

func (p *prefixState) snapshot() (map[string]string, int64, int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return maps.Clone(p.kvs), p.rev, p.applies
}

// waitPrefix waits until the sink reflects revision rev.
func waitPrefix(t *testing.T, p *prefixState, rev int64) map[string]string {
	t.Helper()
	var kvs map[string]string
	waitFor(t, "the prefix at revision "+strconv.FormatInt(rev, 10), func() bool {
		var r int64
		kvs, r, _ = p.snapshot()
		return r >= rev
	})
	return kvs
}

// TestWatchPrefixFollowsPutsAndDeletes: a Resolver with no keys and one
// prefix reads it at start and then follows puts and deletes by watch,
// and nothing outside the prefix.
func TestWatchPrefixFollowsPutsAndDeletes(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	put(t, cli, "p/a", "1")
	r, err := New(Options{Endpoints: []string{e.ClientURL()}, Timer: time.Hour, StartupTimeout: wait, Logger: newLogger(testWriter{t})}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps := newPrefixState()
	if err := r.WatchPrefix("p/", ps); err != nil {
		t.Fatal(err)
	}
	r.Start(context.Background())
	t.Cleanup(func() { r.Close() })
	if kvs, _, _ := ps.snapshot(); kvs["p/a"] != "1" || ps.resets[SourceStartup] != 1 {
		t.Fatalf("after Start the prefix holds %v, want p/a=1 from the startup read", kvs)
	}
	put(t, cli, "q/x", "outside")
	waitPrefix(t, ps, put(t, cli, "p/b", "2"))
	resp, err := cli.Delete(context.Background(), "p/a")
	if err != nil {
		t.Fatal(err)
	}
	kvs := waitPrefix(t, ps, resp.Header.Revision)
	if len(kvs) != 1 || kvs["p/b"] != "2" {
		t.Fatalf("the prefix holds %v, want only p/b=2", kvs)
	}
	if err := r.WatchPrefix("r/", newPrefixState()); err == nil {
		t.Fatal("WatchPrefix after Start is accepted")
	}
}

// TestWatchPrefixRefusesBadPrefixes: an empty or repeated prefix is an error.
func TestWatchPrefixRefusesBadPrefixes(t *testing.T) {
	r, err := New(Options{Endpoints: []string{"http://127.0.0.1:2379"}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.WatchPrefix("", newPrefixState()); err == nil {
		t.Error("an empty prefix is accepted")
	}
	if err := r.WatchPrefix("p/", newPrefixState()); err != nil {
		t.Fatal(err)
	}
	if err := r.WatchPrefix("p/", newPrefixState()); err == nil {
		t.Error("a prefix watched twice is accepted")
	}
}

// TestWatchPrefixCompactionResyncs: the Resolver's connection is cut, a key
// under the prefix is deleted and another put, and etcd compacts past the
// watch's revision; when the connection comes back the prefix is read
// whole again (the missed delete shows) and watched anew.
func TestWatchPrefixCompactionResyncs(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	p := newProxy(t, "127.0.0.1:"+strconv.Itoa(e.Config().ClientPort))
	l := &logs{}
	r, err := New(Options{Endpoints: []string{p.URL()}, Timer: time.Hour, StartupTimeout: wait, Logger: newLogger(l)}, nil)
	if err != nil {
		t.Fatal(err)
	}
	ps := newPrefixState()
	if err := r.WatchPrefix("p/", ps); err != nil {
		t.Fatal(err)
	}
	r.Start(context.Background())
	t.Cleanup(func() { r.Close() })
	waitPrefix(t, ps, put(t, cli, "p/a", "1"))

	p.cut()
	del(t, cli, "p/a")
	put(t, cli, "p/b", "missed")
	rev := put(t, cli, "other", "x")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := cli.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	p.mend()

	kvs := waitPrefix(t, ps, rev)
	if len(kvs) != 1 || kvs["p/b"] != "missed" {
		t.Fatalf("after the compaction the prefix holds %v, want only p/b", kvs)
	}
	waitFor(t, "compaction logged", func() bool { return l.has("etcd prefix", "fell behind etcd's compaction") })
	// The reconnection may bring one more full read, which can carry the
	// next put instead of the watch: the watch must carry one of the
	// puts after that, not necessarily the first.
	for i := range 20 {
		_, _, applies := ps.snapshot()
		waitPrefix(t, ps, put(t, cli, "p/c", strconv.Itoa(i)))
		if _, _, n := ps.snapshot(); n > applies {
			return
		}
	}
	t.Fatal("after the resync, 20 puts in a row came by full reads, none by watch")
}
