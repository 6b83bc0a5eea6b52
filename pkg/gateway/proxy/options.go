package proxy

import (
	"log/slog"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/metrics"
	"github.com/micro-gw/micro-gw/pkg/gateway/settings"
	"github.com/micro-gw/micro-gw/pkg/gateway/throttle"
	"github.com/micro-gw/micro-gw/pkg/gateway/traffic"
)

// Options tune the proxy. Zero values take the documented defaults.
type Options struct {
	// Timeout bounds a backend exchange, from sending the request to reading
	// the last byte of the response, when the endpoint list sets no
	// timeoutInMillis. Default 60s.
	Timeout time.Duration
	// MaxHeaderBytes bounds the request line plus headers of a request (a
	// larger one gets 431) and the status line plus headers of a backend
	// response (a larger one gets 502). Default 16 KiB.
	MaxHeaderBytes int
	// MaxConnsPerHost bounds the connections to one backend host:port.
	// Default 1024.
	MaxConnsPerHost int
	// BackendIdleTimeout closes pooled backend connections idle this long.
	// Default 90s.
	BackendIdleTimeout time.Duration
	// ClientIdleTimeout closes keep-alive client connections idle this long.
	// Default 90s.
	ClientIdleTimeout time.Duration
	// ClientReadTimeout bounds reading one whole request (headers and body)
	// from a client, and ClientWriteTimeout writing one whole response to
	// it, so a client that stalls cannot hold a connection, a goroutine and
	// a backend connection forever. Default 60s each, as the backend timeout.
	ClientReadTimeout, ClientWriteTimeout time.Duration
	// KeepEscapedSlashes forwards request paths holding an encoded slash or
	// backslash (%2F, %5C), or a plain backslash, instead of refusing them
	// with 400. A backend that decodes them may then serve paths outside
	// the API: "1%2F..%2F..%2Fadmin" matches /pet/{petId} yet reaches the
	// backend's /admin. An encoded NUL is refused either way.
	KeepEscapedSlashes bool
	// AccessLog logs one line per request at info level.
	AccessLog bool
	// Auth holds the credential verifiers every route's guard uses; nil
	// means none is configured, and a protected route then answers 401
	// (the gateway refuses to start that way: gateway.checkAuth).
	Auth *auth.Verifiers
	// Throttle counts requests against the throttling Policies; nil turns
	// throttling off (the build's route-table check, tests).
	Throttle *throttle.Limiter
	Policies *throttle.Policies
	// MaxValidatedBodyBytes bounds the bodies read whole to validate them,
	// on resources with request or response validation on.
	MaxValidatedBodyBytes int
	// Metrics records request and backend metrics; nil turns them off,
	// at the cost of one nil check per request.
	Metrics *metrics.Metrics
	// Traffic counts each API's requests for the admin dashboard, by the
	// API's index in spec.Gateway.APIs; nil counts nothing.
	Traffic *traffic.Registry
	Logger  *slog.Logger
	// clock replaces the package's clock for the warning rate limit (tests).
	clock func() int64
}

// setDefaults gives every zero option its setting's default (one table:
// pkg/gateway/settings).
func (o *Options) setDefaults() {
	orDefault(&o.Timeout, "backend-timeout", settings.Setting.DefaultDuration)
	orDefault(&o.MaxHeaderBytes, "max-header-bytes", settings.Setting.DefaultInt)
	orDefault(&o.MaxConnsPerHost, "max-conns-per-host", settings.Setting.DefaultInt)
	orDefault(&o.BackendIdleTimeout, "backend-idle-timeout", settings.Setting.DefaultDuration)
	orDefault(&o.ClientIdleTimeout, "client-idle-timeout", settings.Setting.DefaultDuration)
	orDefault(&o.ClientReadTimeout, "client-read-timeout", settings.Setting.DefaultDuration)
	orDefault(&o.ClientWriteTimeout, "client-write-timeout", settings.Setting.DefaultDuration)
	orDefault(&o.MaxValidatedBodyBytes, "max-validated-body-bytes", settings.Setting.DefaultInt)
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.clock == nil {
		o.clock = clock
	}
}

// orDefault sets *v to the named setting's default when it is not positive.
func orDefault[T int | time.Duration](v *T, name string, def func(settings.Setting) T) {
	if *v <= 0 {
		*v = def(settings.Named(name))
	}
}
