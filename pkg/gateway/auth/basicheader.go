package auth

import (
	"bytes"
	"encoding/base64"
)

// ParseBasic reads an Authorization header value "Basic base64(user:pass)"
// (RFC 7617): the scheme in any case, one or more spaces, standard padded
// base64, and a user that ends at the first colon. Spaces around the value
// are ignored. It decodes into buf, so that a caller that passes a buffer
// of its own allocates nothing; when buf is too small for the value, a
// larger one is allocated. user and pass alias that buffer.
//
// ok is false for another scheme or a malformed value; the guard answers
// those with fault.BasicMalformed (900912) or its scheme check.
func ParseBasic(v, buf []byte) (user, pass []byte, ok bool) {
	v = bytes.TrimSpace(v)
	const scheme = "basic"
	if len(v) <= len(scheme) || !bytes.EqualFold(v[:len(scheme)], []byte(scheme)) || v[len(scheme)] != ' ' {
		return nil, nil, false
	}
	enc := bytes.TrimLeft(v[len(scheme):], " ")
	need := base64.StdEncoding.DecodedLen(len(enc))
	if cap(buf) < need {
		buf = make([]byte, need)
	}
	buf = buf[:need]
	n, err := base64.StdEncoding.Decode(buf, enc)
	if err != nil {
		return nil, nil, false
	}
	user, pass, ok = bytes.Cut(buf[:n], []byte(":"))
	if !ok {
		return nil, nil, false
	}
	return user, pass, true
}
