package gateway

import (
	"io"
	"strings"
	"testing"
)

// TestEtcdURLWithPasswordRefusedByFlag: --etcdurl is checked where it is
// read, by discovery's one rule for member URLs, so a password in it is
// refused even when no endpoint uses etcd, without being repeated.
func TestEtcdURLWithPasswordRefusedByFlag(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	_, err := ParseConfig(nil, []string{"--etcdurl=http://127.0.0.1:2379,http://user:secret@127.0.0.1:2380"}, noEnv, io.Discard)
	if err == nil {
		t.Fatal("--etcdurl with a password accepted")
	}
	if msg := err.Error(); strings.Contains(msg, "secret") || !strings.Contains(msg, "--etcdpassword-file") {
		t.Fatalf("error %q repeats the password or does not point to --etcdpassword-file", msg)
	}
	if _, err := ParseConfig(nil, []string{"--etcdurl=http://127.0.0.1:99999"}, noEnv, io.Discard); err == nil {
		t.Fatal("--etcdurl with port 99999 accepted")
	}
}
