package gateway

import (
	"encoding/json"
	"net/http"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth/basic"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth/etcdstore"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth/jwt"
	"github.com/micro-gw/micro-gw/pkg/gateway/discovery"
	"github.com/micro-gw/micro-gw/pkg/gateway/proxy"
	"github.com/micro-gw/micro-gw/pkg/gateway/throttle"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// adminServer is the read-only admin listener: GET /status, GET /health,
// the dashboard (GET / and GET /traffic) and, with metrics on, GET /metrics.
// It sees little traffic, so it uses net/http.
type adminServer struct {
	srv *http.Server
}

// adminTimeouts bound every admin connection, so that a client that sends
// nothing, trickles a request, stops reading or idles on a kept-alive
// connection cannot hold one open. They are http.Server's ReadHeaderTimeout,
// ReadTimeout, WriteTimeout and IdleTimeout.
type adminTimeouts struct {
	readHeader, read, write, idle time.Duration
}

// defaultAdminTimeouts are generous for GET /status and GET /health, which
// answer at once.
var defaultAdminTimeouts = adminTimeouts{readHeader: 10 * time.Second, read: 15 * time.Second, write: 15 * time.Second, idle: 60 * time.Second}

// ListenerFailure names a listener that stopped for good and why.
type ListenerFailure struct {
	Listener string `json:"listener"`
	Addr     string `json:"addr"`
	Error    string `json:"error"`
}

// Health is the JSON document of GET /health on the admin listener.
type Health struct {
	// Status is "healthy", or "unhealthy" (with 503) when a listener
	// stopped for good.
	Status    string            `json:"status"`
	Listeners []ListenerFailure `json:"listeners,omitempty"`
}

// ConnStatus counts the client connections of the HTTP and HTTPS listeners.
type ConnStatus struct {
	Open int64 `json:"open"`
	// Max is --max-connections as used; 0 means no bound.
	Max int64 `json:"max"`
	// ClosedOverMax counts connections closed at once for being past Max.
	ClosedOverMax int64 `json:"closed_over_max"`
}

// Status is the JSON document of GET /status on the admin listener.
type Status struct {
	Project        string            `json:"project"`
	MicroGWVersion string            `json:"microgw_version"`
	StartedAt      time.Time         `json:"started_at"`
	APIs           []APIStatus       `json:"apis"`
	Connections    *ConnStatus       `json:"connections,omitempty"`
	Discovery      *discovery.Status `json:"discovery,omitempty"`
	// JWTIssuers are the trusted issuers and their keys' state.
	JWTIssuers []jwt.IssuerStatus `json:"jwt_issuers,omitempty"`
	// BasicAuth is the state of the htpasswd file.
	BasicAuth *BasicAuthStatus `json:"basic_auth,omitempty"`
	// AuthEtcd is the state of the API keys and revocations read from etcd.
	AuthEtcd *etcdstore.Status `json:"auth_etcd,omitempty"`
	// Throttling is the throttling counters' state.
	Throttling *throttle.Status `json:"throttling,omitempty"`
	// Endpoints is the health of every endpoint list's URLs and its
	// circuit breaker.
	Endpoints []proxy.EndpointStatus `json:"endpoints,omitempty"`
}

// BasicAuthStatus is the htpasswd file's state: how many times it was
// loaded, its users, and why the last re-read failed (the users of the
// last good load stay in force).
type BasicAuthStatus struct {
	Loads uint64 `json:"loads"`
	Users int    `json:"users"`
	Error string `json:"error,omitempty"`
}

// APIStatus describes one API compiled into the gateway.
type APIStatus struct {
	Title     string `json:"title"`
	Version   string `json:"version"`
	BasePath  string `json:"base_path"`
	File      string `json:"file,omitempty"`
	Resources int    `json:"resources"`
	// Security is the effective security of the API's resources, as the
	// build printed it.
	Security string `json:"security"`
}

// adminState is what the admin listener reports about the running gateway.
type adminState struct {
	resolver *discovery.Resolver // nil without etcd
	conns    *proxy.Conns        // nil without a public listener
	// proxy reports endpoint health and per-API traffic; nil in tests
	// of the admin listener alone.
	proxy *proxy.Proxy
	// stopped lists the listeners that stopped for good.
	stopped func() []ListenerFailure
	// authStore, tokens, basic and limiter are nil when not in use.
	authStore *etcdstore.Store
	tokens    *jwt.Verifier
	basic     *basic.Store
	limiter   *throttle.Limiter
	// metrics serves GET /metrics; nil with metrics off (404).
	metrics http.Handler
}

func newAdminServer(p Program, g *spec.Gateway, st adminState, to adminTimeouts) *adminServer {
	base := Status{Project: p.Project, MicroGWVersion: p.MicroGWVersion, StartedAt: time.Now().UTC()}
	for _, a := range g.APIs {
		base.APIs = append(base.APIs, APIStatus{Title: a.Title, Version: a.Version, BasePath: a.BasePath, File: a.File, Resources: len(a.Resources), Security: a.SecuritySummary()})
	}
	mux := http.NewServeMux()
	mux.HandleFunc("GET /status", func(w http.ResponseWriter, r *http.Request) {
		s := base
		if st.resolver != nil {
			d := st.resolver.Status()
			s.Discovery = &d
		}
		if st.tokens != nil {
			s.JWTIssuers = st.tokens.Status()
		}
		if st.basic != nil {
			loads, users, err := st.basic.Status()
			s.BasicAuth = &BasicAuthStatus{Loads: loads, Users: users}
			if err != nil {
				s.BasicAuth.Error = err.Error()
			}
		}
		if st.authStore != nil {
			a := st.authStore.Status()
			s.AuthEtcd = &a
		}
		if st.limiter != nil {
			t := st.limiter.Status()
			s.Throttling = &t
		}
		if st.conns != nil {
			s.Connections = &ConnStatus{Open: st.conns.Open(), Max: st.conns.Max(), ClosedOverMax: st.conns.Closed()}
		}
		if st.proxy != nil {
			s.Endpoints = st.proxy.Endpoints()
		}
		writeJSON(w, s)
	})
	mux.HandleFunc("GET /health", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		h := Health{Status: "healthy", Listeners: st.stopped()}
		if len(h.Listeners) > 0 {
			// A listener that stopped for good never comes back: only a
			// restart does, so say so to whoever restarts the gateway.
			h.Status = "unhealthy"
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		b, _ := json.Marshal(h) // strings only: cannot fail
		w.Write(b)              //nolint:errcheck // the client went away
	})
	if st.metrics != nil {
		mux.Handle("GET /metrics", st.metrics)
	}
	// The dashboard (dashboard.go): GET / and GET /traffic.
	newDashboard(base, g, st).register(mux)
	return &adminServer{srv: &http.Server{Handler: mux,
		ReadHeaderTimeout: to.readHeader, ReadTimeout: to.read, WriteTimeout: to.write, IdleTimeout: to.idle}}
}
