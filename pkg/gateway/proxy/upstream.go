package proxy

import (
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
	"github.com/micro-gw/micro-gw/pkg/gateway/metrics"
	"github.com/valyala/fasthttp"
)

// Backend is one entry of an endpoint list: the Binding holding its current
// target and the connection pool for that target. The pool is looked up
// again only when the Binding changes, so a request pays two atomic loads
// and a pointer comparison to find it.
type Backend struct {
	binding *endpoint.Binding
	clients *clients
	timeout time.Duration // of the endpoint list, for clients.get
	cur     atomic.Pointer[upstream]
}

// upstream is a target with the HostClient serving it, and the parts of
// the target's URL a request's URI is set to.
type upstream struct {
	target *endpoint.Target
	client *fasthttp.HostClient
	// scheme, host and path are the target's; path has no trailing slash.
	scheme, host, path string
	failLog            failLog
	// metrics are the target URL's backend metrics; nil with metrics off.
	metrics *metrics.Backend
}

// failLog limits the warnings about one backend's failures to one per
// failLogInterval: a dead backend under load fails thousands of requests
// a second. Each warning counts the failures left out since the previous
// one. It is lock-free: one atomic load while failures are left out.
type failLog struct {
	next       atomic.Int64 // clock time from which the next warning may go out
	suppressed atomic.Int64 // failures left out since the last warning
}

// failLogInterval is the least time between two warnings about a backend.
const failLogInterval = time.Second

// allow reports whether the failure at clock time now may be logged, and
// how many were left out before it.
func (l *failLog) allow(now int64) (ok bool, suppressed int64) {
	next := l.next.Load()
	if now >= next && l.next.CompareAndSwap(next, now+int64(failLogInterval)) {
		return true, l.suppressed.Swap(0)
	}
	l.suppressed.Add(1)
	return false, 0
}

func newBackend(b *endpoint.Binding, c *clients, timeout time.Duration) *Backend {
	return &Backend{binding: b, clients: c, timeout: timeout}
}

// upstream returns the current target and its client. A Binding may change
// at any time; the next call sees the new target.
func (b *Backend) upstream() *upstream {
	t := b.binding.Load()
	if u := b.cur.Load(); u != nil && u.target == t {
		return u
	}
	u := &upstream{target: t, client: b.clients.get(t, b.timeout), scheme: t.URL.Scheme, host: t.URL.Host,
		metrics: b.clients.opts.Metrics.Backend(t.Raw)}
	u.path = t.Base[len(u.scheme)+len("://")+len(u.host):]
	b.cur.Store(u)
	return u
}

// clients holds one HostClient per scheme, host:port and timeout, shared by
// every Backend that targets it, so switching a Binding back and forth
// reuses pooled connections. The timeout is the transport's (transport.go).
type clients struct {
	opts Options
	mu   sync.Mutex
	m    map[string]*fasthttp.HostClient
}

func (c *clients) get(t *endpoint.Target, timeout time.Duration) *fasthttp.HostClient {
	tls := t.URL.Scheme == "https"
	addr := t.URL.Host
	if t.URL.Port() == "" {
		port := "80"
		if tls {
			port = "443"
		}
		addr = net.JoinHostPort(t.URL.Hostname(), port)
	}
	key := t.URL.Scheme + "://" + addr + " " + timeout.String()
	c.mu.Lock()
	defer c.mu.Unlock()
	if hc := c.m[key]; hc != nil {
		return hc
	}
	hc := &fasthttp.HostClient{
		Addr:                     addr,
		IsTLS:                    tls,
		NoDefaultUserAgentHeader: true,
		MaxConns:                 c.opts.MaxConnsPerHost,
		MaxConnWaitTimeout:       timeout,
		MaxIdleConnDuration:      c.opts.BackendIdleTimeout,
		ReadBufferSize:           c.opts.MaxHeaderBytes,
		WriteBufferSize:          bufferSize,
		StreamResponseBody:       true,
		Transport:                &transport{timeout: timeout},
		DisablePathNormalizing:   true,
		// One retry, for idempotent requests without a streamed body, covers
		// a pooled connection the backend closed while it sat idle.
		MaxIdemponentCallAttempts: 2,
		SecureErrorLogMessage:     true,
	}
	if c.m == nil {
		c.m = map[string]*fasthttp.HostClient{}
	}
	c.m[key] = hc
	return hc
}

// closeIdle closes every pooled backend connection not in use.
func (c *clients) closeIdle() {
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, hc := range c.m {
		hc.CloseIdleConnections()
	}
}

// bufferSize is the size of the write buffers and of each read from a
// streamed body: large enough for few syscalls, small enough to keep memory
// per connection low.
const bufferSize = 16 << 10
