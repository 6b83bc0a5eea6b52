package proxy

import (
	"bytes"

	"github.com/valyala/fasthttp"
)

// hopHeaders are meaningful for one connection only (RFC 9110 7.6.1), plus
// Expect, which the gateway has already answered. fasthttp frames bodies
// itself, so Transfer-Encoding and Content-Length are rewritten, not copied.
// Connection comes first: its bit in a hopSet is 1.
var hopHeaders = [...]string{
	fasthttp.HeaderConnection,
	fasthttp.HeaderKeepAlive,
	fasthttp.HeaderProxyConnection,
	fasthttp.HeaderProxyAuthenticate,
	fasthttp.HeaderProxyAuthorization,
	fasthttp.HeaderTE,
	fasthttp.HeaderTrailer,
	fasthttp.HeaderUpgrade,
	fasthttp.HeaderExpect,
}

// hopSet has bit i set when hopHeaders[i] is present, and the forwarded
// bit for a request's Forwarded header.
type hopSet uint16

// forwarded marks a client's Forwarded header (RFC 7239), which the
// gateway removes: it would pass on, unchecked, whatever the client claims
// about itself, while X-Forwarded-For, -Host and -Proto say what the
// gateway saw.
const forwarded hopSet = 1 << len(hopHeaders)

// transferEncoding marks a request with a Transfer-Encoding header.
const transferEncoding = forwarded << 1

// add adds key to s if it names a hop-by-hop header, in any case.
func (s *hopSet) add(key []byte) {
	for i, h := range hopHeaders {
		if equalFoldBytes(key, h) {
			*s |= 1 << i
			return
		}
	}
}

// equalFoldBytes reports whether key equals the ASCII h, ignoring case.
func equalFoldBytes(key []byte, h string) bool {
	if len(key) != len(h) {
		return false
	}
	for i := range len(h) {
		if lower(key[i]) != lower(h[i]) {
			return false
		}
	}
	return true
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

// requestHops returns the hop-by-hop headers of a request as received, and
// whether its header names are valid: one pass over its raw header lines,
// without normalizing or parsing cookies. fasthttp accepts a name with a
// space inside ("X Forwarded: 1"), which would reach the backend as
// another header than the client meant (RFC 9112 §5.1 asks for 400).
func requestHops(h *fasthttp.RequestHeader) (s hopSet, ok bool) {
	raw := h.RawHeaders()
	for len(raw) > 0 {
		line := raw
		if i := bytes.IndexByte(raw, '\n'); i >= 0 {
			line, raw = raw[:i], raw[i+1:]
		} else {
			raw = nil
		}
		// A line starting with a space or a tab continues the previous one.
		if i := bytes.IndexByte(line, ':'); i > 0 && line[0] != ' ' && line[0] != '\t' {
			name := line[:i]
			if bytes.IndexByte(name, ' ') >= 0 || bytes.IndexByte(name, '\t') >= 0 {
				return s, false
			}
			s.add(name)
			switch {
			case equalFoldBytes(name, "Forwarded"):
				s |= forwarded
			case equalFoldBytes(name, fasthttp.HeaderTransferEncoding):
				s |= transferEncoding
			}
		}
	}
	return s, true
}

// responseHops returns the hop-by-hop headers of a backend's response.
func responseHops(h *fasthttp.ResponseHeader) hopSet {
	var s hopSet
	for k := range h.All() {
		s.add(k)
	}
	return s
}

// header is what hop-by-hop removal needs of request and response headers.
type header interface {
	Peek(key string) []byte
	Del(key string)
}

var (
	_ header = (*fasthttp.RequestHeader)(nil)
	_ header = (*fasthttp.ResponseHeader)(nil)
)

// removeHopHeaders deletes the hop-by-hop headers in s and those the
// Connection header lists. Each Del scans every header, so only the
// headers present are deleted, each once.
func removeHopHeaders(h header, s hopSet) {
	if s == 0 {
		return
	}
	if s&1 != 0 {
		var tmp [128]byte
		tokens := append(tmp[:0], h.Peek(fasthttp.HeaderConnection)...)
		for len(tokens) > 0 {
			var tok []byte
			tok, tokens = nextToken(tokens)
			if before := s; len(tok) > 0 && !equalFoldBytes(tok, "close") && !framing(tok) {
				if s.add(tok); s == before {
					delHeader(h, tok)
				}
			}
		}
	}
	for i, k := range hopHeaders {
		if s&(1<<i) != 0 {
			h.Del(k)
		}
	}
	if s&forwarded != 0 {
		h.Del("Forwarded")
	}
}

// framing reports whether a Connection token names a header that frames
// the message. fasthttp reads the framing from these headers and writes it
// anew, so deleting one would cut a body from its length: the token is
// ignored.
func framing(tok []byte) bool {
	return equalFoldBytes(tok, fasthttp.HeaderContentLength) || equalFoldBytes(tok, fasthttp.HeaderTransferEncoding)
}

// delHeader deletes key from h, calling the concrete method so that key
// does not escape to the heap.
func delHeader(h header, key []byte) {
	switch h := h.(type) {
	case *fasthttp.RequestHeader:
		h.DelBytes(key)
	case *fasthttp.ResponseHeader:
		h.DelBytes(key)
	}
}

// nextToken splits a comma-separated list, trimming spaces and tabs.
func nextToken(list []byte) (tok, rest []byte) {
	end := len(list)
	for i, c := range list {
		if c == ',' {
			end = i
			rest = list[i+1:]
			break
		}
	}
	tok = list[:end]
	for len(tok) > 0 && (tok[0] == ' ' || tok[0] == '\t') {
		tok = tok[1:]
	}
	for len(tok) > 0 && (tok[len(tok)-1] == ' ' || tok[len(tok)-1] == '\t') {
		tok = tok[:len(tok)-1]
	}
	return tok, rest
}
