package metrics

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
)

// namespace starts every name of the gateway's own metrics.
const namespace = "microgw"

// latencyBuckets, in seconds, cover a gateway's own sub-millisecond work up
// to the longest backend timeout people set.
var latencyBuckets = []float64{.0001, .00025, .0005, .001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60}

// Metrics is the gateway's registry and the metric vectors in it. A nil
// *Metrics is metrics off: every method works and records nothing.
type Metrics struct {
	reg *prometheus.Registry

	requests        *prometheus.CounterVec
	gatewayDuration *prometheus.HistogramVec
	backendDuration *prometheus.HistogramVec
	bytesIn         *prometheus.CounterVec
	bytesOut        *prometheus.CounterVec
	authFailures    *prometheus.CounterVec
	throttled       *prometheus.CounterVec

	backendRequests *prometheus.CounterVec
	backendErrors   *prometheus.CounterVec
	backendRetries  *prometheus.CounterVec

	discoveryChanges  *prometheus.CounterVec
	discoveryRejected *prometheus.CounterVec
	watchRestarts     *prometheus.CounterVec

	mu       sync.Mutex
	apis     map[string]*apiCounters
	backends map[string]*Backend
}

// New returns a registry holding the gateway's metrics and the Go runtime
// and process collectors.
func New() *Metrics {
	m := &Metrics{reg: prometheus.NewRegistry(), apis: map[string]*apiCounters{}, backends: map[string]*Backend{}}
	route := []string{"api", "resource", "method"}
	m.requests = m.counterVec("requests_total", "Requests answered, by API, resource (path template), method and status class.", append(route, "class")...)
	m.gatewayDuration = m.histogramVec("request_gateway_duration_seconds", "Time a request spent in the gateway itself: its total time minus backend time.", route...)
	m.backendDuration = m.histogramVec("request_backend_duration_seconds", "Time a request spent in exchanges with backends, every attempt summed; requests that reached no backend are not observed.", route...)
	m.bytesIn = m.counterVec("request_body_bytes_total", "Request body bytes received from clients, as declared by Content-Length (chunked bodies count 0).", route...)
	m.bytesOut = m.counterVec("response_body_bytes_total", "Response body bytes sent to clients, as declared by Content-Length (chunked bodies count 0).", route...)
	m.authFailures = m.counterVec("auth_failures_total", "Requests refused by authentication or authorization, by API and fault code.", "api", "code")
	m.throttled = m.counterVec("throttled_requests_total", "Requests refused by throttling, by API and the tier that refused: resource, api, subscription, application.", "api", "tier")
	m.backendRequests = m.counterVec("backend_requests_total", "Attempts sent to a backend URL, retries and failovers included.", "url")
	m.backendErrors = m.counterVec("backend_errors_total", "Failed backend attempts by kind: connect (no connection or broken exchange), timeout, 5xx (answered with a 5xx status).", "url", "kind")
	m.backendRetries = m.counterVec("backend_retries_total", "Retries sent to a backend URL after a back-off (retryConfig).", "url")
	m.discoveryChanges = m.counterVec("discovery_changes_total", "Changes of an etcd key's URL, by source: startup, watch, timer, resync.", "key", "source")
	m.discoveryRejected = m.counterVec("discovery_rejected_values_total", "Unusable etcd values ignored for a key (the last good URL stayed).", "key")
	m.watchRestarts = m.counterVec("etcd_watch_restarts_total", "Times the etcd watches ended and were started anew, by reason: failure or resync.", "reason")
	m.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *Metrics) counterVec(name, help string, labels ...string) *prometheus.CounterVec {
	v := prometheus.NewCounterVec(prometheus.CounterOpts{Namespace: namespace, Name: name, Help: help}, labels)
	m.reg.MustRegister(v)
	return v
}

func (m *Metrics) histogramVec(name, help string, labels ...string) *prometheus.HistogramVec {
	v := prometheus.NewHistogramVec(prometheus.HistogramOpts{Namespace: namespace, Name: name, Help: help, Buckets: latencyBuckets}, labels)
	m.reg.MustRegister(v)
	return v
}

// Handler serves the registry in Prometheus' exposition formats; nil
// when m is nil.
func (m *Metrics) Handler() http.Handler {
	if m == nil {
		return nil
	}
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
}

// Gatherer is the registry, for tests and for other exposers.
func (m *Metrics) Gatherer() prometheus.Gatherer { return m.reg }

// Status classes, in Route.classes.
var classNames = [...]string{"1xx", "2xx", "3xx", "4xx", "5xx"}

// Route holds the children of one route (API, resource, method), resolved
// once when the route is built. A nil *Route records nothing.
type Route struct {
	classes          [len(classNames)]prometheus.Counter
	gateway, backend prometheus.Observer
	in, out          prometheus.Counter
	api              *apiCounters
}

// apiCounters are the children labelled by API only, shared by its routes.
type apiCounters struct {
	name      string
	vec       *prometheus.CounterVec // authFailures, for codes not listed below
	auth      []codeCounter
	throttled [len(throttleTiers)]prometheus.Counter
}

type codeCounter struct {
	code int
	c    prometheus.Counter
}

// authFaults are the faults an authentication guard answers with; their
// codes get children at start.
var authFaults = []*fault.Fault{fault.AuthUnavailable, fault.InvalidCredentials, fault.MissingCredentials, fault.TokenExpired,
	fault.WrongKeyType, fault.NotSubscribed, fault.ScopeMissing, fault.BasicInvalid, fault.BasicMalformed,
	fault.ClientCertRequired, fault.InvalidScheme}

// throttleTiers pairs each throttling fault with the tier it names.
var throttleTiers = [...]struct {
	f    *fault.Fault
	name string
}{{fault.ResourceThrottled, "resource"}, {fault.APIThrottled, "api"}, {fault.SubscriptionThrottled, "subscription"}, {fault.ApplicationThrottled, "application"}}

// Route resolves the children of one route; nil when m is nil. Call it
// when building routes, never per request.
func (m *Metrics) Route(api, resource, method string) *Route {
	if m == nil {
		return nil
	}
	r := &Route{
		gateway: m.gatewayDuration.WithLabelValues(api, resource, method),
		backend: m.backendDuration.WithLabelValues(api, resource, method),
		in:      m.bytesIn.WithLabelValues(api, resource, method),
		out:     m.bytesOut.WithLabelValues(api, resource, method),
		api:     m.apiCounters(api),
	}
	for i, c := range classNames {
		r.classes[i] = m.requests.WithLabelValues(api, resource, method, c)
	}
	return r
}

func (m *Metrics) apiCounters(api string) *apiCounters {
	m.mu.Lock()
	defer m.mu.Unlock()
	if a := m.apis[api]; a != nil {
		return a
	}
	a := &apiCounters{name: api, vec: m.authFailures}
	for _, f := range authFaults {
		if a.find(f.Code) == nil {
			a.auth = append(a.auth, codeCounter{f.Code, m.authFailures.WithLabelValues(api, strconv.Itoa(f.Code))})
		}
	}
	for i, t := range throttleTiers {
		a.throttled[i] = m.throttled.WithLabelValues(api, t.name)
	}
	m.apis[api] = a
	return a
}

func (a *apiCounters) find(code int) prometheus.Counter {
	for _, c := range a.auth {
		if c.code == code {
			return c.c
		}
	}
	return nil
}

// Done records one answered request: its status, its total time in the
// gateway, the part of it spent on backends (0 when none was called), and
// the body bytes received and sent (-1 or less: unknown, counted 0). It
// allocates nothing.
func (r *Route) Done(status int, total, backend time.Duration, in, out int) {
	if r == nil {
		return
	}
	i := status/100 - 1
	if i < 0 || i >= len(r.classes) {
		i = len(r.classes) - 1 // not an HTTP status: count it as the gateway's error
	}
	r.classes[i].Inc()
	r.gateway.Observe((total - backend).Seconds())
	if backend > 0 {
		r.backend.Observe(backend.Seconds())
	}
	if in > 0 {
		r.in.Add(float64(in))
	}
	if out > 0 {
		r.out.Add(float64(out))
	}
}

// AuthFailed counts a request the route's guard refused with f.
func (r *Route) AuthFailed(f *fault.Fault) {
	if r == nil || f == nil {
		return
	}
	if c := r.api.find(f.Code); c != nil {
		c.Inc()
		return
	}
	// A code not listed in authFaults: a child made now, off the usual path.
	r.api.vec.WithLabelValues(r.api.name, strconv.Itoa(f.Code)).Inc()
}

// Throttled counts a request refused by throttling with f, one of the
// throttle faults (others are ignored).
func (r *Route) Throttled(f *fault.Fault) {
	if r == nil {
		return
	}
	for i, t := range throttleTiers {
		if t.f == f {
			r.api.throttled[i].Inc()
			return
		}
	}
}

// ErrorKind is the kind of a failed backend attempt.
type ErrorKind int

// Kinds of backend errors, as the kind label names them.
const (
	ConnectError ErrorKind = iota // no connection, or the exchange broke
	TimeoutError                  // the backend did not answer in time
	ServerError                   // the backend answered 5xx
)

var kindNames = [...]string{ConnectError: "connect", TimeoutError: "timeout", ServerError: "5xx"}

// Backend holds the children of one backend URL. A nil *Backend records
// nothing.
type Backend struct {
	requests, retries prometheus.Counter
	errors            [len(kindNames)]prometheus.Counter
}

// Backend resolves the children of a backend URL; nil when m is nil.
// Call it when a URL comes into use (at start, or when an etcd key
// changes), never per request. Every caller naming url shares one.
func (m *Metrics) Backend(url string) *Backend {
	if m == nil {
		return nil
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if b := m.backends[url]; b != nil {
		return b
	}
	b := &Backend{requests: m.backendRequests.WithLabelValues(url), retries: m.backendRetries.WithLabelValues(url)}
	for i, k := range kindNames {
		b.errors[i] = m.backendErrors.WithLabelValues(url, k)
	}
	m.backends[url] = b
	return b
}

// Attempt counts one attempt sent to the backend.
func (b *Backend) Attempt() {
	if b != nil {
		b.requests.Inc()
	}
}

// Failed counts a failed attempt of kind k.
func (b *Backend) Failed(k ErrorKind) {
	if b != nil {
		b.errors[k].Inc()
	}
}

// Answered counts the backend's answer: a 5xx status is a ServerError.
func (b *Backend) Answered(status int) {
	if b != nil && status >= 500 {
		b.errors[ServerError].Inc()
	}
}

// Retry counts a retry sent to the backend after a back-off.
func (b *Backend) Retry() {
	if b != nil {
		b.retries.Inc()
	}
}
