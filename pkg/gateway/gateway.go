// Package gateway is what every generated program runs. The
// generated main embeds its route table (a spec.Gateway as JSON) and calls
// Main; everything else, listeners, routing, proxying, discovery, the admin
// endpoint and shutdown, lives here.
//
// Run with --help for the flags; each can also be set by an environment
// variable (see ParseConfig).
package gateway

import (
	"context"
	"crypto/tls"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth/basic"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth/etcdstore"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth/jwt"
	"github.com/micro-gw/micro-gw/pkg/gateway/discovery"
	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
	"github.com/micro-gw/micro-gw/pkg/gateway/metrics"
	"github.com/micro-gw/micro-gw/pkg/gateway/proxy"
	"github.com/micro-gw/micro-gw/pkg/gateway/throttle"
	"github.com/micro-gw/micro-gw/pkg/gateway/tracing"
	"github.com/micro-gw/micro-gw/pkg/gateway/traffic"
	"github.com/micro-gw/micro-gw/pkg/spec"
	"github.com/valyala/fasthttp"
)

// Program is what the generated main hands to the runtime.
type Program struct {
	// Project is the micro-gw project the gateway was built from.
	Project string
	// MicroGWVersion is the version of micro-gw that generated it.
	MicroGWVersion string
	// Routes is the embedded routes.json: a spec.Gateway.
	Routes []byte
}

// Exit codes of Main.
const (
	exitOK    = 0
	exitError = 1
	exitUsage = 2
)

// Main runs the gateway until SIGTERM or SIGINT and returns the exit code:
// 0 after a clean shutdown (every in-flight request finished within
// --shutdown-timeout) or --version; 1 when the gateway cannot start, or when
// the shutdown timeout cut requests still in flight (the log says how many);
// 2 for a bad flag or environment variable.
func Main(p Program, args []string, stdout, stderr io.Writer) int {
	g, err := spec.Decode(p.Routes)
	if err != nil {
		fmt.Fprintf(stderr, "gateway: %v\n", err)
		return exitError
	}
	cfg, err := ParseConfig(g.Settings, args, os.LookupEnv, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return exitOK
	}
	if err != nil {
		fmt.Fprintf(stderr, "gateway: %v\n", err)
		return exitUsage
	}
	if cfg.Version {
		printVersion(stdout, p, g)
		return exitOK
	}
	log := newLogger(cfg, stderr)

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	context.AfterFunc(ctx, stop) // after the first signal, a second one ends the process at once
	return run(ctx, p, g, cfg, log, nil)
}

// run serves until ctx ends, then shuts down and returns Main's exit code.
// started, when set, is given the running gateway (tests).
func run(ctx context.Context, p Program, g *spec.Gateway, cfg Config, log *slog.Logger, started func(*Server)) int {
	gw, err := Start(ctx, p, g, cfg, log)
	if err != nil {
		log.Error("gateway cannot start", "error", err)
		return exitError
	}
	if started != nil {
		started(gw)
	}
	<-ctx.Done()
	return gw.stop(cfg.ShutdownTimeout)
}

// stop shuts gw down within timeout. Requests still in flight when it
// expires are cut (the process exits under them): stop logs how many and
// returns exitError, so that a supervisor sees the shutdown was not clean.
func (gw *Server) stop(timeout time.Duration) int {
	gw.log.Info("shutting down", "timeout", timeout)
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	err := gw.Shutdown(ctx)
	if cut := gw.InFlight(); cut > 0 {
		gw.log.Error("shutdown timeout reached; requests still in flight were cut: raise --shutdown-timeout if they should finish",
			"requests_cut", cut, "timeout", timeout)
		return exitError
	}
	if err != nil {
		// Only idle or half-read connections were left: no request was cut.
		gw.log.Warn("shutdown timeout reached with no request in flight", "error", err)
	}
	gw.log.Info("stopped")
	return exitOK
}

// printVersion writes one line per API; every text that comes from the
// project goes through printable, so none can add or hide a line.
func printVersion(w io.Writer, p Program, g *spec.Gateway) {
	fmt.Fprintf(w, "micro-gw %s\nproject: %s\n", printable(p.MicroGWVersion), printable(p.Project))
	fmt.Fprintf(w, "APIs (%d):\n", len(g.APIs))
	for _, a := range g.APIs {
		fmt.Fprintf(w, "  %s %s  %s  (%d resources)\n", printable(a.Title), printable(a.Version), printable(a.BasePath), len(a.Resources))
	}
}

func parseLevel(s string) (slog.Level, error) {
	var l slog.Level
	if err := l.UnmarshalText([]byte(s)); err != nil {
		return l, fmt.Errorf("--log-level=%q: use debug, info, warn or error", s)
	}
	return l, nil
}

func newLogger(cfg Config, w io.Writer) *slog.Logger {
	level, _ := parseLevel(cfg.LogLevel) // validated by ParseConfig
	opts := &slog.HandlerOptions{Level: level}
	if cfg.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(w, opts))
	}
	return slog.New(slog.NewTextHandler(w, opts))
}

// Server is a running gateway: its listeners, proxy, discovery and admin endpoint.
type Server struct {
	// HTTPAddr, HTTPSAddr and AdminAddr are the bound addresses; nil when
	// the listener is disabled.
	HTTPAddr, HTTPSAddr, AdminAddr net.Addr

	log      *slog.Logger
	server   *fasthttp.Server
	admin    *adminServer
	proxy    *proxy.Proxy
	resolver *discovery.Resolver
	// metrics is nil with --metrics=false.
	metrics  *metrics.Metrics
	stopDisc context.CancelFunc
	// stopAuth ends JWKS fetching and the htpasswd re-read.
	stopAuth context.CancelFunc
	// authStore holds the API keys and revocations read from etcd; nil
	// without etcd or protected APIs.
	authStore *etcdstore.Store
	// tokens and basic are the JWT and basic-auth verifiers; nil when not configured.
	tokens *jwt.Verifier
	basic  *basic.Store
	// limiter counts throttled requests; nil when the gateway has no policies.
	limiter *throttle.Limiter
	// tracer exports the request spans; nil when tracing is off.
	tracer *tracing.Tracer
	served sync.WaitGroup
	// conns counts the client connections of the HTTP and HTTPS listeners
	// together and bounds them (--max-connections).
	conns *proxy.Conns
	// inFlight counts the requests being handled.
	inFlight atomic.Int64
	// shuttingDown is set when Shutdown begins: a listener that stops after
	// that is not a failure.
	shuttingDown atomic.Bool
	mu           sync.Mutex
	stopped      []ListenerFailure // listeners that stopped for good
	// public are the HTTP and HTTPS listeners as served.
	public []net.Listener
}

// seams are the parts of Start that tests replace.
type seams struct {
	// wrap, when set, wraps each listener as it is opened; name is http,
	// https or admin.
	wrap  func(name string, ln net.Listener) net.Listener
	admin adminTimeouts
	// serving, when set, is called by each public listener's goroutine
	// before it serves.
	serving func(name string)
}

// Start builds the routes, starts discovery (waiting at most its startup
// timeout for etcd's first answer) and opens the listeners. Discovery runs
// until ctx ends or Shutdown.
func Start(ctx context.Context, p Program, g *spec.Gateway, cfg Config, log *slog.Logger) (*Server, error) {
	return start(ctx, p, g, cfg, log, seams{admin: defaultAdminTimeouts})
}

func start(ctx context.Context, p Program, g *spec.Gateway, cfg Config, log *slog.Logger, sm seams) (gw *Server, err error) {
	gw = &Server{log: log}
	// Metrics off leaves gw.metrics nil: every recording is then a nil check.
	if cfg.Metrics {
		gw.metrics = metrics.New()
	}
	defer func() {
		if err != nil {
			gw.closeAll()
		}
	}()

	defaults, err := etcdDefaults(g, log)
	if err != nil {
		return gw, err
	}
	if err := CheckMutualTLS(g, cfg.ClientCA); err != nil {
		return gw, err
	}
	secured := protected(g)
	// etcd serves the endpoint keys, and the API keys and revocations of
	// protected APIs: one client and one resolver for both.
	if len(defaults) > 0 || (secured && len(cfg.Discovery.Endpoints) > 0) {
		dopts := cfg.Discovery
		dopts.Logger = log.With("component", "discovery")
		dopts.Observer = gw.metrics.DiscoveryObserver()
		if gw.resolver, err = discovery.New(dopts, defaults); err != nil {
			return gw, fmt.Errorf("etcd discovery: %w", err)
		}
		gw.metrics.ObserveDiscovery(gw.resolver.Status)
	} else if len(cfg.Discovery.Endpoints) > 0 {
		log.Info("no endpoint uses etcd(key, default) and every API is served open; --etcdurl is not used")
	}
	var authCtx context.Context
	authCtx, gw.stopAuth = context.WithCancel(ctx)
	var verifiers *auth.Verifiers
	if secured {
		if verifiers, err = gw.verifiers(authCtx, cfg); err != nil {
			return gw, err
		}
		if err := checkAuth(g, verifiers, log); err != nil {
			return gw, err
		}
	}
	if gw.resolver != nil {
		var dctx context.Context
		dctx, gw.stopDisc = context.WithCancel(ctx)
		gw.resolver.Start(dctx)
	}

	popts := cfg.Proxy
	popts.Logger = log
	popts.Auth = verifiers
	popts.Metrics = gw.metrics
	popts.Traffic = traffic.New(len(g.APIs))
	if popts.Throttle, popts.Policies, err = limiter(g, cfg.Throttling, log); err != nil {
		return gw, err
	}
	gw.limiter = popts.Throttle
	if popts.Tracer, err = gw.startTracing(p, cfg.Tracing); err != nil {
		return gw, err
	}
	gw.proxy, err = proxy.New(g, gw.bind, popts)
	if err != nil {
		return gw, err
	}
	gw.metrics.ObserveProxy(gw.proxy)
	gw.server = gw.proxy.NewServer()
	gw.countInFlight()

	var tlsConfig *tls.Config
	if cfg.HTTPSAddr != "" {
		if tlsConfig, err = serverTLS(cfg, log); err != nil {
			return gw, err
		}
	}
	// Open every listener before serving any, so that a port in use fails
	// the start with nothing left running.
	var httpLn, httpsLn, adminLn net.Listener
	for _, l := range []struct {
		addr, flag, name string
		ln               *net.Listener
	}{{cfg.HTTPAddr, "--http-port", "http", &httpLn}, {cfg.HTTPSAddr, "--https-port", "https", &httpsLn}, {cfg.AdminAddr, "--admin-port", "admin", &adminLn}} {
		if l.addr == "" {
			continue
		}
		ln, lerr := net.Listen("tcp", l.addr)
		if lerr != nil {
			for _, open := range []net.Listener{httpLn, httpsLn, adminLn} {
				if open != nil {
					open.Close()
				}
			}
			return gw, fmt.Errorf("listen on %s (%s): %w", l.addr, l.flag, lerr)
		}
		if sm.wrap != nil {
			ln = sm.wrap(l.name, ln)
		}
		*l.ln = ln
	}
	// One counter for both public listeners: the descriptors they use come
	// from the same process limit.
	gw.conns = proxy.NewConns(maxConnections(cfg.MaxConnections, log), log)
	lopts := proxy.ListenerOptions{Conns: gw.conns, Logger: log}
	if httpLn != nil {
		gw.HTTPAddr = httpLn.Addr()
		gw.serve("http", proxy.NewListener(httpLn, lopts), sm.serving)
	}
	if httpsLn != nil {
		gw.HTTPSAddr = httpsLn.Addr()
		gw.serve("https", tls.NewListener(proxy.NewListener(httpsLn, lopts), tlsConfig), sm.serving)
	}
	if adminLn != nil {
		gw.AdminAddr = adminLn.Addr()
		gw.admin = newAdminServer(p, g, adminState{resolver: gw.resolver, conns: gw.conns, proxy: gw.proxy, stopped: gw.stoppedListeners, authStore: gw.authStore, limiter: gw.limiter, tokens: gw.tokens, basic: gw.basic, metrics: gw.metrics.Handler()}, sm.admin)
		gw.served.Add(1)
		go func() {
			defer gw.served.Done()
			err := gw.admin.srv.Serve(adminLn)
			gw.listenerDone("admin", adminLn.Addr(), err)
		}()
	}
	resources := 0
	for _, a := range g.APIs {
		resources += len(a.Resources)
	}
	log.Info("gateway started", "project", p.Project, "version", p.MicroGWVersion, "apis", len(g.APIs), "resources", resources,
		"http", addrString(gw.HTTPAddr), "https", addrString(gw.HTTPSAddr), "admin", addrString(gw.AdminAddr))
	return gw, nil
}

func addrString(a net.Addr) string {
	if a == nil {
		return "off"
	}
	return a.String()
}

func (gw *Server) serve(name string, ln net.Listener, serving func(string)) {
	gw.public = append(gw.public, ln)
	gw.served.Add(1)
	go func() {
		defer gw.served.Done()
		if serving != nil {
			serving(name)
		}
		err := gw.server.Serve(ln)
		gw.listenerDone(name, ln.Addr(), err)
	}()
}

// listenerDone records a listener whose Serve returned. Outside shutdown
// that is for good (passing accept errors are retried by proxy.NewListener
// and net/http), so GET /health on the admin listener turns unhealthy and
// an orchestrator can restart the gateway.
func (gw *Server) listenerDone(name string, addr net.Addr, err error) {
	if gw.shuttingDown.Load() || errors.Is(err, http.ErrServerClosed) {
		return
	}
	if err == nil {
		err = errors.New("listener closed")
	}
	gw.log.Error("listener stopped for good; GET /health on the admin listener now answers 503: restart the gateway",
		"listener", name, "addr", addr.String(), "error", err)
	gw.mu.Lock()
	gw.stopped = append(gw.stopped, ListenerFailure{Listener: name, Addr: addr.String(), Error: err.Error()})
	gw.mu.Unlock()
}

// stoppedListeners lists the listeners that stopped for good.
func (gw *Server) stoppedListeners() []ListenerFailure {
	gw.mu.Lock()
	defer gw.mu.Unlock()
	return slices.Clone(gw.stopped)
}

// countInFlight wraps the proxy's handler to count the requests being
// handled, so that a shutdown that times out can say how many it cut. Two
// atomic adds per request, no allocation.
func (gw *Server) countInFlight() {
	h := gw.server.Handler
	gw.server.Handler = func(ctx *fasthttp.RequestCtx) {
		gw.inFlight.Add(1)
		defer gw.inFlight.Add(-1)
		h(ctx)
	}
}

// InFlight is the number of requests being handled now.
func (gw *Server) InFlight() int64 { return gw.inFlight.Load() }

// bind gives the proxy the Binding of an endpoint entry.
func (gw *Server) bind(u spec.EndpointURL) (*endpoint.Binding, error) {
	if u.EtcdKey != "" {
		return gw.resolver.Binding(u.EtcdKey), nil
	}
	t, err := endpoint.Parse(u.URL)
	if err != nil {
		return nil, err
	}
	return endpoint.NewBinding(t), nil
}

// etcdDefaults maps every etcd key to its default target: the first default
// declared for it (spec.Gateway.EtcdDefaults), with a warning about each
// other one.
func etcdDefaults(g *spec.Gateway, log *slog.Logger) (map[string]*endpoint.Target, error) {
	firsts, conflicts := g.EtcdDefaults()
	defaults := make(map[string]*endpoint.Target, len(firsts))
	for _, d := range firsts {
		t, err := parseEtcdDefault(d)
		if err != nil {
			return nil, err
		}
		defaults[d.Key] = t
	}
	for _, c := range conflicts {
		if _, err := parseEtcdDefault(c.Other); err != nil {
			return nil, err
		}
		log.Warn("etcd key has two default URLs; the first is used", "key", c.Other.Key, "used", defaults[c.First.Key].Raw, "ignored", c.Other.URL, "api", c.Other.At.API.Title)
	}
	return defaults, nil
}

// parseEtcdDefault parses the default URL of an etcd key, naming its API in an error.
func parseEtcdDefault(d spec.EtcdDefault) (*endpoint.Target, error) {
	t, err := endpoint.Parse(d.URL)
	if err != nil {
		api := d.At.API
		return nil, fmt.Errorf("api %q (%s): %s: default URL: %w", api.Title, api.File, spec.EndpointURL{URL: d.URL, EtcdKey: d.Key}, err)
	}
	return t, nil
}

// Shutdown stops accepting connections, waits for in-flight requests until
// ctx ends, then stops discovery and closes backend connections. It returns
// ctx's error if requests were still running.
func (gw *Server) Shutdown(ctx context.Context) error {
	gw.shuttingDown.Store(true)
	var errs []error
	var mu sync.Mutex
	var wg sync.WaitGroup
	for _, stop := range []func(context.Context) error{gw.shutdownProxy, gw.shutdownAdmin} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := stop(ctx); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	gw.closeAll()
	if len(errs) == 0 {
		gw.served.Wait()
	}
	return errors.Join(errs...)
}

func (gw *Server) shutdownProxy(ctx context.Context) error {
	if gw.server == nil {
		return nil
	}
	err := gw.server.ShutdownWithContext(ctx)
	// fasthttp closes only the listeners whose Serve has begun: one whose
	// goroutine has not run yet (a signal right after the start) would be
	// served afterwards, for good, and Shutdown would wait for it forever.
	for _, ln := range gw.public {
		ln.Close() //nolint:errcheck // mostly closed already by fasthttp
	}
	return err
}

func (gw *Server) shutdownAdmin(ctx context.Context) error {
	if gw.admin == nil {
		return nil
	}
	return gw.admin.srv.Shutdown(ctx)
}

// closeAll releases what Start opened besides the listeners.
func (gw *Server) closeAll() {
	if gw.proxy != nil {
		gw.proxy.Close()
	}
	if gw.stopDisc != nil {
		gw.stopDisc()
	}
	if gw.stopAuth != nil {
		gw.stopAuth()
	}
	if gw.limiter != nil {
		if err := gw.limiter.Close(); err != nil {
			gw.log.Warn("closing the throttling counters", "error", err)
		}
	}
	if gw.resolver != nil {
		if err := gw.resolver.Close(); err != nil {
			gw.log.Warn("closing etcd client", "error", err)
		}
	}
	gw.flushTraces()
}

// startTracing makes the tracer of c for the program p, or nil when
// tracing is off (no --otlp-endpoint).
func (gw *Server) startTracing(p Program, c tracing.Config) (*tracing.Tracer, error) {
	c.ServiceName, c.ServiceVersion = p.Project, p.MicroGWVersion
	c.Logger = gw.log.With("component", "tracing")
	var err error
	if gw.tracer, err = tracing.New(c); err != nil || gw.tracer == nil {
		return nil, err
	}
	gw.log.Info("tracing on", "otlp-endpoint", c.Endpoint, "trace-sample-ratio", c.SampleRatio)
	return gw.tracer, nil
}

// flushTraces sends the spans still queued, after the last request; a
// collector that does not answer holds the exit tracing.ShutdownTimeout
// at most.
func (gw *Server) flushTraces() {
	if gw.tracer == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), tracing.ShutdownTimeout)
	defer cancel()
	if err := gw.tracer.Shutdown(ctx); err != nil {
		gw.log.Warn("spans were lost at shutdown", "error", err)
	}
	gw.tracer = nil
}
