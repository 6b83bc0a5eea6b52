// Package endpoint holds the one value the proxy reads on every request and
// discovery writes on every change: the URL a slot currently routes to.
//
// A Binding is read lock-free (one atomic load). Static URLs get a Binding
// that never changes; an etcd(key, default) entry gets the Binding its key's
// resolver keeps current, shared by every place that names the same key.
package endpoint

import (
	"fmt"
	"net/url"
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
func Parse(s string) (*Target, error) {
	raw := strings.TrimSpace(s)
	if raw == "" {
		return nil, fmt.Errorf("empty URL")
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%q is not a URL: %v", raw, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("%q is not an absolute http(s) URL", raw)
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("%q has no host", raw)
	}
	if u.User != nil {
		return nil, fmt.Errorf("%q carries credentials; put them elsewhere", raw)
	}
	if u.RawQuery != "" || u.Fragment != "" {
		return nil, fmt.Errorf("%q has a query or fragment; an endpoint is a base URL", raw)
	}
	return &Target{URL: u, Raw: raw, Base: strings.TrimRight(u.Scheme+"://"+u.Host+u.EscapedPath(), "/")}, nil
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
