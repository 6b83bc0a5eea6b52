package proxy

import (
	"crypto/rand"
	"encoding/base32"
	"strconv"
	"sync/atomic"

	"github.com/valyala/fasthttp"
)

// HeaderRequestID carries a request's id: kept from the client when sane,
// sent to the backend, returned to the client, written in the access log.
const HeaderRequestID = "X-Request-ID"

// maxRequestID bounds an incoming id that is kept.
const maxRequestID = 128

// requestIDs makes the ids of requests that bring none (or an unusable
// one): a prefix drawn at random once per process, then a counter. Unique
// within the process by the counter and across processes by the prefix,
// with no randomness, lock or allocation per request.
type requestIDs struct {
	prefix string // random, then '-'
	n      atomic.Uint64
}

func newRequestIDs() *requestIDs {
	var b [10]byte
	rand.Read(b[:]) //nolint:errcheck // crypto/rand.Read never fails (Go 1.24)
	return &requestIDs{prefix: base32.HexEncoding.WithPadding(base32.NoPadding).EncodeToString(b[:]) + "-"}
}

// appendNext appends a new id to dst.
func (g *requestIDs) appendNext(dst []byte) []byte {
	return strconv.AppendUint(append(dst, g.prefix...), g.n.Add(1), 36)
}

// saneRequestID reports whether an incoming id may be kept: 1 to 128
// characters of [A-Za-z0-9._-], so that it cannot break a log line, a
// header or a query in the log store.
func saneRequestID(id []byte) bool {
	if len(id) == 0 || len(id) > maxRequestID {
		return false
	}
	for _, c := range id {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return false
		}
	}
	return true
}

// requestID gives the request its id, in its X-Request-ID header (which
// the backend then receives), and returns it: the client's when sane,
// else a new one. The returned slice is the header's value, valid until
// the header changes. It allocates nothing.
func (g *requestIDs) requestID(h *fasthttp.RequestHeader) []byte {
	if id := h.Peek(HeaderRequestID); saneRequestID(id) {
		return id
	}
	var buf [64]byte
	h.Del(HeaderRequestID) // every copy: the backend must see one id
	h.SetBytesV(HeaderRequestID, g.appendNext(buf[:0]))
	return h.Peek(HeaderRequestID)
}
