// Package metrics is the gateway's Prometheus instrumentation: one registry
// of its own (never the global default, so that tests and several gateways
// in one process do not collide), with the Go runtime and process
// collectors, served as GET /metrics on the admin listener.
//
// # The hot path
//
// Label children are resolved once, when the routes are built: a Route
// holds the prometheus.Counter and prometheus.Observer of each status class,
// the two latency histograms and the byte counters of one route, a Backend
// those of one backend URL. Recording a request is then a handful of
// atomic adds and allocates nothing: no label lookup, no string built.
//
// Every recording method is nil-safe: a nil *Metrics hands out nil *Route
// and *Backend values, whose methods return at once, so a gateway with
// metrics off pays one nil check per request.
//
// # What is counted
//
// Request metrics carry api (the API's title), resource (the path
// template, never the raw path: a raw path would make a series per pet id)
// and method. Latency is split in two histograms: backend time (every
// attempt's exchange with a backend, retries and their waits excluded) and
// gateway time (the rest of the request's time in the gateway). Bytes are
// the bodies' sizes as declared by Content-Length; a chunked body of
// unknown length counts 0, since the gateway streams it and never holds it
// whole.
//
// Backend metrics are per endpoint URL as resolved (an etcd key's current
// URL): requests, errors by kind (connect, timeout, 5xx), retries, open
// connections. Connections are pooled per host:port, so URLs sharing one
// report the same pool. Circuit breakers, per endpoint list, report their
// state: 0 closed, 1 open, 2 half-open.
//
// Discovery metrics are per etcd key: changes by source, the current URL
// as an info metric (value 1, labelled with the URL; read from the
// Resolver at scrape time, so the old URL's series is gone as soon as the
// key changes), rejected values; and the etcd connection: connected, last
// contact, watch restarts.
//
// Every metric name starts with microgw_, besides go_* and process_*.
package metrics
