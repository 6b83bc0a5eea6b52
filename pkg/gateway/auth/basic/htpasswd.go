package basic

import (
	"bytes"
	"crypto/sha1"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"strings"

	"golang.org/x/crypto/bcrypt"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
)

// sha1Marker starts a micro-gw 3.x SHA-1 hex entry: "user:{SHA1HEX}<hex>".
const sha1Marker = "{SHA1HEX}"

// entry is one user's credential: a bcrypt hash, or a legacy SHA-1 digest.
type entry struct {
	bcrypt    []byte
	sha1      [sha1.Size]byte
	legacy    bool
	principal *auth.Principal
}

// users is one load of the file.
type users struct {
	byName map[string]*entry
	// legacy names the users with SHA-1 entries, sorted.
	legacy []string
	// maxCost is the highest bcrypt cost in the file (bcrypt.DefaultCost
	// when it has no bcrypt entry): the cost of the dummy compare for
	// unknown users, so that they cost what a known user does.
	maxCost int
}

// parse reads an htpasswd file's contents; name is the file's name for
// errors. It reports every bad line at once. No error repeats a hash or a
// line's text, which may be a password; they name the line and the user.
func parse(name string, data []byte) (*users, error) {
	u := &users{byName: map[string]*entry{}}
	firstLine := map[string]int{}
	var errs []error
	for i, line := range bytes.Split(data, []byte("\n")) {
		n := i + 1
		line = bytes.TrimSpace(line)
		if len(line) == 0 || line[0] == '#' {
			continue
		}
		user, hash, ok := bytes.Cut(line, []byte(":"))
		user = bytes.TrimSpace(user)
		if !ok || len(user) == 0 {
			errs = append(errs, fmt.Errorf("%s:%d: not a \"user:hash\" line; write one per user with: htpasswd -B -C 10 %s USER", name, n, name))
			continue
		}
		e, err := readEntry(bytes.TrimSpace(hash))
		if err != nil {
			errs = append(errs, fmt.Errorf("%s:%d: user %q: %s; make a bcrypt entry with: htpasswd -B -C 10 %s %s", name, n, user, err, name, user))
			continue
		}
		if first, dup := firstLine[string(user)]; dup {
			errs = append(errs, fmt.Errorf("%s:%d: user %q is already on line %d; keep one line per user", name, n, user, first))
			continue
		}
		firstLine[string(user)] = n
		e.principal = &auth.Principal{Subject: string(user), ID: string(user), KeyType: auth.Production}
		u.byName[string(user)] = e
		if e.legacy {
			u.legacy = append(u.legacy, string(user))
		} else if c, _ := bcrypt.Cost(e.bcrypt); c > u.maxCost {
			u.maxCost = c
		}
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	slices.Sort(u.legacy)
	if u.maxCost == 0 {
		u.maxCost = bcrypt.DefaultCost
	}
	return u, nil
}

// readEntry reads the hash field of a line. Its errors say what the value
// looks like, never what it is.
func readEntry(hash []byte) (*entry, error) {
	s := string(hash)
	switch {
	case strings.HasPrefix(s, "$2a$"), strings.HasPrefix(s, "$2b$"), strings.HasPrefix(s, "$2y$"):
		if err := checkBcrypt(hash); err != nil {
			return nil, err
		}
		return &entry{bcrypt: bytes.Clone(hash)}, nil
	case strings.HasPrefix(s, sha1Marker):
		e := &entry{legacy: true}
		h := hash[len(sha1Marker):]
		if len(h) != hex.EncodedLen(sha1.Size) {
			return nil, fmt.Errorf("%s must be followed by exactly %d hex digits (a micro-gw 3.x SHA-1 password hash)", sha1Marker, hex.EncodedLen(sha1.Size))
		}
		if _, err := hex.Decode(e.sha1[:], h); err != nil {
			return nil, fmt.Errorf("%s must be followed by exactly %d hex digits (a micro-gw 3.x SHA-1 password hash)", sha1Marker, hex.EncodedLen(sha1.Size))
		}
		return e, nil
	}
	return nil, errors.New(refusedKind(s))
}

// checkBcrypt checks that hash is a whole bcrypt hash: "$2x$NN$" and 53
// characters of bcrypt's base64 (22 of salt, 31 of hash).
func checkBcrypt(hash []byte) error {
	const size = 60
	if len(hash) != size {
		return fmt.Errorf("malformed bcrypt hash: %d characters, want %d", len(hash), size)
	}
	if _, err := bcrypt.Cost(hash); err != nil {
		var cost bcrypt.InvalidCostError
		if errors.As(err, &cost) {
			return fmt.Errorf("bcrypt cost %d is outside %d..%d", int(cost), bcrypt.MinCost, bcrypt.MaxCost)
		}
		return errors.New("malformed bcrypt hash")
	}
	for _, c := range hash[7:] {
		if !isCryptChar(c) {
			return errors.New("malformed bcrypt hash: a character outside bcrypt's alphabet")
		}
	}
	return nil
}

// refusedKind names what a refused hash field looks like.
func refusedKind(s string) string {
	switch {
	case s == "":
		return "empty password hash"
	case strings.HasPrefix(s, "$apr1$"):
		return "Apache MD5 ($apr1$) entries are refused: MD5 is too fast to resist guessing"
	case strings.HasPrefix(s, "$1$"):
		return "MD5-crypt ($1$) entries are refused: MD5 is too fast to resist guessing"
	case strings.HasPrefix(s, "$5$"), strings.HasPrefix(s, "$6$"):
		return "SHA-crypt ($5$, $6$) entries are not supported; only bcrypt is"
	case strings.HasPrefix(s, "{SHA}"):
		return "Apache {SHA} entries (unsalted SHA-1) are refused"
	case strings.HasPrefix(s, "$"):
		return "unknown hash scheme; only bcrypt ($2y$, $2a$, $2b$) is supported"
	case isHex(s) && len(s) == hex.EncodedLen(sha1.Size):
		return "this looks like a micro-gw 3.x SHA-1 hex hash; to accept it while you migrate, write it as user:" + sha1Marker + "<hex> (it is refused bare because it cannot be told from a plaintext password)"
	case len(s) == 13 && allCrypt(s):
		return "this looks like a crypt(3) DES hash (or a plaintext password): both are refused"
	}
	return "this looks like a plaintext password: plaintext is refused"
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

func allCrypt(s string) bool {
	for i := 0; i < len(s); i++ {
		if !isCryptChar(s[i]) {
			return false
		}
	}
	return true
}

// isCryptChar reports whether c is in crypt's base64 alphabet [./0-9A-Za-z].
func isCryptChar(c byte) bool {
	return c == '.' || c == '/' || '0' <= c && c <= '9' || 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z'
}
