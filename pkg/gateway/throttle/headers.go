package throttle

import (
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
)

// Header names, canonical as fasthttp stores them.
var (
	headerLimit      = []byte("RateLimit-Limit")
	headerRemaining  = []byte("RateLimit-Remaining")
	headerReset      = []byte("RateLimit-Reset")
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
	h.SetCanonical(headerReset, strconv.AppendInt(buf[:0], seconds(d.Reset), 10))
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
