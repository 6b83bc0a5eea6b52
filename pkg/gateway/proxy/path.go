package proxy

import (
	"bytes"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/micro-gw/micro-gw/pkg/gateway/router"
)

// cleanPath checks a raw request path that holds percent-escapes and
// appends two forms of it to buf: match, which the routes are matched
// against (router.AppendMatchPath), and fwd, which is forwarded: the path
// as received, with escapes of unreserved characters (RFC 3986 §6.2.2.2:
// ALPHA DIGIT - . _ ~) decoded. A path without '%' needs neither: it is
// matched and forwarded as is, without a copy.
//
// An escaped NUL or a malformed escape is refused. An escaped slash or
// backslash (%2F, %5C) is refused too unless keepSlashes: within the
// gateway it is part of one segment, but a backend that decodes it sees
// more segments than were routed, "1%2F..%2F..%2Fadmin" becoming
// "1/../../admin", and serves a path outside the API (Envoy refuses them
// for the same reason).
func cleanPath(buf, raw []byte, keepSlashes bool) (match, fwd, out []byte, f *fault.Fault) {
	start := len(buf)
	for i := 0; i < len(raw); i++ {
		c := raw[i]
		if c != '%' {
			buf = append(buf, c)
			continue
		}
		b, ok := router.Unescape(raw[i:])
		switch {
		case !ok || b == 0:
			return nil, nil, buf, fault.BadPath
		case (b == '/' || b == '\\') && !keepSlashes:
			return nil, nil, buf, fault.EncodedSlash
		case unreserved(b):
			buf = append(buf, b)
		default:
			buf = append(buf, raw[i:i+3]...)
		}
		i += 2
	}
	mid := len(buf)
	buf, _ = router.AppendMatchPath(buf, raw) // raw's escapes are well-formed
	return buf[mid:], buf[start:mid], buf, nil
}

// unreserved reports whether c is an unreserved character (RFC 3986 §2.3),
// whose escape means the same as the character itself.
func unreserved(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// skipSegments returns what follows the first n segments of path, which
// starts with "/": the part of a forwarded path after a base path of n
// segments.
func skipSegments(path []byte, n int) []byte {
	for ; n > 0 && len(path) > 0; n-- {
		i := bytes.IndexByte(path[1:], '/')
		if i < 0 {
			return path[len(path):]
		}
		path = path[i+1:]
	}
	return path
}

// segments counts the segments of a base path: 0 for "/".
func segments(base string) int {
	if base == "/" || base == "" {
		return 0
	}
	return bytes.Count([]byte(base), []byte("/"))
}
