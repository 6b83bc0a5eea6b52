package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/micro-gw/micro-gw/pkg/gateway/discovery"
)

// ProxySource is what the proxy reports at scrape time: state that is
// read when asked rather than counted on the request path.
type ProxySource interface {
	// Backends calls f for every backend URL in use with the connections
	// open to it.
	Backends(f func(url string, open int))
	// Breakers calls f for every circuit breaker, named by its endpoint
	// list, with its state: 0 closed, 1 open, 2 half-open.
	Breakers(f func(endpoints string, state int))
}

// ObserveProxy reports src's state at every scrape. Call it once.
func (m *Metrics) ObserveProxy(src ProxySource) {
	if m == nil || src == nil {
		return
	}
	m.reg.MustRegister(&proxyCollector{src: src,
		open:    desc("backend_open_connections", "Connections open to a backend URL's host:port (one pool per host:port: URLs sharing it show the same count).", "url"),
		breaker: desc("circuit_breaker_state", "State of an endpoint list's circuit breaker: 0 closed, 1 open, 2 half-open.", "endpoints"),
	})
}

func desc(name, help string, labels ...string) *prometheus.Desc {
	return prometheus.NewDesc(prometheus.BuildFQName(namespace, "", name), help, labels, nil)
}

type proxyCollector struct {
	src           ProxySource
	open, breaker *prometheus.Desc
}

func (c *proxyCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.open
	ch <- c.breaker
}

// Collect reports each label set once: the registry refuses a scrape with
// duplicates, and one URL may serve several endpoint lists.
func (c *proxyCollector) Collect(ch chan<- prometheus.Metric) {
	seen := map[string]bool{}
	c.src.Backends(func(url string, open int) {
		if !seen[url] {
			seen[url] = true
			ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(open), url)
		}
	})
	clear(seen)
	c.src.Breakers(func(endpoints string, state int) {
		if !seen[endpoints] {
			seen[endpoints] = true
			ch <- prometheus.MustNewConstMetric(c.breaker, prometheus.GaugeValue, float64(state), endpoints)
		}
	})
}

// DiscoveryObserver is the discovery.Observer that counts changes,
// rejected values and watch restarts; nil when m is nil (discovery then
// tells no one).
func (m *Metrics) DiscoveryObserver() discovery.Observer {
	if m == nil {
		return nil
	}
	return discoveryObserver{m}
}

type discoveryObserver struct{ m *Metrics }

func (o discoveryObserver) KeyChanged(key, source string) {
	o.m.discoveryChanges.WithLabelValues(key, source).Inc()
}

func (o discoveryObserver) ValueRejected(key string) {
	o.m.discoveryRejected.WithLabelValues(key).Inc()
}

func (o discoveryObserver) WatchRestarted(resync bool) {
	reason := "failure"
	if resync {
		reason = "resync"
	}
	o.m.watchRestarts.WithLabelValues(reason).Inc()
}

// ObserveDiscovery reports, at every scrape, what status returns (a
// discovery.Resolver's Status): each key's current URL as an info metric,
// and the etcd connection. Call it once.
func (m *Metrics) ObserveDiscovery(status func() discovery.Status) {
	if m == nil || status == nil {
		return
	}
	m.reg.MustRegister(&discoveryCollector{status: status,
		info:        desc("discovery_endpoint_info", "The URL an etcd key resolves to now (value 1); the series of a former URL is gone once the key changes.", "key", "url", "source"),
		usesDefault: desc("discovery_using_default", "1 while an etcd key resolves to its default URL (absent from etcd, or never read).", "key"),
		connected:   desc("etcd_connected", "1 while the etcd watches run over a ready connection, else 0.", nil...),
		lastContact: desc("etcd_last_contact_timestamp_seconds", "Unix time of the last successful etcd read or watch response; 0 before any.", nil...),
	})
}

type discoveryCollector struct {
	status                                    func() discovery.Status
	info, usesDefault, connected, lastContact *prometheus.Desc
}

func (c *discoveryCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.info
	ch <- c.usesDefault
	ch <- c.connected
	ch <- c.lastContact
}

func (c *discoveryCollector) Collect(ch chan<- prometheus.Metric) {
	s := c.status()
	for _, k := range s.Keys {
		ch <- prometheus.MustNewConstMetric(c.info, prometheus.GaugeValue, 1, k.Key, k.URL, k.Source)
		ch <- prometheus.MustNewConstMetric(c.usesDefault, prometheus.GaugeValue, boolValue(k.UsingDefault), k.Key)
	}
	if !s.Etcd.Enabled {
		return
	}
	ch <- prometheus.MustNewConstMetric(c.connected, prometheus.GaugeValue, boolValue(s.Etcd.Connected))
	var last float64
	if !s.Etcd.LastContact.IsZero() {
		last = float64(s.Etcd.LastContact.UnixNano()) / 1e9
	}
	ch <- prometheus.MustNewConstMetric(c.lastContact, prometheus.GaugeValue, last)
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}
