package discovery

import (
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/micro-gw/micro-gw/internal/devetcd"
	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
)

const (
	defA = "http://127.0.0.1:1/default-a"
	defB = "http://127.0.0.1:1/default-b"
	defC = "http://127.0.0.1:1/default-c"
)

func TestNewRejectsBadOptions(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.pem")
	if err := os.WriteFile(garbage, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	def, _ := endpoint.Parse(defA)
	keys := map[string]*endpoint.Target{"a": def}
	tests := []struct {
		name string
		opts Options
		keys map[string]*endpoint.Target
		want string
	}{
		{"scheme", Options{Endpoints: []string{"ftp://127.0.0.1:2379"}}, keys, "--etcdurl"},
		{"no scheme", Options{Endpoints: []string{"127.0.0.1:2379"}}, keys, "--etcdurl"},
		{"path", Options{Endpoints: []string{"http://127.0.0.1:2379/v3"}}, keys, "--etcdurl"},
		{"mixed schemes", Options{Endpoints: []string{"http://a:1", "https://b:1"}}, keys, "--etcdurl"},
		{"user without password", Options{Endpoints: []string{"http://a:1"}, Username: "root"}, keys, "--etcdpassword"},
		{"password without user", Options{Endpoints: []string{"http://a:1"}, Password: "x"}, keys, "--etcdusername"},
		{"tls on http", Options{Endpoints: []string{"http://a:1"}, CACert: garbage}, keys, "https://"},
		{"missing ca", Options{Endpoints: []string{"https://a:1"}, CACert: filepath.Join(dir, "none.pem")}, keys, "--etcdcacert"},
		{"garbage ca", Options{Endpoints: []string{"https://a:1"}, CACert: garbage}, keys, "--etcdcacert"},
		{"cert without key", Options{Endpoints: []string{"https://a:1"}, Cert: garbage}, keys, "--etcdkey"},
		{"garbage cert", Options{Endpoints: []string{"https://a:1"}, Cert: garbage, Key: garbage}, keys, "--etcdcert"},
		{"no default", Options{}, map[string]*endpoint.Target{"a": nil}, `"a"`},
		{"empty key", Options{}, map[string]*endpoint.Target{"": def}, "empty"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := New(tt.opts, tt.keys)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("New: got error %v, want one naming %s", err, tt.want)
			}
		})
	}
}

func TestNoEndpointsServesDefaults(t *testing.T) {
	r, _ := newResolver(t, Options{}, map[string]string{"a": defA})
	if got := r.Binding("a").Load().Raw; got != defA {
		t.Fatalf("a routes to %s, want the default %s", got, defA)
	}
	if r.Binding("unknown") != nil {
		t.Fatal("Binding of a key not given to New is not nil")
	}
	s := r.Status()
	if s.Etcd.Enabled || s.Keys[0].Source != SourceDefault || !s.Keys[0].UsingDefault {
		t.Fatalf("status %+v, want discovery disabled and a on its default", s)
	}
}

// TestStartupReadsEveryKey covers semantics 1, 8 and 9 at startup: a present
// key is used, an absent one and an unusable one keep the default, before
// Start returns.
func TestStartupReadsEveryKey(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	put(t, cli, "a", "http://10.0.0.1:8080/v1")
	put(t, cli, "c", "not a url")

	r, l := newResolver(t, Options{Endpoints: []string{e.ClientURL()}, StartupTimeout: wait},
		map[string]string{"a": defA, "b": defB, "c": defC})
	for key, want := range map[string]string{"a": "http://10.0.0.1:8080/v1", "b": defB, "c": defC} {
		if got := r.Binding(key).Load().Raw; got != want {
			t.Errorf("after Start, %s routes to %s, want %s", key, got, want)
		}
	}
	if r.Binding("a") != r.Binding("a") {
		t.Error("one key gave two Bindings")
	}
	a, b, c := keyStatus(t, r, "a"), keyStatus(t, r, "b"), keyStatus(t, r, "c")
	if a.Source != SourceStartup || a.UsingDefault || a.ModRevision == 0 || a.DefaultURL != defA {
		t.Errorf("status of a: %+v", a)
	}
	if b.Source != SourceDefault || !b.UsingDefault {
		t.Errorf("status of b: %+v", b)
	}
	if c.Rejected == nil || c.Rejected.Value != "not a url" || c.URL != defC {
		t.Errorf("status of c: %+v", c)
	}
	if !l.has("ignoring unusable etcd value", "key=c", `value="not a url"`) {
		t.Error("no warning naming key c and its value")
	}
	if !l.has("etcd endpoint changed", "key=a", "old="+defA, "new=http://10.0.0.1:8080/v1", "source=startup") {
		t.Error("no change log for a")
	}
	waitFor(t, "status connected", func() bool { return r.Status().Etcd.Connected })
	if _, err := json.Marshal(r.Status()); err != nil {
		t.Fatal(err)
	}
}

// TestWatchFollowsChanges covers semantics 2, 7, 8 and 10 through the watch
// alone: the timer is far off, so only the watch can deliver.
func TestWatchFollowsChanges(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	r, l := newResolver(t, Options{Endpoints: []string{e.ClientURL()}, Timer: time.Hour, StartupTimeout: wait},
		map[string]string{"a": defA, "b": defB})

	put(t, cli, "a", "http://10.0.0.1/one")
	waitURL(t, r, "a", "http://10.0.0.1/one")
	if s := keyStatus(t, r, "a"); s.Source != SourceWatch || s.ChangedAt.IsZero() {
		t.Fatalf("status after put: %+v", s)
	}
	if !l.has("etcd endpoint changed", "key=a", "old="+defA, "new=http://10.0.0.1/one", "source=watch") {
		t.Error("no info log of the change")
	}

	put(t, cli, "a", "http://10.0.0.1/two")
	waitURL(t, r, "a", "http://10.0.0.1/two")

	// Unusable values are ignored and reported; the last good URL stays.
	for _, bad := range []string{"", "ftp://10.0.0.1/x", "/relative", "http://10.0.0.1/x?q=1"} {
		rev := put(t, cli, "a", bad)
		waitFor(t, "rejection of "+bad, func() bool {
			rej := keyStatus(t, r, "a").Rejected
			return rej != nil && rej.ModRevision == rev && rej.Value == bad
		})
		if got := r.Binding("a").Load().Raw; got != "http://10.0.0.1/two" {
			t.Fatalf("after %q, a routes to %s", bad, got)
		}
		if !l.has("ignoring unusable etcd value", "key=a") {
			t.Fatalf("no warning for %q", bad)
		}
	}

	// Another key is independent.
	put(t, cli, "b", "https://10.0.0.2/b")
	waitURL(t, r, "b", "https://10.0.0.2/b")

	del(t, cli, "a")
	waitURL(t, r, "a", defA)
	if s := keyStatus(t, r, "a"); !s.UsingDefault || s.ModRevision != 0 {
		t.Fatalf("status after delete: %+v", s)
	}
	put(t, cli, "a", "http://10.0.0.1/three")
	waitURL(t, r, "a", "http://10.0.0.1/three")
	if r.Binding("b").Load().Raw != "https://10.0.0.2/b" {
		t.Fatal("b changed with a")
	}
}

// TestCloseLeavesNoGoroutine counts goroutines around a Resolver's life.
func TestCloseLeavesNoGoroutine(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	put(t, cli, "warm", "up") // the server's goroutines for the admin client exist now
	before := runtime.NumGoroutine()

	l := &logs{}
	def, _ := endpoint.Parse(defA)
	r, err := New(Options{Endpoints: []string{e.ClientURL()}, Timer: 50 * time.Millisecond, StartupTimeout: wait, Logger: newLogger(l)},
		map[string]*endpoint.Target{"a": def, "b": def, "c": def})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(t.Context())
	put(t, cli, "a", "http://10.0.0.1/a")
	waitURL(t, r, "a", "http://10.0.0.1/a")
	// Let a few timer reads run: each one is a new last contact.
	for range 3 {
		seen := r.Status().Etcd.LastContact
		waitFor(t, "a timer read", func() bool { return r.Status().Etcd.LastContact.After(seen) })
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "goroutine count back to where it was", func() bool { return runtime.NumGoroutine() <= before })
	r.Close() // twice is fine
}
