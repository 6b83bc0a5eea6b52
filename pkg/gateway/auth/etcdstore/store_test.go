package etcdstore

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/micro-gw/micro-gw/internal/devetcd"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/discovery"
)

// TestCreatedKeyIsFoundAndDeletedKeyIsRefused: a record put under the
// prefix makes the key work, with the principal its record describes; a
// delete refuses it.
func TestCreatedKeyIsFoundAndDeletedKeyIsRefused(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, e.ClientURL())
	s, _ := newStore(t, e.ClientURL(), discovery.Options{Timer: time.Hour}, Options{})
	const key = "mgw_first-key"
	if _, ok := s.LookupKey([]byte(key)); ok {
		t.Fatal("a key that was never stored is found")
	}
	rev := putKey(t, cli, key, Record{Application: "shop", KeyType: auth.Sandbox, APIs: []string{"Petstore"}, Tier: "Gold"})
	waitKeysRev(t, s, rev)
	p, ok := s.LookupKey([]byte(key))
	if !ok {
		t.Fatal("a stored key is not found")
	}
	want := Hash([]byte(key))[:IDLen]
	if p.ID != want || p.Subject != "shop" || p.Application.Name != "shop" || p.KeyType != auth.Sandbox || p.Application.Tier != "Gold" {
		t.Fatalf("principal %+v, want ID %s, application shop, SANDBOX, tier Gold", p, want)
	}
	if !p.AllowsAPI("Petstore") || p.AllowsAPI("Bookstore") {
		t.Fatalf("APIs %v: want Petstore allowed and Bookstore refused", p.APIs)
	}
	if _, ok := s.LookupKey([]byte(key + "x")); ok {
		t.Fatal("another key is found")
	}
	waitKeysRev(t, s, del(t, cli, keyPrefix+Hash([]byte(key))))
	if _, ok := s.LookupKey([]byte(key)); ok {
		t.Fatal("a deleted key is still found")
	}
	if st := s.Status(); !st.Connected || !st.APIKeys.Loaded || st.APIKeys.Count != 0 {
		t.Fatalf("status %+v, want connected, loaded, no keys", st)
	}
}

// TestExpiredKeyIsRefused: a key past its expiry, by the injected clock, is
// refused; before it, accepted.
func TestExpiredKeyIsRefused(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, e.ClientURL())
	base := time.Date(2027, 1, 1, 0, 0, 0, 0, time.UTC)
	var now atomic.Int64
	now.Store(base.Add(-time.Second).UnixNano())
	s, _ := newStore(t, e.ClientURL(), discovery.Options{Timer: time.Hour}, Options{Now: func() time.Time { return time.Unix(0, now.Load()) }})
	waitKeysRev(t, s, putKey(t, cli, "k", Record{Application: "a", KeyType: auth.Production, Expires: base.Format(time.RFC3339)}))
	if _, ok := s.LookupKey([]byte("k")); !ok {
		t.Fatal("a key a second before its expiry is refused")
	}
	now.Store(base.UnixNano())
	if _, ok := s.LookupKey([]byte("k")); ok {
		t.Fatal("a key at its expiry is accepted")
	}
}

// TestUnusableRecordKeepsTheGoodOne: a bad value for a key that has a good
// record is logged by etcd key (never with the key itself) and ignored; the good
// record stays, through the periodic re-read too. A bad record for a new
// key adds nothing.
func TestUnusableRecordKeepsTheGoodOne(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, e.ClientURL())
	s, l := newStore(t, e.ClientURL(), discovery.Options{Timer: 100 * time.Millisecond}, Options{})
	const good = "mgw_SECRET-good-key"
	etcdKey := keyPrefix + Hash([]byte(good))
	waitKeysRev(t, s, putKey(t, cli, good, Record{Application: "shop", KeyType: auth.Production}))
	for _, bad := range []string{
		`{"application":"shop","keyType":"PRODUCTION"`,                // truncated JSON
		`{"application":"","keyType":"PRODUCTION"}`,                   // no application
		`{"application":"shop","keyType":"GOLD"}`,                     // bad key type
		`{"application":"shop","keyType":"PRODUCTION","expiry":"x"}`,  // unknown field
		`{"application":"shop","keyType":"PRODUCTION","expires":"x"}`, // bad time
	} {
		rev := put(t, cli, etcdKey, bad)
		waitKeysRev(t, s, rev)
		p, ok := s.LookupKey([]byte(good))
		if !ok || p.Subject != "shop" {
			t.Fatalf("after the bad value %s the good key is lost", bad)
		}
	}
	// Through a full re-read as well: a put outside the prefix raises
	// etcd's revision, which only a read of the prefix brings to it.
	waitKeysRev(t, s, put(t, cli, "elsewhere", "x"))
	if _, ok := s.LookupKey([]byte(good)); !ok {
		t.Fatal("the periodic re-read replaced the good key with the bad value")
	}
	waitKeysRev(t, s, put(t, cli, keyPrefix+Hash([]byte("new")), `not json`))
	waitKeysRev(t, s, put(t, cli, keyPrefix+"not-a-hash", `{"application":"x","keyType":"SANDBOX"}`))
	if _, ok := s.LookupKey([]byte("new")); ok {
		t.Fatal("a key with an unusable record is accepted")
	}
	st := s.Status().APIKeys
	if st.Count != 1 || st.Rejected != 3 || st.LastRejected == nil || st.LastRejected.Key != keyPrefix+"not-a-hash" {
		t.Fatalf("status %+v, want 1 key, 3 rejected, the last one named", st)
	}
	out := l.String()
	if !strings.Contains(out, etcdKey) || strings.Contains(out, "SECRET") {
		t.Fatalf("the log must name the etcd key and never the API key:\n%s", out)
	}
}

// TestRevokedTokenIsSeenAndLeaseExpiryEndsIt: a jti put under the revoked
// prefix is revoked; when its lease expires the watch sees the delete and
// the jti is no longer revoked.
func TestRevokedTokenIsSeenAndLeaseExpiryEndsIt(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, e.ClientURL())
	s, _ := newStore(t, e.ClientURL(), discovery.Options{Timer: time.Hour}, Options{})
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	lease, err := cli.Grant(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	// Watch the key ourselves to learn the revision of the lease's delete.
	w := cli.Watch(ctx, revPrefix+"jti-1", clientv3.WithFilterPut())
	waitRevokedRev(t, s, put(t, cli, revPrefix+"jti-1", "2027-01-01T00:00:00Z", clientv3.WithLease(lease.ID)))
	if !s.Revoked("jti-1") || s.Revoked("jti-2") || s.Revoked("") {
		t.Fatal("want jti-1 revoked and nothing else")
	}
	resp := <-w
	if err := resp.Err(); err != nil || len(resp.Events) == 0 {
		t.Fatalf("no delete seen for the lease's expiry: %v", err)
	}
	waitRevokedRev(t, s, resp.Events[0].Kv.ModRevision)
	if s.Revoked("jti-1") {
		t.Fatal("jti-1 is still revoked after its lease expired")
	}
}

// TestLookupAllocatesNothing guards the request path.
func TestLookupAllocatesNothing(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, e.ClientURL())
	s, _ := newStore(t, e.ClientURL(), discovery.Options{Timer: time.Hour}, Options{})
	waitKeysRev(t, s, putKey(t, cli, "k", Record{Application: "a", KeyType: auth.Production, Expires: "2099-01-01T00:00:00Z"}))
	waitRevokedRev(t, s, put(t, cli, revPrefix+"j", "x"))
	key, miss, jti := []byte("k"), []byte("nope"), string([]byte("j"))
	if n := testing.AllocsPerRun(100, func() {
		_, ok1 := s.LookupKey(key)
		_, ok2 := s.LookupKey(miss)
		if !ok1 || ok2 || !s.Revoked(jti) || s.Revoked("other") {
			panic("wrong answer")
		}
	}); n != 0 {
		t.Fatalf("lookups allocate %v times per run, want 0", n)
	}
}

// TestStartWithEtcdDownThenConsistent: etcd is down at start; Start returns
// at once (every member refuses), nothing is found (fail closed), and when
// etcd comes up the store reads and watches it.
func TestStartWithEtcdDownThenConsistent(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cfg := e.Config()
	url := e.ClientURL()
	e.Close()
	began := time.Now()
	s, _ := newStore(t, url, discovery.Options{Timer: time.Hour, StartupTimeout: 300 * time.Millisecond}, Options{})
	if d := time.Since(began); d > 5*time.Second {
		t.Fatalf("start took %v with etcd down", d)
	}
	if st := s.Status(); st.Connected || st.APIKeys.Loaded || st.Revoked.Loaded {
		t.Fatalf("status %+v, want not connected and nothing loaded", st)
	}
	if _, ok := s.LookupKey([]byte("k")); ok {
		t.Fatal("a key is found with etcd down")
	}
	e = startEtcd(t, cfg)
	cli := admin(t, e.ClientURL())
	waitKeysRev(t, s, putKey(t, cli, "k", Record{Application: "a", KeyType: auth.Production}))
	waitRevokedRev(t, s, put(t, cli, revPrefix+"j", "x"))
	if _, ok := s.LookupKey([]byte("k")); !ok || !s.Revoked("j") {
		t.Fatal("after etcd came up the key or the revocation is missing")
	}
	waitFor(t, "both prefixes loaded", func() bool { st := s.Status(); return st.APIKeys.Loaded && st.Revoked.Loaded })
}

// TestWipedEtcdEmptiesTheStore: etcd is replaced by an empty one at the
// same address (its revision goes backwards); the store forgets what the
// old history held and follows the new one.
func TestWipedEtcdEmptiesTheStore(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, e.ClientURL())
	for range 20 { // push the revision above what the new etcd will reach
		put(t, cli, "filler", "x")
	}
	s, l := newStore(t, e.ClientURL(), discovery.Options{Timer: time.Hour}, Options{})
	waitKeysRev(t, s, putKey(t, cli, "old", Record{Application: "a", KeyType: auth.Production}))
	waitRevokedRev(t, s, put(t, cli, revPrefix+"old-jti", "x"))

	cfg := e.Config()
	e.Close()
	cfg.Dir = t.TempDir()
	e = startEtcd(t, cfg)
	cli = admin(t, e.ClientURL())
	putKey(t, cli, "new", Record{Application: "b", KeyType: auth.Production})
	waitFor(t, "the new key after the wipe", func() bool { _, ok := s.LookupKey([]byte("new")); return ok })
	if _, ok := s.LookupKey([]byte("old")); ok {
		t.Fatal("a key of the wiped etcd is still found")
	}
	if s.Revoked("old-jti") {
		t.Fatal("a revocation of the wiped etcd is still there")
	}
	if !strings.Contains(l.String(), "etcd revision went backwards") {
		t.Fatal("the wipe was not noticed as a new history")
	}
	// The new history is watched.
	waitRevokedRev(t, s, put(t, cli, revPrefix+"new-jti", "x"))
	if !s.Revoked("new-jti") {
		t.Fatal("a revocation after the wipe is not seen")
	}
}
