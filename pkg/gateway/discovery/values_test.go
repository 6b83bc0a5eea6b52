package discovery

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/micro-gw/micro-gw/internal/devetcd"
	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
)

// TestEtcdValueWithImpossiblePortRejected: a value whose port cannot be
// dialled (0, above 65535, empty) is unusable like any other: rejected with
// the reason in Status and the log, and the last good URL stays.
func TestEtcdValueWithImpossiblePortRejected(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	put(t, cli, "a", "http://10.0.0.1:8080/good")
	r, l := newResolver(t, Options{Endpoints: []string{e.ClientURL()}, Timer: time.Hour, StartupTimeout: wait},
		map[string]string{"a": defA})
	waitURL(t, r, "a", "http://10.0.0.1:8080/good")

	for _, bad := range []string{"http://127.0.0.1:99999/v2", "http://127.0.0.1:0/v2", "http://127.0.0.1:65536/v2", "http://127.0.0.1:/v2"} {
		rev := put(t, cli, "a", bad)
		waitFor(t, "rejection of "+bad, func() bool {
			rej := keyStatus(t, r, "a").Rejected
			return rej != nil && rej.ModRevision == rev
		})
		rej := keyStatus(t, r, "a").Rejected
		if rej.Value != bad || !strings.Contains(rej.Reason, "a port is 1 to 65535") {
			t.Errorf("rejection of %s: %+v, want the value and the port rule", bad, rej)
		}
		if got := r.Binding("a").Load().Raw; got != "http://10.0.0.1:8080/good" {
			t.Fatalf("after %s, a routes to %s, want the last good URL", bad, got)
		}
		if !l.has("ignoring unusable etcd value", "key=a", bad) {
			t.Errorf("no warning naming %s", bad)
		}
	}
}

// TestEtcdURLWithPasswordRefused: a user and password in --etcdurl are
// never used by etcd's client, and would show in logs and /status: they
// are refused with an error that points to the right flags and does not
// repeat the password.
func TestEtcdURLWithPasswordRefused(t *testing.T) {
	def, _ := endpoint.Parse(defA)
	for _, u := range []string{"http://user:secret@127.0.0.1:2379", "https://user:secret@etcd:2379", "http://secret@127.0.0.1:2379"} {
		for name, check := range map[string]func() error{
			"New": func() error {
				_, err := New(Options{Endpoints: []string{"http://127.0.0.1:2379", u}}, map[string]*endpoint.Target{"a": def})
				return err
			},
			"CheckEndpoints": func() error { return CheckEndpoints([]string{u}) },
		} {
			err := check()
			if err == nil {
				t.Fatalf("%s accepted --etcdurl=%s", name, u)
			}
			msg := err.Error()
			if strings.Contains(msg, "secret") {
				t.Errorf("%s: error %q repeats the password", name, msg)
			}
			for _, want := range []string{"--etcdurl", "--etcdusername", "--etcdpassword-file", "xxxxx@"} {
				if !strings.Contains(msg, want) {
					t.Errorf("%s: error %q does not name %s", name, msg, want)
				}
			}
		}
	}
	// The other rules of member URLs hold with CheckEndpoints too.
	for _, bad := range []string{"http://127.0.0.1:99999", "http://127.0.0.1:0", "http://:2379", "http://127.0.0.1:2379/v3", "ftp://u:secret@h:1"} {
		err := CheckEndpoints([]string{bad})
		if err == nil || strings.Contains(err.Error(), "secret") {
			t.Errorf("CheckEndpoints(%s): %v", bad, err)
		}
	}
}

// TestCredentialsRedactedInStatusAndLogs: an etcd value carrying a user
// and password is rejected (the proxy never sends credentials it was not
// given by a definition), and neither the log nor Status (the admin
// /status) shows the password: both show the URL redacted.
func TestCredentialsRedactedInStatusAndLogs(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}})
	r, l := newResolver(t, Options{Endpoints: []string{e.ClientURL()}, Timer: time.Hour, StartupTimeout: wait},
		map[string]string{"a": defA})

	for bad, shown := range map[string]string{
		"http://u:secret@backend/v2":       "http://u:xxxxx@backend/v2",
		"http://u:secret@backend:99999/v2": "http://u:xxxxx@backend:99999/v2",
		"http://u:secret@back end/v2":      "http://u:xxxxx@back end/v2",
	} {
		rev := put(t, cli, "a", bad)
		waitFor(t, "rejection of "+shown, func() bool {
			rej := keyStatus(t, r, "a").Rejected
			return rej != nil && rej.ModRevision == rev
		})
		if rej := keyStatus(t, r, "a").Rejected; rej.Value != shown {
			t.Errorf("Status shows the rejected value as %q, want %q", rej.Value, shown)
		}
		if !l.has("ignoring unusable etcd value", shown) {
			t.Errorf("no warning showing %s", shown)
		}
	}
	status, err := json.Marshal(r.Status())
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(status), "secret") {
		t.Errorf("Status shows a password: %s", status)
	}
	if strings.Contains(l.String(), "secret") {
		t.Errorf("the log shows a password:\n%s", l)
	}
	if got := r.Binding("a").Load().Raw; got != defA {
		t.Errorf("a routes to %s, want the default", got)
	}
}
