// Package devetcd starts a real etcd server in-process, on 127.0.0.1 with
// free ports, for tests, `micro-gw dev` and `make demo`.
//
// It wraps go.etcd.io/etcd/server/v3/embed: Start returns once the member
// is ready to serve (or fails after Config.ReadyTimeout), Close stops it and
// waits for it. A Server's Config holds the ports it actually uses, so a
// stopped member can be started again on the same address, with the same
// data directory (a restart) or an empty one (a wiped etcd). StartCluster
// starts several members that form one cluster.
//
// Clients reach a member through a small relay on its client port, which
// Close cuts at once, as if etcd were killed: etcd's own graceful stop waits
// up to its request timeout (7 s) for open watch streams. Peers reach it
// through another relay on its peer port. The relays own the public ports,
// listened on from the start (port 0 picks a free one); etcd itself listens
// on ports the system picks when it binds them. So no port is chosen free
// and bound later, which another process could take in between. etcd's
// HTTP/JSON gateway is off (it would dial etcd's inner address): clients
// speak gRPC, and /health is served.
//
// This package imports the etcd server; it must never be imported from
// non-test files under pkg/gateway.
package devetcd

import (
	"context"
	"errors"
	"fmt"
	"github.com/micro-gw/micro-gw/internal/loopback"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"go.etcd.io/etcd/server/v3/embed"
	"go.uber.org/zap"
)

// Config describes one etcd member.
type Config struct {
	// Dir is the data directory (required). It is created if missing.
	Dir string
	// Name is the member name; default "default".
	Name string
	// ClientPort and PeerPort are the ports on 127.0.0.1; 0 picks a free one.
	ClientPort, PeerPort int
	// InitialCluster is "name=peerURL,..." for a cluster; empty means this
	// member alone. InitialClusterToken names the cluster (default "devetcd").
	InitialCluster, InitialClusterToken string
	// LogLevel is etcd's zap log level written to stderr (debug, info, warn,
	// error); empty discards etcd's logs.
	LogLevel string
	// AuthTokenTTL is the lifetime of simple auth tokens in seconds
	// (etcd's --auth-token-ttl); 0 keeps etcd's default of 300.
	AuthTokenTTL uint
	// TLS, if set, serves clients over https.
	TLS *TLS
	// ReadyTimeout bounds the wait for the member to be ready; default 20s.
	ReadyTimeout time.Duration
}

// TLS names the PEM files for the client listener.
type TLS struct {
	CertFile, KeyFile string
	// CAFile, if set, makes etcd require a client certificate signed by
	// this CA (etcd's --trusted-ca-file turns client-certificate auth on).
	CAFile string
}

// Server is a running etcd member.
type Server struct {
	cfg    Config
	e      *embed.Etcd
	client *loopback.Forwarder
	peer   *loopback.Forwarder
	once   sync.Once
	closed atomic.Bool
}

// Start starts an etcd member and waits until it serves clients. ctx bounds
// the wait as well as Config.ReadyTimeout.
func Start(ctx context.Context, cfg Config) (*Server, error) {
	if cfg.Dir == "" {
		return nil, errors.New("devetcd: a data directory is required")
	}
	if cfg.Name == "" {
		cfg.Name = "default"
	}
	f, err := listenFront(&cfg)
	if err != nil {
		return nil, err
	}
	s, err := start(ctx, cfg, f)
	if err != nil {
		f.close()
	}
	return s, err
}

// front holds a member's public client and peer listeners.
type front struct{ client, peer net.Listener }

func (f front) close() {
	for _, l := range []net.Listener{f.client, f.peer} {
		if l != nil {
			l.Close()
		}
	}
}

// listenFront listens on c's client and peer ports on 127.0.0.1 (0 picks a
// free port) and records the ports it got in c.
func listenFront(c *Config) (front, error) {
	var f front
	var err error
	if f.client, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(c.ClientPort)); err != nil {
		return f, fmt.Errorf("devetcd: listen for clients: %w", err)
	}
	if f.peer, err = net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(c.PeerPort)); err != nil {
		f.close()
		return front{}, fmt.Errorf("devetcd: listen for peers: %w", err)
	}
	c.ClientPort = f.client.Addr().(*net.TCPAddr).Port
	c.PeerPort = f.peer.Addr().(*net.TCPAddr).Port
	return f, nil
}

// FreePort returns a TCP port on 127.0.0.1 that was free a moment ago.
//
// Deprecated: another process may take the port before it is bound again;
// listen on 127.0.0.1:0 and pass the listener or the port it got instead.
// Start and StartCluster pick their ports that way.
func FreePort() (int, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, fmt.Errorf("devetcd: find a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port, nil
}

// start starts the member behind relays on f's listeners. On failure the
// caller closes f (closing a listener twice is harmless).
func start(ctx context.Context, c Config, f front) (*Server, error) {
	if c.InitialClusterToken == "" {
		c.InitialClusterToken = "devetcd"
	}
	if c.ReadyTimeout <= 0 {
		c.ReadyTimeout = 20 * time.Second
	}
	if err := os.MkdirAll(c.Dir, 0o700); err != nil {
		return nil, fmt.Errorf("devetcd: create data dir: %w", err)
	}
	ec := embed.NewConfig()
	ec.Name = c.Name
	ec.Dir = c.Dir
	scheme := "http"
	if c.TLS != nil {
		scheme = "https"
		ec.ClientTLSInfo.CertFile = c.TLS.CertFile
		ec.ClientTLSInfo.KeyFile = c.TLS.KeyFile
		ec.ClientTLSInfo.TrustedCAFile = c.TLS.CAFile
		ec.ClientTLSInfo.ClientCertAuth = c.TLS.CAFile != ""
	}
	// etcd listens on ports the system picks; the world sees the relays'.
	purl := url.URL{Scheme: "http", Host: "127.0.0.1:" + strconv.Itoa(c.PeerPort)}
	ec.ListenClientUrls = []url.URL{{Scheme: scheme, Host: "127.0.0.1:0"}}
	ec.AdvertiseClientUrls = []url.URL{{Scheme: scheme, Host: "127.0.0.1:" + strconv.Itoa(c.ClientPort)}}
	ec.ListenPeerUrls = []url.URL{{Scheme: "http", Host: "127.0.0.1:0"}}
	ec.AdvertisePeerUrls = []url.URL{purl}
	ec.EnableGRPCGateway = false
	ec.InitialCluster = c.InitialCluster
	if ec.InitialCluster == "" {
		ec.InitialCluster = c.Name + "=" + purl.String()
	}
	ec.InitialClusterToken = c.InitialClusterToken
	if c.AuthTokenTTL > 0 {
		ec.AuthTokenTTL = c.AuthTokenTTL
	}
	// bcrypt's minimum cost (bcrypt.MinCost): a development etcd checks a
	// password in a millisecond instead of a tenth of a second.
	ec.BcryptCost = 4
	if c.LogLevel == "" {
		ec.ZapLoggerBuilder = embed.NewZapLoggerBuilder(zap.NewNop())
	} else {
		ec.LogLevel = c.LogLevel
		ec.LogOutputs = []string{"stderr"}
	}

	e, err := embed.StartEtcd(ec)
	if err != nil {
		return nil, fmt.Errorf("devetcd: start etcd member %q: %w", c.Name, err)
	}
	// Peers may need this member before it is ready (to elect a leader);
	// clients wait in the client listener's queue until it is.
	peer := loopback.Forward(f.peer, e.Peers[0].Addr().String())
	timer := time.NewTimer(c.ReadyTimeout)
	defer timer.Stop()
	select {
	case <-e.Server.ReadyNotify():
		return &Server{cfg: c, e: e, peer: peer, client: loopback.Forward(f.client, e.Clients[0].Addr().String())}, nil
	case err = <-e.Err():
		err = fmt.Errorf("devetcd: etcd member %q failed: %w", c.Name, err)
	case <-timer.C:
		err = fmt.Errorf("devetcd: etcd member %q not ready after %v", c.Name, c.ReadyTimeout)
	case <-ctx.Done():
		err = fmt.Errorf("devetcd: waiting for etcd member %q: %w", c.Name, ctx.Err())
	}
	e.Close()
	peer.Close()
	return nil, err
}

// ClientURL is the URL clients connect to, e.g. http://127.0.0.1:23790.
func (s *Server) ClientURL() string {
	scheme := "http"
	if s.cfg.TLS != nil {
		scheme = "https"
	}
	return scheme + "://127.0.0.1:" + strconv.Itoa(s.cfg.ClientPort)
}

// Config returns the member's configuration with the ports it uses. Start
// it again to restart the member at the same address.
func (s *Server) Config() Config { return s.cfg }

// Close cuts every client connection, stops the member and waits for it.
// Peer connections stay until etcd has stopped, so that a stopping leader
// can hand its leadership over. It may be called more than once.
func (s *Server) Close() {
	s.once.Do(func() {
		s.closed.Store(true)
		s.client.Close()
		s.e.Close()
		s.peer.Close()
	})
}

// Cluster is a set of members forming one etcd cluster.
type Cluster struct {
	Members []*Server
}

// StartCluster starts size members named m0, m1, ... with data directories
// under dir, built from base (its Name, Dir, ports and InitialCluster are
// replaced), and waits until all of them serve.
func StartCluster(ctx context.Context, dir string, size int, base Config) (*Cluster, error) {
	cfgs := make([]Config, size)
	fronts := make([]front, size)
	peers := make([]string, size)
	closeFronts := func() {
		for _, f := range fronts {
			f.close()
		}
	}
	for i := range cfgs {
		c := base
		c.Name = "m" + strconv.Itoa(i)
		c.Dir = filepath.Join(dir, c.Name)
		c.ClientPort, c.PeerPort = 0, 0
		var err error
		if fronts[i], err = listenFront(&c); err != nil {
			closeFronts()
			return nil, err
		}
		cfgs[i] = c
		peers[i] = c.Name + "=http://127.0.0.1:" + strconv.Itoa(c.PeerPort)
	}
	// Members wait for each other to elect a leader, so they start together.
	cl := &Cluster{Members: make([]*Server, size)}
	errs := make([]error, size)
	var wg sync.WaitGroup
	for i := range cfgs {
		cfgs[i].InitialCluster = strings.Join(peers, ",")
		wg.Go(func() {
			cl.Members[i], errs[i] = start(ctx, cfgs[i], fronts[i])
			if errs[i] != nil {
				fronts[i].close()
			}
		})
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		cl.Close()
		return nil, err
	}
	return cl, nil
}

// ClientURLs lists every member's client URL.
func (c *Cluster) ClientURLs() []string {
	urls := make([]string, len(c.Members))
	for i, m := range c.Members {
		urls[i] = m.ClientURL()
	}
	return urls
}

// Close stops every member, the leader last: a leader that stops hands
// its leadership to a live follower, and waits for long if all are stopping.
func (c *Cluster) Close() {
	var leader *Server
	for _, m := range c.Members {
		if m == nil || m.closed.Load() {
			continue
		}
		if m.e.Server.Leader() == m.e.Server.MemberID() && leader == nil {
			leader = m
			continue
		}
		m.Close()
	}
	if leader != nil {
		leader.Close()
	}
}
