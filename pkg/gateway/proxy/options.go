package proxy

import (
	"github.com/micro-gw/micro-gw/pkg/gateway/settings"
	"log/slog"
	"time"
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
	Logger    *slog.Logger
	// clock replaces the package's clock for the warning rate limit (tests).
	clock func() int64
}

func (o *Options) setDefaults() {
	if o.Timeout <= 0 {
		o.Timeout = settings.Named("backend-timeout").DefaultDuration()
	}
	if o.MaxHeaderBytes <= 0 {
		o.MaxHeaderBytes = settings.Named("max-header-bytes").DefaultInt()
	}
	if o.MaxConnsPerHost <= 0 {
		o.MaxConnsPerHost = settings.Named("max-conns-per-host").DefaultInt()
	}
	if o.BackendIdleTimeout <= 0 {
		o.BackendIdleTimeout = settings.Named("backend-idle-timeout").DefaultDuration()
	}
	if o.ClientIdleTimeout <= 0 {
		o.ClientIdleTimeout = settings.Named("client-idle-timeout").DefaultDuration()
	}
	if o.ClientReadTimeout <= 0 {
		o.ClientReadTimeout = settings.Named("client-read-timeout").DefaultDuration()
	}
	if o.ClientWriteTimeout <= 0 {
		o.ClientWriteTimeout = settings.Named("client-write-timeout").DefaultDuration()
	}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.clock == nil {
		o.clock = clock
	}
}
