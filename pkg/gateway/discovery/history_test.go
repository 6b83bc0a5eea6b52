package discovery

import (
	"fmt"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/micro-gw/micro-gw/internal/devetcd"
)

// TestKeyHistoryKeepsLastTwentyChangesNewestFirst: Status shows each key's
// changes (old and new URL, source, revision), newest first, and keeps
// only the last HistorySize, so a key changed in a loop cannot grow memory.
// An unusable value is not a change.
func TestKeyHistoryKeepsLastTwentyChangesNewestFirst(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	r, _ := newResolver(t, Options{Endpoints: []string{e.ClientURL()}, Timer: time.Hour, StartupTimeout: wait},
		map[string]string{"a": defA})
	if h := keyStatus(t, r, "a").History; h == nil || len(h) != 0 {
		t.Fatalf("history of a key never changed: %#v, want empty and not nil (JSON [])", h)
	}

	const changes = HistorySize + 5
	revs := make([]int64, changes)
	for i := range changes {
		u := fmt.Sprintf("http://10.0.0.%d:8080/v", i+1)
		revs[i] = put(t, cli, "a", u)
		waitURL(t, r, "a", u)
	}
	put(t, cli, "a", "not a URL")
	waitFor(t, "rejection", func() bool { return keyStatus(t, r, "a").Rejected != nil })

	h := keyStatus(t, r, "a").History
	if len(h) != HistorySize {
		t.Fatalf("history holds %d changes after %d, want %d", len(h), changes, HistorySize)
	}
	for j, c := range h {
		i := changes - 1 - j // newest first
		want := fmt.Sprintf("http://10.0.0.%d:8080/v", i+1)
		old := fmt.Sprintf("http://10.0.0.%d:8080/v", i)
		if c.New != want || c.Old != old || c.Source != SourceWatch || c.ModRevision != revs[i] || c.At.IsZero() {
			t.Errorf("history[%d] = %+v, want %s -> %s from watch at revision %d", j, c, old, want, revs[i])
		}
		if j > 0 && c.At.After(h[j-1].At) {
			t.Errorf("history[%d] at %v is after history[%d] at %v: not newest first", j, c.At, j-1, h[j-1].At)
		}
	}

	del(t, cli, "a")
	waitURL(t, r, "a", defA)
	if c := keyStatus(t, r, "a").History[0]; c.New != defA || !c.Default || c.ModRevision != 0 {
		t.Errorf("after the key was deleted, newest change = %+v, want back to the default", c)
	}
}
