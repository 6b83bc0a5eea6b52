package auth

import (
	"bytes"
	"encoding/base64"
)

// ParseBasic decodes an "Authorization: Basic base64(user:password)" value
// v into dst (appending; pass a stack buffer to avoid allocating) and
// returns the user and the password, which alias dst's storage. ok is
// false for any other scheme, bad base64, no colon or an empty user.
func ParseBasic(dst, v []byte) (user, password []byte, ok bool) {
	if !hasScheme(v, basicPrefix) {
		return nil, nil, false
	}
	enc := bytes.TrimSpace(v[len(basicPrefix):])
	n := base64.StdEncoding.DecodedLen(len(enc))
	start := len(dst)
	if cap(dst)-start < n {
		dst = append(dst, make([]byte, n)...)[:start]
	}
	buf := dst[start : start+n]
	m, err := base64.StdEncoding.Decode(buf, enc)
	if err != nil {
		return nil, nil, false
	}
	buf = buf[:m]
	i := bytes.IndexByte(buf, ':')
	if i <= 0 {
		return nil, nil, false
	}
	return buf[:i], buf[i+1:], true
}
