package router

import "strings"

// AppendMatchPath appends to dst the form of a raw request path that Lookup
// compares with the templates: every percent-escape decoded, so that
// /caf%C3%A9 and /a%3Ab match the templates /café and /a:b, except those of
// '/', '\', NUL and '%', which stay escaped (with upper-case hex digits):
// decoding them would add segment separators, or let a later decoding see
// escapes that were not in the request. Templates are decoded by the same
// rule when the router is built. ok is false when path has a '%' not
// followed by two hex digits.
//
// A path without '%' is its own match form: callers pass it to Lookup as
// is and skip this function.
func AppendMatchPath(dst, path []byte) (out []byte, ok bool) {
	for i := 0; i < len(path); i++ {
		c := path[i]
		if c != '%' {
			dst = append(dst, c)
			continue
		}
		b, ok := Unescape(path[i:])
		if !ok {
			return dst, false
		}
		if keptEscaped(b) {
			dst = append(dst, '%', upperHex[b>>4], upperHex[b&0xf])
		} else {
			dst = append(dst, b)
		}
		i += 2
	}
	return dst, true
}

// keptEscaped reports whether the escape of b stays escaped in a match form.
func keptEscaped(b byte) bool {
	return b == '/' || b == '\\' || b == 0 || b == '%'
}

const upperHex = "0123456789ABCDEF"

// Unescape decodes the percent-escape "%XX" at the start of s; ok is false
// when s does not start with one.
func Unescape(s []byte) (b byte, ok bool) {
	if len(s) < 3 || s[0] != '%' {
		return 0, false
	}
	hi, ok1 := unhex(s[1])
	lo, ok2 := unhex(s[2])
	return hi<<4 | lo, ok1 && ok2
}

func unhex(c byte) (byte, bool) {
	switch {
	case '0' <= c && c <= '9':
		return c - '0', true
	case 'a' <= c && c <= 'f':
		return c - 'a' + 10, true
	case 'A' <= c && c <= 'F':
		return c - 'A' + 10, true
	}
	return 0, false
}

// matchForm is AppendMatchPath for a template's literal text. A malformed
// escape is left as written: no request path that the proxy accepts has
// one, so such a literal simply never matches.
func matchForm(s string) string {
	if strings.IndexByte(s, '%') < 0 {
		return s
	}
	out, ok := AppendMatchPath(nil, []byte(s))
	if !ok {
		return s
	}
	return string(out)
}
