package discovery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	pb "go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"

	"github.com/micro-gw/micro-gw/internal/devetcd"
)

// enableAuth creates the root user and turns etcd's auth on; it returns a
// client logged in as root.
func enableAuth(t *testing.T, url, password string) *clientv3.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	cli := admin(t, clientv3.Config{Endpoints: []string{url}})
	if _, err := cli.UserAdd(ctx, "root", password); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.UserGrantRole(ctx, "root", "root"); err != nil {
		t.Fatal(err)
	}
	if _, err := cli.AuthEnable(ctx); err != nil {
		t.Fatal(err)
	}
	return admin(t, clientv3.Config{Endpoints: []string{url}, Username: "root", Password: password})
}

// TestShortTokenTTL covers simple tokens that expire after 1 s: after the
// resolver's token expired, twice, and across an etcd restart that forgets
// every token, changes still arrive by watch. The timer is far off, so it cannot refresh the
// token nor deliver the change (etcd #11954, Traefik #11941).
func TestShortTokenTTL(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: waits out etcd's token expiry three times")
	}
	e := startEtcd(t, devetcd.Config{AuthTokenTTL: 1})
	cli := enableAuth(t, e.ClientURL(), "secret")
	r, _ := newResolver(t, Options{Endpoints: []string{e.ClientURL()}, Username: "root", Password: "secret",
		Timer: time.Hour, StartupTimeout: wait}, map[string]string{"a": defA})
	put(t, cli, "a", "http://10.0.0.1/0")
	waitURL(t, r, "a", "http://10.0.0.1/0")

	for i := 1; i <= 2; i++ {
		waitTokenExpiry(t, e.ClientURL(), "secret") // the resolver idle meanwhile
		u := "http://10.0.0.1/" + strconv.Itoa(i)
		put(t, cli, "a", u)
		waitURL(t, r, "a", u)
		if s := keyStatus(t, r, "a"); s.Source != SourceWatch {
			t.Fatalf("after the tokens expired the change came by %s, want watch", s.Source)
		}
	}

	e = restartAndWaitReread(t, r, e) // a restart forgets every token
	waitTokenExpiry(t, e.ClientURL(), "secret")
	cli = admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}, Username: "root", Password: "secret"})
	put(t, cli, "a", "http://10.0.0.1/restarted")
	waitURL(t, r, "a", "http://10.0.0.1/restarted")
	if s := keyStatus(t, r, "a"); s.Source != SourceWatch {
		t.Fatalf("after the restart the change came by %s, want watch", s.Source)
	}
}

// TestWrongCredentials covers semantic 11: a clear error, the defaults, no
// crash, and retries that succeed once etcd accepts the credentials.
func TestWrongCredentials(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := enableAuth(t, e.ClientURL(), "secret")
	put(t, cli, "a", "http://10.0.0.1/a")
	r, l := newResolver(t, Options{Endpoints: []string{e.ClientURL()}, Username: "root", Password: "wrong",
		Timer: time.Hour, StartupTimeout: wait}, map[string]string{"a": defA})
	if got := r.Binding("a").Load().Raw; got != defA {
		t.Fatalf("with wrong credentials a routes to %s, want the default", got)
	}
	if !l.has("level=ERROR", "--etcdusername/--etcdpassword") {
		t.Fatal("no error log naming the credential flags")
	}
	if s := r.Status().Etcd; s.Connected || s.LastError == "" {
		t.Fatalf("status %+v, want an error", s)
	}

	// The resolver keeps trying: once the password it has becomes right,
	// it connects.
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	if _, err := cli.UserChangePassword(ctx, "root", "wrong"); err != nil {
		t.Fatal(err)
	}
	waitURL(t, r, "a", "http://10.0.0.1/a")
}

// TestNoCredentialsForAuthEnabledEtcd: etcd wants a user, none is given.
func TestNoCredentialsForAuthEnabledEtcd(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := enableAuth(t, e.ClientURL(), "secret")
	put(t, cli, "a", "http://10.0.0.1/a")
	r, l := newResolver(t, Options{Endpoints: []string{e.ClientURL()}, StartupTimeout: wait}, map[string]string{"a": defA})
	if got := r.Binding("a").Load().Raw; got != defA {
		t.Fatalf("a routes to %s, want the default", got)
	}
	if !l.has("level=ERROR", "give --etcdusername and --etcdpassword") {
		t.Fatal("no error log asking for credentials")
	}
}

// TestTLS covers https with the CA given, and client-certificate auth.
func TestTLS(t *testing.T) {
	c := makeCerts(t)
	for _, mtls := range []bool{false, true} {
		t.Run("client-cert="+strconv.FormatBool(mtls), func(t *testing.T) {
			srv := &devetcd.TLS{CertFile: c.ServerCert, KeyFile: c.ServerKey}
			if mtls {
				srv.CAFile = c.CA
			}
			e := startEtcd(t, devetcd.Config{TLS: srv})
			cli := admin(t, clientv3.Config{Endpoints: []string{e.ClientURL()}, TLS: clientTLS(t, c)})
			put(t, cli, "a", "https://10.0.0.1/a")

			opts := Options{Endpoints: []string{e.ClientURL()}, CACert: c.CA, Timer: time.Hour, StartupTimeout: wait}
			if mtls {
				opts.Cert, opts.Key = c.ClientCert, c.ClientKey
			}
			r, _ := newResolver(t, opts, map[string]string{"a": defA})
			if got := r.Binding("a").Load().Raw; got != "https://10.0.0.1/a" {
				t.Fatalf("a routes to %s", got)
			}
			put(t, cli, "a", "https://10.0.0.1/b")
			waitURL(t, r, "a", "https://10.0.0.1/b")

			if !mtls { // without the CA, etcd's certificate is not trusted
				untrusting, _ := newResolver(t, Options{Endpoints: []string{e.ClientURL()}, StartupTimeout: 500 * time.Millisecond},
					map[string]string{"a": defA})
				if err := untrusting.Status().Etcd.LastError; !strings.Contains(err, "certificate") {
					t.Fatalf("error without the CA: %q, want one about the certificate", err)
				}
			}
			if mtls { // without the client certificate etcd refuses
				bare, _ := newResolver(t, Options{Endpoints: []string{e.ClientURL()}, CACert: c.CA, StartupTimeout: 500 * time.Millisecond},
					map[string]string{"a": defA})
				if got := bare.Binding("a").Load().Raw; got != defA {
					t.Fatalf("without a client certificate a routes to %s", got)
				}
				if err := bare.Status().Etcd.LastError; !strings.Contains(err, "certificate") {
					t.Fatalf("error without a client certificate: %q, want one about the certificate", err)
				}
			}
		})
	}
}

func clientTLS(t *testing.T, c certs) *tls.Config {
	t.Helper()
	pem, err := os.ReadFile(c.CA)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(pem)
	cert, err := tls.LoadX509KeyPair(c.ClientCert, c.ClientKey)
	if err != nil {
		t.Fatal(err)
	}
	return &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{cert}}
}

// TestClusterMemberDown covers semantic 11: with three members listed,
// stopping any one of them (leader or not, the one the watch uses or not)
// keeps changes flowing, by watch.
func TestClusterMemberDown(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: starts a three-member etcd cluster")
	}
	cl, err := devetcd.StartCluster(context.Background(), t.TempDir(), 3, devetcd.Config{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(cl.Close)
	r, _ := newResolver(t, Options{Endpoints: cl.ClientURLs(), Timer: time.Hour, StartupTimeout: wait},
		map[string]string{"a": defA})

	for i := range cl.Members {
		cl.Members[i].Close()
		var alive []string
		for j, u := range cl.ClientURLs() {
			if j != i {
				alive = append(alive, u)
			}
		}
		cli := admin(t, clientv3.Config{Endpoints: alive})
		u := "http://10.0.0.1/without-m" + strconv.Itoa(i)
		put(t, cli, "a", u)
		waitURL(t, r, "a", u)
		cli.Close()

		m, err := devetcd.Start(context.Background(), cl.Members[i].Config())
		if err != nil {
			t.Fatal(err)
		}
		cl.Members[i] = m
	}
	put(t, admin(t, clientv3.Config{Endpoints: cl.ClientURLs()}), "a", "http://10.0.0.1/all")
	waitURL(t, r, "a", "http://10.0.0.1/all")
}

// waitTokenExpiry waits until etcd has dropped a simple token issued now,
// after every request the resolver made so far: tokens live the TTL from
// their last use, so the resolver's token has expired too. Checking a token
// refreshes it, so each check uses a token of its own, all issued at once.
func waitTokenExpiry(t *testing.T, url, password string) {
	t.Helper()
	const checks, every = 20, 250 * time.Millisecond // up to 5 s; etcd drops a token 1 to 2 s after its last use
	ctx, cancel := context.WithTimeout(context.Background(), wait)
	defer cancel()
	// A plain gRPC connection: etcd's client would retry a rejected token.
	conn, err := grpc.NewClient(strings.TrimPrefix(url, "http://"), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	auth, kv := pb.NewAuthClient(conn), pb.NewKVClient(conn)
	tokens := make([]string, checks)
	for i := range tokens {
		resp, err := auth.Authenticate(ctx, &pb.AuthenticateRequest{Name: "root", Password: password})
		if err != nil {
			t.Fatal(err)
		}
		tokens[i] = resp.Token
	}
	tick := time.NewTicker(every)
	defer tick.Stop()
	for _, tok := range tokens {
		<-tick.C
		_, err := kv.Range(metadata.AppendToOutgoingContext(ctx, rpctypes.TokenFieldNameGRPC, tok), &pb.RangeRequest{Key: []byte("a")})
		if errors.Is(rpctypes.Error(err), rpctypes.ErrInvalidAuthToken) {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
	}
	t.Fatalf("no simple token expired within %v", checks*every)
}
