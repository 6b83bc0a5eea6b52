package discovery

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
	"google.golang.org/grpc"
	"google.golang.org/grpc/backoff"
	"google.golang.org/grpc/connectivity"

	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
	"github.com/micro-gw/micro-gw/pkg/gateway/settings"
)

// Sources of a key's current URL, as logged and shown in Status.
const (
	SourceDefault = "default" // never read from etcd yet
	SourceStartup = "startup" // the read in Start
	SourceWatch   = "watch"   // a watch event
	SourceTimer   = "timer"   // the periodic re-read
	SourceResync  = "resync"  // the re-read after a failure, compaction or revision going backwards
)

const (
	defaultStartup = time.Second
	// callTimeout bounds every background unary call (reads, authentication).
	callTimeout = 3 * time.Second
	// keepAlive is the client's ping interval; etcd's minimum is 5 s.
	keepAlive        = 10 * time.Second
	keepAliveTimeout = 3 * time.Second
	backoffMin       = 200 * time.Millisecond
	backoffMax       = 3 * time.Second
	// reconnectMax caps gRPC's wait between attempts to reconnect to a
	// member: with its 20% jitter, a member that is back is connected to
	// within a second (a wiped etcd, whose every reconnection is checked,
	// is then followed within a second), for one TCP connection attempt
	// per member and second while etcd is down.
	reconnectMax = 800 * time.Millisecond
	// maxTxnOps is etcd's default --max-txn-ops: Gets per read Txn.
	maxTxnOps = 128
)

// Options configures a Resolver. The fields map to the gateway's flags.
type Options struct {
	// Endpoints are the etcd members (--etcdurl), http:// or https://.
	// Empty disables discovery: every key keeps its default.
	Endpoints []string
	// Timer is the period of the re-read of every key (--etcdtimer); default 10s.
	Timer time.Duration
	// Username and Password authenticate to etcd (--etcdusername, --etcdpassword).
	Username, Password string
	// CACert, Cert and Key are PEM file paths (--etcdcacert, --etcdcert,
	// --etcdkey): the CA that signed etcd's certificate, and a client
	// certificate for etcd's client-certificate auth.
	CACert, Cert, Key string
	// StartupTimeout bounds the initial read in Start; default 1s.
	StartupTimeout time.Duration
	// Logger receives change, warning and error logs; nil uses slog.Default().
	Logger *slog.Logger
	// Observer, when set, is told of every change, rejected value and
	// watch restart as it happens (metrics); nil tells no one.
	Observer Observer
}

// Observer hears of the events that a snapshot (Status) cannot show: how
// often each happened. Its methods are called from the Resolver's
// goroutines, some with the Resolver's lock held: they must be quick and
// must not call the Resolver. Keeping it an interface keeps the metrics
// library out of this package.
type Observer interface {
	// KeyChanged is called when key's URL changes, with the source of the
	// new one (SourceStartup, SourceWatch, SourceTimer, SourceResync).
	KeyChanged(key, source string)
	// ValueRejected is called once for each unusable etcd value of key
	// (one per modification revision).
	ValueRejected(key string)
	// WatchRestarted is called when the watches end and are started anew:
	// after a failure (resync false) or for a full re-read at once
	// (resync true: compaction, a new etcd history).
	WatchRestarted(resync bool)
}

// nopObserver is the Observer of a Resolver given none.
type nopObserver struct{}

func (nopObserver) KeyChanged(string, string) {}
func (nopObserver) ValueRejected(string)      {}
func (nopObserver) WatchRestarted(bool)       {}

// Resolver follows a fixed set of etcd keys. Create it with New.
type Resolver struct {
	opts Options
	log  *slog.Logger
	cfg  clientv3.Config // without Context and DialTimeout, set per attempt
	keys []*key          // sorted by name
	byID map[string]*key
	// prefixes are followed whole (WatchPrefix), each for its sink.
	prefixes []*prefix

	startOnce sync.Once
	closeOnce sync.Once
	cancel    context.CancelFunc
	done      chan struct{} // closed when run returns; nil if never started

	// cli is used by Start and then only by the run goroutine.
	cli *clientv3.Client
	// ready rings when the client's connection becomes ready; reconnects
	// counts the times it did so after it had been ready before, and
	// readAt is that count when the last successful read began (used by
	// the run goroutine only). bg runs the goroutine that follows the
	// connection.
	ready      chan struct{}
	reconnects atomic.Int64
	readAt     int64
	bg         sync.WaitGroup

	mu          sync.Mutex // guards the fields below and every key's state
	conn        *grpc.ClientConn
	watching    bool
	lastErr     string
	lastErrAt   time.Time
	lastContact time.Time
	lastLogAt   time.Time // when a failure was last logged
	failing     bool      // the last attempt to talk to etcd failed
	maxRev      int64     // highest revision seen from etcd
	clusterID   uint64    // the etcd cluster that answered last; 0 before any answer
}

// key is one etcd key and the Binding that follows it.
type key struct {
	name string
	def  *endpoint.Target
	b    *endpoint.Binding

	// guarded by Resolver.mu
	cur       *endpoint.Target
	source    string
	isDefault bool
	changedAt time.Time
	modRev    int64     // ModRevision of the value in use; 0 for the default
	rev       int64     // revision up to which this key's state is known
	rejected  *Rejected // last unusable value
	history   history   // the last changes of cur
}

// New validates opts and prepares a Resolver for the keys in defaults,
// each mapped to its default target. It does not contact etcd.
func New(opts Options, defaults map[string]*endpoint.Target) (*Resolver, error) {
	if opts.Timer <= 0 {
		opts.Timer = time.Duration(settings.Named("etcdtimer").DefaultInt()) * time.Millisecond
	}
	if opts.StartupTimeout <= 0 {
		opts.StartupTimeout = defaultStartup
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.Observer == nil {
		opts.Observer = nopObserver{}
	}
	var eps []string
	for _, e := range opts.Endpoints {
		if e = strings.TrimSpace(e); e != "" {
			eps = append(eps, e)
		}
	}
	opts.Endpoints = eps
	r := &Resolver{opts: opts, log: opts.Logger, byID: make(map[string]*key, len(defaults)), ready: make(chan struct{}, 1)}
	for name, def := range defaults {
		if name == "" {
			return nil, errors.New("discovery: an etcd key is empty")
		}
		if def == nil {
			return nil, fmt.Errorf("discovery: etcd key %q has no default URL", name)
		}
		k := &key{name: name, def: def, b: endpoint.NewBinding(def), cur: def, source: SourceDefault, isDefault: true}
		r.keys = append(r.keys, k)
		r.byID[name] = k
	}
	sort.Slice(r.keys, func(i, j int) bool { return r.keys[i].name < r.keys[j].name })
	if len(eps) == 0 {
		return r, nil
	}
	cfg, err := clientConfig(opts)
	if err != nil {
		return nil, err
	}
	r.cfg = cfg
	return r, nil
}

// CheckEndpoints checks etcd member URLs as given to --etcdurl: the rule
// New applies, for the flag's own validation, so that a bad --etcdurl is an
// error even when no endpoint uses etcd.
func CheckEndpoints(endpoints []string) error {
	_, err := checkEndpoints(endpoints)
	return err
}

// checkEndpoints checks member URLs and returns their one scheme. A URL
// carrying a user or password is refused: etcd's client ignores it, and
// it would show in logs and /status; errors show URLs redacted.
func checkEndpoints(endpoints []string) (scheme string, err error) {
	for _, e := range endpoints {
		shown := endpoint.Redact(e)
		u, err := url.Parse(e)
		if err == nil && u.User != nil {
			return "", fmt.Errorf("--etcdurl: %q carries a user name or password, which etcd's client would ignore; "+
				"remove it and give --etcdusername with --etcdpassword-file (or the etcdpassword environment variable)", shown)
		}
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Hostname() == "" || (u.Path != "" && u.Path != "/") ||
			u.RawQuery != "" || u.Fragment != "" {
			return "", fmt.Errorf("--etcdurl: %q is not an etcd member URL like http://127.0.0.1:2379 or https://etcd:2379", shown)
		}
		if err := endpoint.CheckPort(u); err != nil {
			return "", fmt.Errorf("--etcdurl: %q %v", shown, err)
		}
		if scheme != "" && u.Scheme != scheme {
			return "", fmt.Errorf("--etcdurl: members mix http and https; use one scheme for all")
		}
		scheme = u.Scheme
	}
	return scheme, nil
}

// ClientConfig checks the connection options in opts (Endpoints, Username,
// Password, CACert, Cert, Key) as New does and returns the etcd client
// configuration the Resolver would use, for commands that talk to the same
// etcd as the gateway (micro-gw apikey, micro-gw revoke): one rule for
// TLS, credentials and member URLs. The caller sets DialTimeout and Context.
func ClientConfig(opts Options) (clientv3.Config, error) { return clientConfig(opts) }

// clientConfig checks the connection options and builds the etcd client
// configuration.
func clientConfig(opts Options) (clientv3.Config, error) {
	scheme, err := checkEndpoints(opts.Endpoints)
	if err != nil {
		return clientv3.Config{}, err
	}
	if (opts.Username == "") != (opts.Password == "") {
		return clientv3.Config{}, errors.New("--etcdusername and --etcdpassword go together: give both or neither")
	}
	cfg := clientv3.Config{
		Endpoints:            opts.Endpoints,
		Username:             opts.Username,
		Password:             opts.Password,
		DialKeepAliveTime:    keepAlive,
		DialKeepAliveTimeout: keepAliveTimeout,
		Logger:               zap.NewNop(), // the Resolver logs what matters
		DialOptions: []grpc.DialOption{grpc.WithConnectParams(grpc.ConnectParams{
			Backoff:           backoff.Config{BaseDelay: backoffMin, Multiplier: 1.6, Jitter: 0.2, MaxDelay: reconnectMax},
			MinConnectTimeout: callTimeout,
		})},
	}
	tlsSet := opts.CACert != "" || opts.Cert != "" || opts.Key != ""
	if scheme == "http" {
		if tlsSet {
			return clientv3.Config{}, errors.New("--etcdcacert, --etcdcert and --etcdkey need https:// members in --etcdurl")
		}
		return cfg, nil
	}
	tc := &tls.Config{MinVersion: tls.VersionTLS12}
	if opts.CACert != "" {
		pem, err := os.ReadFile(opts.CACert)
		if err != nil {
			return clientv3.Config{}, fmt.Errorf("--etcdcacert: %w", err)
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(pem) {
			return clientv3.Config{}, fmt.Errorf("--etcdcacert: %s holds no PEM certificate", opts.CACert)
		}
		tc.RootCAs = pool
	}
	if (opts.Cert == "") != (opts.Key == "") {
		return clientv3.Config{}, errors.New("--etcdcert and --etcdkey go together: give both or neither")
	}
	if opts.Cert != "" {
		cert, err := tls.LoadX509KeyPair(opts.Cert, opts.Key)
		if err != nil {
			return clientv3.Config{}, fmt.Errorf("--etcdcert/--etcdkey: load %s and %s: %w", opts.Cert, opts.Key, err)
		}
		tc.Certificates = []tls.Certificate{cert}
	}
	cfg.TLS = tc
	return cfg, nil
}

// Binding returns the one Binding that follows key, or nil if key was not
// given to New.
func (r *Resolver) Binding(key string) *endpoint.Binding {
	if k := r.byID[key]; k != nil {
		return k.b
	}
	return nil
}

// Start reads every key once, waiting at most Options.StartupTimeout, then
// follows etcd in the background until ctx is done or Close is called. It
// does nothing without Endpoints or without keys and prefixes, and only its
// first call has an effect.
func (r *Resolver) Start(ctx context.Context) {
	if len(r.opts.Endpoints) == 0 || (len(r.keys) == 0 && len(r.prefixes) == 0) {
		return
	}
	r.startOnce.Do(func() {
		ctx, r.cancel = context.WithCancel(ctx)
		r.done = make(chan struct{})
		err := r.startupRead(ctx)
		if err != nil {
			r.failed(err, "etcd not reachable at startup; serving default URLs and retrying in the background")
		}
		go r.run(ctx, err)
	})
}

// Close stops following etcd, waits for every goroutine the Resolver started
// and closes the etcd client. Bindings keep their last value.
func (r *Resolver) Close() error {
	r.startOnce.Do(func() {}) // a later Start does nothing
	r.closeOnce.Do(func() {
		if r.cancel != nil {
			r.cancel()
			<-r.done
		}
	})
	return nil
}

// Status is a snapshot of discovery, for the gateway's admin endpoint.
type Status struct {
	Etcd EtcdStatus  `json:"etcd"`
	Keys []KeyStatus `json:"keys"`
}

// EtcdStatus describes the connection to etcd.
type EtcdStatus struct {
	// Enabled is false when no --etcdurl was given.
	Enabled   bool     `json:"enabled"`
	Endpoints []string `json:"endpoints"`
	// Connected is true while the keys are watched and the client's
	// connection is up.
	Connected bool `json:"connected"`
	// LastError is the last failure talking to etcd, at LastErrorAt.
	LastError   string    `json:"last_error,omitempty"`
	LastErrorAt time.Time `json:"last_error_at,omitzero"`
	// LastContact is the last successful read or watch response.
	LastContact time.Time `json:"last_contact,omitzero"`
	// Revision is the highest etcd revision seen.
	Revision int64 `json:"revision"`
	// ClusterID is the ID of the etcd cluster that answered last, in hex;
	// when it changes, another cluster answers and every key is re-read.
	ClusterID string `json:"cluster_id,omitempty"`
}

// KeyStatus describes one key.
type KeyStatus struct {
	Key        string `json:"key"`
	URL        string `json:"url"`
	DefaultURL string `json:"default_url"`
	// Source is how URL was set: default, startup, watch, timer or resync.
	Source string `json:"source"`
	// UsingDefault is true when URL is the default: the key is absent from
	// etcd or was never read.
	UsingDefault bool `json:"using_default"`
	// ChangedAt is when URL last changed; zero if it never did.
	ChangedAt time.Time `json:"changed_at,omitzero"`
	// ModRevision is the etcd revision of the value in use; 0 for the default.
	ModRevision int64 `json:"mod_revision,omitempty"`
	// Rejected is the last unusable value found in etcd, if any.
	Rejected *Rejected `json:"rejected,omitempty"`
	// History is the last HistorySize changes of URL, newest first.
	History []Change `json:"history"`
}

// Rejected is an etcd value that was not an absolute http(s) URL.
type Rejected struct {
	Value       string    `json:"value"`
	Reason      string    `json:"reason"`
	ModRevision int64     `json:"mod_revision"`
	At          time.Time `json:"at"`
}

// Status returns a snapshot of the connection and of every key.
func (r *Resolver) Status() Status {
	r.mu.Lock()
	defer r.mu.Unlock()
	s := Status{Etcd: r.etcdStatus(), Keys: make([]KeyStatus, len(r.keys))}
	for i, k := range r.keys {
		ks := KeyStatus{Key: k.name, URL: k.cur.Raw, DefaultURL: k.def.Raw, Source: k.source,
			UsingDefault: k.isDefault, ChangedAt: k.changedAt, ModRevision: k.modRev}
		if k.rejected != nil {
			rej := *k.rejected
			ks.Rejected = &rej
		}
		ks.History = k.history.newestFirst()
		s.Keys[i] = ks
	}
	return s
}

// EtcdStatus returns a snapshot of the connection only, for the users of
// WatchPrefix.
func (r *Resolver) EtcdStatus() EtcdStatus {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.etcdStatus()
}

// etcdStatus describes the connection. r.mu is held.
func (r *Resolver) etcdStatus() EtcdStatus {
	s := EtcdStatus{
		Enabled:     len(r.opts.Endpoints) > 0,
		Endpoints:   append([]string{}, r.opts.Endpoints...),
		Connected:   r.watching && r.conn != nil && r.conn.GetState() == connectivity.Ready,
		LastError:   r.lastErr,
		LastErrorAt: r.lastErrAt,
		LastContact: r.lastContact,
		Revision:    r.maxRev,
	}
	if r.clusterID != 0 {
		s.ClusterID = fmt.Sprintf("%x", r.clusterID)
	}
	return s
}
