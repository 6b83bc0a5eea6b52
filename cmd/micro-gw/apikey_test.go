package main

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/micro-gw/micro-gw/internal/devetcd"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth/etcdstore"
	"github.com/micro-gw/micro-gw/pkg/gateway/discovery"
)

// authEtcd is a real etcd, a client of it, and the gateway's store
// watching it, for the apikey and revoke commands' tests.
type authEtcd struct {
	url   string
	cli   *clientv3.Client
	store *etcdstore.Store
}

func startAuthEtcd(t *testing.T) *authEtcd {
	t.Helper()
	e, err := devetcd.Start(context.Background(), devetcd.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{e.ClientURL()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	r, err := discovery.New(discovery.Options{Endpoints: []string{e.ClientURL()}, Timer: time.Hour, StartupTimeout: 10 * time.Second,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}, nil)
	if err != nil {
		t.Fatal(err)
	}
	s, err := etcdstore.New(r, etcdstore.Options{Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	r.Start(context.Background())
	t.Cleanup(func() { r.Close() })
	return &authEtcd{url: e.ClientURL(), cli: cli, store: s}
}

// waitFor polls cond, a cheap read of the store, until it holds.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// revisionIn reads the "etcd revision N" a command printed.
func revisionIn(t *testing.T, out string) int64 {
	t.Helper()
	_, after, ok := strings.Cut(out, "etcd revision ")
	var rev int64
	if !ok {
		t.Fatalf("no etcd revision in %q", out)
	}
	for _, c := range after {
		if c < '0' || c > '9' {
			break
		}
		rev = rev*10 + int64(c-'0')
	}
	return rev
}

// micro runs the CLI in-process and returns its exit code and streams.
func micro(args ...string) (code int, stdout, stderr string) {
	var out, errb bytes.Buffer
	code = run(args, strings.NewReader(""), &out, &errb)
	return code, out.String(), errb.String()
}

// TestAPIKeyCreateListRevoke: a created key is printed once and works at
// the gateway's store; list names it by id and never shows the key; revoke
// by id refuses it; revoking it again says it is gone.
func TestAPIKeyCreateListRevoke(t *testing.T) {
	a := startAuthEtcd(t)
	code, out, errOut := micro("apikey", "create", "--etcdurl="+a.url, "--app=shop", "--key-type=sandbox", "--apis=Petstore,Bookstore", "--expires=720h", "--tier=Gold")
	if code != 0 {
		t.Fatalf("create: exit %d: %s", code, errOut)
	}
	key := strings.TrimSpace(out)
	if !strings.HasPrefix(key, apiKeyPrefix) || len(key) != len(apiKeyPrefix)+43 || strings.Contains(key, "\n") {
		t.Fatalf("create printed %q, want the key alone: mgw_ and 43 base64url characters", out)
	}
	id := etcdstore.Hash([]byte(key))[:etcdstore.IDLen]
	if !strings.Contains(errOut, id) || !strings.Contains(errOut, "only time the key is shown") {
		t.Fatalf("create's note %q must name the id and say the key cannot be shown again", errOut)
	}
	var p *auth.Principal
	waitFor(t, "the created key at the store", func() bool { var ok bool; p, ok = a.store.LookupKey([]byte(key)); return ok })
	if p.Subject != "shop" || p.KeyType != auth.Sandbox || p.Application.Tier != "Gold" || !p.AllowsAPI("Bookstore") || p.AllowsAPI("Other") {
		t.Fatalf("principal %+v, want shop, SANDBOX, Gold, Petstore and Bookstore only", p)
	}
	if d := time.Until(p.Expires); d < 719*time.Hour || d > 720*time.Hour {
		t.Fatalf("expires in %v, want 720h", d)
	}
	resp, err := a.cli.Get(context.Background(), "", clientv3.WithPrefix())
	if err != nil {
		t.Fatal(err)
	}
	for _, kv := range resp.Kvs {
		if strings.Contains(string(kv.Key)+string(kv.Value), key) {
			t.Fatalf("etcd holds the key itself at %s", kv.Key)
		}
	}

	code, out, errOut = micro("apikey", "list", "--etcdurl="+a.url)
	if code != 0 || !strings.Contains(out, id) || !strings.Contains(out, "shop") || !strings.Contains(out, "SANDBOX") ||
		!strings.Contains(out, "Petstore,Bookstore") || strings.Contains(out, key) {
		t.Fatalf("list: exit %d, %q %q: want the id, application, key type and APIs, never the key", code, out, errOut)
	}

	code, out, errOut = micro("apikey", "revoke", "--etcdurl="+a.url, id)
	if code != 0 {
		t.Fatalf("revoke: exit %d: %s", code, errOut)
	}
	rev := revisionIn(t, out)
	waitFor(t, "the revocation at the store", func() bool { k, _ := a.store.Revisions(); return k >= rev })
	if _, ok := a.store.LookupKey([]byte(key)); ok {
		t.Fatal("a revoked key is accepted")
	}
	if code, _, errOut = micro("apikey", "revoke", "--etcdurl="+a.url, id); code != 1 || !strings.Contains(errOut, "no API key has the id") {
		t.Fatalf("revoking again: exit %d, %q; want 1 and that no key has the id", code, errOut)
	}
}

// TestAPIKeyRevokeByKey: the key itself names what to revoke.
func TestAPIKeyRevokeByKey(t *testing.T) {
	a := startAuthEtcd(t)
	_, out, _ := micro("apikey", "create", "--etcdurl="+a.url, "--app=shop")
	key := strings.TrimSpace(out)
	waitFor(t, "the created key", func() bool { _, ok := a.store.LookupKey([]byte(key)); return ok })
	code, out, errOut := micro("apikey", "revoke", "--etcdurl="+a.url, key)
	if code != 0 {
		t.Fatalf("revoke: exit %d: %s", code, errOut)
	}
	rev := revisionIn(t, out)
	waitFor(t, "the revocation", func() bool { k, _ := a.store.Revisions(); return k >= rev })
	if _, ok := a.store.LookupKey([]byte(key)); ok {
		t.Fatal("a key revoked by itself is accepted")
	}
}

// TestAPIKeyCreateRefusesBadFlags: each bad flag is named.
func TestAPIKeyCreateRefusesBadFlags(t *testing.T) {
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--app=shop"}, "--etcdurl is required"},
		{[]string{"--etcdurl=http://127.0.0.1:1"}, "--app is required"},
		{[]string{"--etcdurl=http://127.0.0.1:1", "--app=a", "--key-type=GOLD"}, "--key-type"},
		{[]string{"--etcdurl=http://127.0.0.1:1", "--app=a", "--expires=-1h"}, "--expires"},
	} {
		code, _, errOut := micro(append([]string{"apikey", "create"}, c.args...)...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want %d naming %s", c.args, code, errOut, exitUsage, c.want)
		}
	}
}

// TestEtcdFlagsRefusePasswordInURL: a password in --etcdurl is refused, as
// the gateway refuses it, without showing it.
func TestEtcdFlagsRefusePasswordInURL(t *testing.T) {
	for _, args := range [][]string{
		{"apikey", "list", "--etcdurl=http://root:hunter2@127.0.0.1:2379"},
		{"revoke", "--etcdurl=http://root:hunter2@127.0.0.1:2379", "some-jti"},
	} {
		code, _, errOut := micro(args...)
		if code == 0 || !strings.Contains(errOut, "--etcdurl") || !strings.Contains(errOut, "--etcdpassword-file") || strings.Contains(errOut, "hunter2") {
			t.Errorf("%v: exit %d, %q; want a refusal naming --etcdurl and --etcdpassword-file, without the password", args, code, errOut)
		}
	}
}

// jwt builds an unsigned-looking token with these claims: revoke reads the
// payload and never the signature.
func jwt(t *testing.T, claims map[string]any) string {
	t.Helper()
	b, err := json.Marshal(claims)
	if err != nil {
		t.Fatal(err)
	}
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(`{"alg":"RS256","typ":"JWT"}`)) + "." + enc(b) + "." + enc([]byte("signature"))
}

// leaseTTL returns the remaining TTL of the lease on key.
func leaseTTL(t *testing.T, cli *clientv3.Client, key string) time.Duration {
	t.Helper()
	resp, err := cli.Get(context.Background(), key)
	if err != nil || len(resp.Kvs) != 1 {
		t.Fatalf("get %s: %v (%d keys)", key, err, len(resp.Kvs))
	}
	ttl, err := cli.TimeToLive(context.Background(), clientv3.LeaseID(resp.Kvs[0].Lease))
	if err != nil {
		t.Fatal(err)
	}
	return time.Duration(ttl.TTL) * time.Second
}

// TestRevokeTokenUntilItExpires: a token's jti is revoked under a lease
// that ends when the token does (plus the clock skew the gateway allows),
// and the gateway's store sees it.
func TestRevokeTokenUntilItExpires(t *testing.T) {
	a := startAuthEtcd(t)
	tok := jwt(t, map[string]any{"jti": "tok-1", "exp": time.Now().Add(time.Hour).Unix(), "sub": "alice"})
	code, out, errOut := micro("revoke", "--etcdurl="+a.url, tok)
	if code != 0 {
		t.Fatalf("revoke: exit %d: %s", code, errOut)
	}
	rev := revisionIn(t, out)
	waitFor(t, "the revocation at the store", func() bool { _, r := a.store.Revisions(); return r >= rev })
	if !a.store.Revoked("tok-1") {
		t.Fatal("the revoked token's jti is not revoked at the store")
	}
	// Until exp plus the largest clock skew a gateway accepts: a gateway
	// run with --jwt-clock-skew=10m still accepts the token that long.
	if ttl := leaseTTL(t, a.cli, "micro-gw/revoked/tok-1"); ttl < time.Hour+auth.MaxClockSkew-10*time.Second || ttl > time.Hour+auth.MaxClockSkew+10*time.Second {
		t.Fatalf("lease TTL %v, want the token's remaining hour plus the 10m largest skew", ttl)
	}
	if strings.Contains(out+errOut, tok) {
		t.Fatal("the token is printed")
	}
}

// TestRevokeBareJTIUsesTTL: a bare jti is revoked for --ttl.
func TestRevokeBareJTIUsesTTL(t *testing.T) {
	a := startAuthEtcd(t)
	code, out, errOut := micro("revoke", "--etcdurl="+a.url, "--ttl=90s", "jti-42")
	if code != 0 {
		t.Fatalf("revoke: exit %d: %s", code, errOut)
	}
	rev := revisionIn(t, out)
	waitFor(t, "the revocation", func() bool { _, r := a.store.Revisions(); return r >= rev })
	if !a.store.Revoked("jti-42") {
		t.Fatal("the jti is not revoked")
	}
	if ttl := leaseTTL(t, a.cli, "micro-gw/revoked/jti-42"); ttl < 80*time.Second || ttl > 90*time.Second {
		t.Fatalf("lease TTL %v, want 90s", ttl)
	}
}

// TestRevokeExpiredTokenDoesNothing: an expired token needs no revocation:
// revoke says so, writes nothing and succeeds.
func TestRevokeExpiredTokenDoesNothing(t *testing.T) {
	a := startAuthEtcd(t)
	tok := jwt(t, map[string]any{"jti": "old", "exp": time.Now().Add(-time.Hour).Unix()})
	code, out, errOut := micro("revoke", "--etcdurl="+a.url, tok)
	if code != 0 || !strings.Contains(out, "expired") {
		t.Fatalf("exit %d, %q %q; want 0 and that the token expired", code, out, errOut)
	}
	resp, err := a.cli.Get(context.Background(), "micro-gw/revoked/", clientv3.WithPrefix())
	if err != nil || len(resp.Kvs) != 0 {
		t.Fatalf("etcd holds %d revocations (%v), want none", len(resp.Kvs), err)
	}
}

// TestRevokeRefusesBadInput: each bad input is named, with what to do.
func TestRevokeRefusesBadInput(t *testing.T) {
	future := time.Now().Add(time.Hour).Unix()
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"jti"}, "--etcdurl is required"},
		{[]string{"--etcdurl=http://127.0.0.1:1", jwt(t, map[string]any{"exp": future})}, "no jti claim"},
		{[]string{"--etcdurl=http://127.0.0.1:1", "a.!!!.c"}, "base64url"},
		{[]string{"--etcdurl=http://127.0.0.1:1", "--ttl=1h", jwt(t, map[string]any{"jti": "x", "exp": future})}, "leave --ttl out"},
		{[]string{"--etcdurl=http://127.0.0.1:1", "--ttl=0s", "jti"}, "--ttl"},
		{[]string{"--etcdurl=http://127.0.0.1:1"}, "one token or jti"},
	} {
		code, _, errOut := micro(append([]string{"revoke"}, c.args...)...)
		if code != exitUsage || !strings.Contains(errOut, c.want) {
			t.Errorf("%v: exit %d, %q; want %d naming %q", c.args, code, errOut, exitUsage, c.want)
		}
	}
}
