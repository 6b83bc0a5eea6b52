package discovery

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/micro-gw/micro-gw/internal/devetcd"
)

// TestOutageKeepsLastGoodURL covers semantic 4: etcd stops, the last good
// URL stays while the resolver retries, and when etcd is back the keys are
// re-read and watched again.
func TestOutageKeepsLastGoodURL(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: waits out the resolver's reconnect backoff through an outage, about 7 s")
	}
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	put(t, cli, "a", "http://10.0.0.1/before")
	r, l := newResolver(t, Options{Endpoints: []string{e.ClientURL()}, Timer: 200 * time.Millisecond, StartupTimeout: wait},
		map[string]string{"a": defA})
	waitURL(t, r, "a", "http://10.0.0.1/before")

	e.Close()
	waitFor(t, "status shows etcd lost", func() bool {
		s := r.Status().Etcd
		return !s.Connected && s.LastError != ""
	})
	waitFor(t, "a failure logged", func() bool { return l.has("etcd", "level=WARN", "retrying") })
	// Several timer periods and retries pass: the URL must not fall back.
	errAt := r.Status().Etcd.LastErrorAt
	waitFor(t, "another failed retry", func() bool { return r.Status().Etcd.LastErrorAt.After(errAt) })
	if got := r.Binding("a").Load().Raw; got != "http://10.0.0.1/before" {
		t.Fatalf("during the outage a routes to %s, want the last good URL", got)
	}

	e = restart(t, e, nil)
	cli = admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	put(t, cli, "a", "http://10.0.0.1/after")
	waitURL(t, r, "a", "http://10.0.0.1/after")
	waitFor(t, "status shows etcd connected", func() bool { return r.Status().Etcd.Connected })
}

// TestRestartWatchResumes covers a restarted etcd (same data) while the
// timer is far off: once the resolver has reconnected (and checked the
// history with a read), the watch itself carries the next change.
func TestRestartWatchResumes(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	r, _ := newResolver(t, Options{Endpoints: []string{e.ClientURL()}, Timer: time.Hour, StartupTimeout: wait},
		map[string]string{"a": defA})
	cli := admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	put(t, cli, "a", "http://10.0.0.1/before")
	waitURL(t, r, "a", "http://10.0.0.1/before")

	e = restartAndWaitReread(t, r, e)
	cli = admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	put(t, cli, "a", "http://10.0.0.1/after")
	waitURL(t, r, "a", "http://10.0.0.1/after")
	if s := keyStatus(t, r, "a"); s.Source != SourceWatch {
		t.Fatalf("after the restart the change came by %s, want watch", s.Source)
	}
}

// TestWipedEtcdResyncs covers an etcd replaced by an empty one at the same
// address (wiped, or restored from an old snapshot): its revision goes
// backwards, the resolver notices, re-reads and watches the new history.
func TestWipedEtcdResyncs(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	for i := range 20 { // push the revision well above what the new etcd will have
		put(t, cli, "filler", strconv.Itoa(i))
	}
	put(t, cli, "a", "http://10.0.0.1/old")
	r, l := newResolver(t, Options{Endpoints: []string{e.ClientURL()}, Timer: 300 * time.Millisecond, StartupTimeout: wait},
		map[string]string{"a": defA})
	waitURL(t, r, "a", "http://10.0.0.1/old")

	e = restart(t, e, func(c *devetcd.Config) { c.Dir = t.TempDir() })
	cli = admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	put(t, cli, "a", "http://10.0.0.1/new")
	waitURL(t, r, "a", "http://10.0.0.1/new")
	waitFor(t, "revision going backwards logged", func() bool { return l.has("etcd revision went backwards") })

	// The new history is watched: among a few changes, at least one must
	// arrive by watch (a timer read could win any single race).
	var viaWatch bool
	for i := 0; i < 5 && !viaWatch; i++ {
		u := fmt.Sprintf("http://10.0.0.1/new%d", i)
		put(t, cli, "a", u)
		waitURL(t, r, "a", u)
		viaWatch = keyStatus(t, r, "a").Source == SourceWatch
	}
	if !viaWatch {
		t.Fatal("after the wipe no change arrived by watch")
	}
	del(t, cli, "a")
	waitURL(t, r, "a", defA)
}

// TestCompactionWhileWatching covers a watch that fell behind compaction:
// the resolver's connection is cut, the key changes and etcd compacts past
// the watch's revision; when the connection comes back the watch resumes
// from a compacted revision and the resolver must re-read.
func TestCompactionWhileWatching(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	p := newProxy(t, "127.0.0.1:"+strconv.Itoa(e.Config().ClientPort))
	r, l := newResolver(t, Options{Endpoints: []string{p.URL()}, Timer: time.Hour, StartupTimeout: wait},
		map[string]string{"a": defA})
	put(t, cli, "a", "http://10.0.0.1/before")
	waitURL(t, r, "a", "http://10.0.0.1/before")

	p.cut()
	put(t, cli, "a", "http://10.0.0.1/missed")
	rev := put(t, cli, "other", "x")
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := cli.Compact(ctx, rev, clientv3.WithCompactPhysical()); err != nil {
		t.Fatal(err)
	}
	p.mend()

	waitURL(t, r, "a", "http://10.0.0.1/missed")
	if s := keyStatus(t, r, "a"); s.Source != SourceResync {
		t.Fatalf("the missed change came by %s, want resync", s.Source)
	}
	waitFor(t, "compaction logged", func() bool { return l.has("fell behind etcd's compaction") })
	put(t, cli, "a", "http://10.0.0.1/later")
	waitURL(t, r, "a", "http://10.0.0.1/later")
}

// TestLateEtcd covers semantic 6 (micro-gw issue 1091): etcd is not there at
// start, the defaults are served at once, and etcd is picked up when it
// appears.
func TestLateEtcd(t *testing.T) {
	// The resolver's etcd address is held from the start by a proxy that
	// drops every connection until etcd is there.
	p := newProxy(t, "")
	r, _ := newResolver(t, Options{Endpoints: []string{p.URL()}, Timer: time.Hour, StartupTimeout: 200 * time.Millisecond},
		map[string]string{"a": defA})
	if got := r.Binding("a").Load().Raw; got != defA {
		t.Fatalf("a routes to %s, want the default", got)
	}
	if s := r.Status().Etcd; s.Connected || s.LastError == "" {
		t.Fatalf("status %+v, want not connected with an error", s)
	}

	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	put(t, cli, "a", "http://10.0.0.1/late")
	p.retarget("127.0.0.1:" + strconv.Itoa(e.Config().ClientPort))
	waitURL(t, r, "a", "http://10.0.0.1/late")
	put(t, cli, "a", "http://10.0.0.1/later")
	waitURL(t, r, "a", "http://10.0.0.1/later")
}

// TestWatchFollowsWipedCluster: etcd is wiped (replaced by an empty member
// at the same address, so its revision starts again below the one the
// watch had reached) while the timer is a minute off. The etcd client
// resumes the watch at the old revision, which the new etcd reaches only
// after as many writes: the resolver must notice the new history when it
// reconnects, re-read and re-watch, so that a put after the wipe routes at
// once and later puts arrive by watch.
func TestWatchFollowsWipedCluster(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	for i := range 20 { // push the revision well above what the new etcd will have
		put(t, cli, "filler", strconv.Itoa(i))
	}
	put(t, cli, "a", "http://10.0.0.1/old")
	r, l := newResolver(t, Options{Endpoints: []string{e.ClientURL()}, Timer: time.Minute, StartupTimeout: wait},
		map[string]string{"a": defA})
	waitURL(t, r, "a", "http://10.0.0.1/old")

	e = restart(t, e, func(c *devetcd.Config) { c.Dir = t.TempDir() })
	cli = admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	began := time.Now()
	put(t, cli, "a", "http://10.0.0.1/new")
	waitURLWithin(t, r, "a", "http://10.0.0.1/new", 5*time.Second)
	t.Logf("a put after the wipe routed %v after the put began", time.Since(began).Round(time.Millisecond))
	waitFor(t, "the new history logged", func() bool { return l.has("etcd revision went backwards") })

	// The new history is watched: with the timer a minute off, only the
	// watch can deliver these.
	for i := range 3 {
		u := fmt.Sprintf("http://10.0.0.1/new%d", i)
		put(t, cli, "a", u)
		waitURLWithin(t, r, "a", u, 5*time.Second)
	}
	if s := keyStatus(t, r, "a"); s.Source != SourceWatch {
		t.Fatalf("after the wipe the last change came by %s, want watch", s.Source)
	}
}

// TestAnotherClusterAtSameAddressResyncs: while the resolver is cut off,
// another etcd cluster (another cluster ID) takes the address, with a
// revision already past the one the resolver had seen, so the revision
// cannot tell. The cluster ID does: the resolver re-reads, shows the new
// cluster and follows it by watch.
func TestAnotherClusterAtSameAddressResyncs(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	put(t, cli, "a", "http://10.0.0.1/first")
	p := newProxy(t, "127.0.0.1:"+strconv.Itoa(e.Config().ClientPort))
	r, l := newResolver(t, Options{Endpoints: []string{p.URL()}, Timer: time.Hour, StartupTimeout: wait},
		map[string]string{"a": defA})
	waitURL(t, r, "a", "http://10.0.0.1/first")
	first := r.Status().Etcd

	p.cut()
	other := startEtcd(t, devetcd.Config{InitialClusterToken: "another cluster"})
	ocli := admin(t, clientv3.Config{Endpoints: []string{other.ClientURL()}})
	for i := range 10 {
		put(t, ocli, "filler", strconv.Itoa(i))
	}
	put(t, ocli, "a", "http://10.0.0.2/other")
	p.retarget("127.0.0.1:" + strconv.Itoa(other.Config().ClientPort))

	waitURL(t, r, "a", "http://10.0.0.2/other")
	waitFor(t, "the new cluster logged", func() bool { return l.has("another etcd cluster answers") })
	if s := r.Status().Etcd; s.ClusterID == "" || s.ClusterID == first.ClusterID || s.Revision <= first.Revision {
		t.Fatalf("status %+v after %+v, want another cluster ID at a higher revision", s, first)
	}
	for i := range 3 {
		u := fmt.Sprintf("http://10.0.0.2/next%d", i)
		put(t, ocli, "a", u)
		waitURL(t, r, "a", u)
	}
	if s := keyStatus(t, r, "a"); s.Source != SourceWatch {
		t.Fatalf("on the new cluster the last change came by %s, want watch", s.Source)
	}
}
