package throttle

import (
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// Header names in fasthttp's canonical form, as it stores the headers it
// parses: setting them replaces a RateLimit header the backend sent
// instead of adding a second one. Names are case-insensitive on the wire.
var (
	headerLimit      = []byte("Ratelimit-Limit")
	headerRemaining  = []byte("Ratelimit-Remaining")
	headerReset      = []byte("Ratelimit-Reset")
	headerRetryAfter = []byte("Retry-After")
)

// WriteHeaders sets the IETF RateLimit header fields (draft
// ietf-httpapi-ratelimit-headers: RateLimit-Limit, RateLimit-Remaining,
// RateLimit-Reset in seconds) from d, and Retry-After on a refusal. An
// Unlimited decision (Limit 0) sets nothing. It allocates nothing: the
// numbers are formatted in a stack buffer that fasthttp copies.
func WriteHeaders(h *fasthttp.ResponseHeader, d Decision) {
	if d.Limit == 0 {
		return
	}
	var buf [20]byte
	h.SetCanonical(headerLimit, strconv.AppendInt(buf[:0], d.Limit, 10))
	h.SetCanonical(headerRemaining, strconv.AppendInt(buf[:0], max(d.Remaining, 0), 10))
	// The emission interval is rounded up to the nanosecond, so a full
	// reset can run a few nanoseconds past the window: not a second more.
	h.SetCanonical(headerReset, strconv.AppendInt(buf[:0], seconds(d.Reset-time.Millisecond), 10))
	if !d.Allowed {
		h.SetCanonical(headerRetryAfter, strconv.AppendInt(buf[:0], max(seconds(d.RetryAfter), 1), 10))
	}
}

// seconds rounds d up to whole seconds: a client that waits that long is
// never early.
func seconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64((d + time.Second - 1) / time.Second)
}
