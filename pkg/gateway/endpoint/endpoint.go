// Package endpoint holds the one value the proxy reads on every request and
// discovery writes on every change: the URL a slot currently routes to.
//
// A Binding is read lock-free (one atomic load). Static URLs get a Binding
// that never changes; an etcd(key, default) entry gets the Binding its key's
// resolver keeps current, shared by every place that names the same key.
package endpoint

import (
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
)

// Target is an immutable, validated backend base URL.
type Target struct {
	// URL is absolute http or https, without query or fragment.
	URL *url.URL
	// Raw is the text the URL came from (a definition or an etcd value).
	Raw string
	// Base is URL without a trailing slash; the resource path is appended to it.
	Base string
}

// Parse validates s as an absolute http(s) URL and returns a Target.
// It is the single check used both at build time and for etcd values.
// Its errors show s through Redact: a password in s never reaches a log.
func Parse(s string) (*Target, error) {
	raw := strings.TrimSpace(s)
	if raw == "" {
		return nil, fmt.Errorf("empty URL")
	}
	shown := Redact(raw)
	u, err := url.Parse(raw)
	if err != nil {
		if shown != raw {
			// The parser's reason quotes a piece of the URL, which may be
			// a piece of the password ("invalid port \":pa\" after host").
			return nil, fmt.Errorf("%q is not a URL: the user information is malformed; an endpoint carries no credentials", shown)
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err // the url.Error repeats the URL
		}
		return nil, fmt.Errorf("%q is not a URL: %v", shown, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", shown)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%q has no host", shown)
	}
	if err := CheckPort(u); err != nil {
		return nil, fmt.Errorf("%q %v", shown, err)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%q carries credentials; put them elsewhere", shown)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q has a query or fragment; an endpoint is a base URL", shown)
	}
	return &Target{URL: u, Raw: raw, Base: strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/")}, nil
}

// CheckPort accepts a URL without a port, or with a port from 1 to 65535:
// url.Parse only checks that a port is digits, so :0, :65536 and :99999
// would pass and fail every request. An empty port ("host:") is refused
// too: it is a typo more often than a way to say the default port. It is
// the one port rule of backend URLs and etcd member URLs.
func CheckPort(u *url.URL) error {
	p := u.Port()
	if p == "" && !strings.HasSuffix(u.Host, ":") {
		return nil
	}
	if n, err := strconv.Atoi(p); err != nil || n < 1 || n > 65535 {
		return fmt.Errorf("has port %q; a port is 1 to 65535", p)
	}
	return nil
}

// Redact returns s with the credentials of its user information replaced
// by "xxxxx": http://user:secret@host/ becomes http://user:xxxxx@host/, as
// url.URL.Redacted does, and a lone user name, which may be a token, is
// replaced whole. It works on the text, so it also redacts a value that
// does not parse as a URL. Every URL that reaches a log or a status page
// from an etcd value or a flag goes through it.
func Redact(s string) string {
	start := 0 // where the user information would begin
	if i := strings.Index(s, "//"); i >= 0 {
		start = i + 2
	}
	rest := s[start:]
	authority := rest
	if j := strings.IndexAny(rest, "/?#"); j >= 0 {
		authority = rest[:j]
	}
	at := strings.LastIndex(authority, "@")
	switch {
	case at >= 0 && start == 0:
		// No "//": a "user:password@host" without a scheme, alone or
		// quoted in a message; it starts after a space, quote, '(', ','
		// or '='.
		start = strings.LastIndexAny(s[:at], " \t\"'(,=") + 1
		rest, at = s[start:], at-start
	case at < 0:
		if at = unescapedPasswordEnd(s, rest, authority); at < 0 {
			return s
		}
	}
	user, _, hasPassword := strings.Cut(rest[:at], ":")
	if !hasPassword {
		user = ""
	} else {
		user += ":"
	}
	return s[:start] + user + "xxxxx" + s[start+at:]
}

// unescapedPasswordEnd finds the '@' that ends a password holding an
// unescaped '/', '?' or '#' ("http://u:pa/ss@host/"), which ends the
// authority early for a parser, so that the text before it looks like
// "host:port"; it returns -1 when s has no such password. Such a value
// does not parse as a URL: its "port" is not digits.
func unescapedPasswordEnd(s, rest, authority string) int {
	colon, at := strings.IndexByte(authority, ':'), strings.IndexByte(rest, '@')
	if colon < 0 || at < 0 || isDigits(authority[colon+1:]) {
		return -1
	}
	if _, err := url.Parse(s); err == nil {
		return -1
	}
	return at
}

func isDigits(s string) bool {
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// Binding is a slot holding the current Target.
type Binding struct {
	p atomic.Pointer[Target]
}

// NewBinding returns a Binding holding t.
func NewBinding(t *Target) *Binding {
	b := &Binding{}
	b.p.Store(t)
	return b
}

// Load returns the current target. It never returns nil for a Binding made by NewBinding.
func (b *Binding) Load() *Target { return b.p.Load() }

// Store replaces the current target. t must be non-nil and validated by Parse.
func (b *Binding) Store(t *Target) { b.p.Store(t) }
