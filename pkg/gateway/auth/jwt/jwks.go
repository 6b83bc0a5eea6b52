package jwt

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"sync"
	"sync/atomic"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
)

const (
	// maxJWKSBytes bounds a key set response: real ones are a few KiB.
	maxJWKSBytes = 1 << 20
	// fetchTimeout bounds one key set fetch, connection to last byte.
	fetchTimeout = 5 * time.Second
	// refreshWait bounds how long a request with an unknown kid waits for
	// the refresh it triggered.
	refreshWait = 2 * time.Second
	// firstRetry is the first wait after a failed fetch; it doubles up to
	// the refresh interval.
	firstRetry = time.Second
	// unavailableLogGap spaces the "no keys yet" log lines.
	unavailableLogGap = 10 * time.Second
)

// keySet is one fetched key set; never modified once stored.
type keySet struct {
	keys  []key
	byKid map[string]*key
}

func newKeySet(keys []key) *keySet {
	s := &keySet{keys: keys, byKid: make(map[string]*key, len(keys))}
	for i := range s.keys {
		if k := &s.keys[i]; k.kid != "" {
			if _, dup := s.byKid[k.kid]; !dup {
				s.byKid[k.kid] = k
			}
		}
	}
	return s
}

// only returns the set's single key that fits alg, for a token without a
// kid; with several candidates the token must say which (kid).
func (s *keySet) only(alg string) *key {
	var found *key
	for i := range s.keys {
		if s.keys[i].fits(alg) {
			if found != nil {
				return nil
			}
			found = &s.keys[i]
		}
	}
	return found
}

// jwksSource keeps one issuer's key set fresh: fetched at start, every
// refresh interval, sooner after a failure (backoff), and on request (an
// unknown kid), at most once per minGap. The last good set is kept through
// outages and bad responses.
type jwksSource struct {
	url    string
	shown  string // url without a password, for logs
	issuer string
	// onlySource says the issuer has no other key (cert or secret): until
	// a first key set, its tokens cannot be verified at all.
	onlySource bool
	client     *http.Client
	log        *slog.Logger
	now        func() time.Time
	interval   time.Duration
	minGap     time.Duration

	set     atomic.Pointer[keySet] // nil until a first good fetch
	first   chan struct{}          // closed once the first fetch ended
	kick    chan struct{}          // wakes the loop for a requested fetch
	fetches atomic.Int64

	mu        sync.Mutex
	lastStart time.Time     // injected clock: when the last fetch was requested or started
	pending   chan struct{} // closed when the requested fetch ends
	inflight  chan struct{} // closed when the running fetch ends
	lastErr   string
	lastGood  time.Time // injected clock: when the last good key set arrived
	lastLog   time.Time // of the last "no keys yet" line
}

// run fetches until ctx ends.
func (s *jwksSource) run(ctx context.Context) {
	retry := firstRetry
	for first := true; ; first = false {
		ok := s.fetch(ctx)
		if first {
			close(s.first)
		}
		wait := s.interval
		if ok {
			retry = firstRetry
		} else {
			wait, retry = retry, min(retry*2, s.interval)
		}
		t := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			t.Stop()
			s.mu.Lock()
			if s.pending != nil {
				close(s.pending)
				s.pending = nil
			}
			s.mu.Unlock()
			return
		case <-t.C:
		case <-s.kick:
			t.Stop()
		}
	}
}

// fetch runs one fetch and reports whether it got a usable key set.
func (s *jwksSource) fetch(ctx context.Context) bool {
	s.mu.Lock()
	done := s.pending
	if done == nil {
		done = make(chan struct{})
		s.lastStart = s.now()
	}
	s.pending, s.inflight = nil, done
	s.mu.Unlock()

	s.fetches.Add(1)
	keys, err := s.get(ctx)
	if err == nil {
		s.set.Store(newKeySet(keys))
	}

	s.mu.Lock()
	s.inflight = nil
	if err != nil {
		s.lastErr = err.Error()
	} else {
		s.lastErr, s.lastGood = "", s.now()
	}
	s.mu.Unlock()
	close(done)

	if err != nil {
		if ctx.Err() == nil {
			held := 0
			if set := s.set.Load(); set != nil {
				held = len(set.keys)
			}
			s.log.Warn("JWKS fetch failed; keeping the last good key set and retrying",
				"issuer", s.issuer, "jwks_url", s.shown, "error", err, "keys_kept", held)
		}
		return false
	}
	s.log.Debug("JWKS fetched", "issuer", s.issuer, "jwks_url", s.shown, "keys", len(keys))
	return true
}

// get downloads and parses the key set.
func (s *jwksSource) get(ctx context.Context) ([]key, error) {
	ctx, cancel := context.WithTimeout(ctx, fetchTimeout)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.url, nil)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Accept", "application/json")
	resp, err := s.client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("the JWKS URL answered %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxJWKSBytes+1))
	if err != nil {
		return nil, fmt.Errorf("reading the key set: %w", err)
	}
	if len(body) > maxJWKSBytes {
		return nil, fmt.Errorf("the key set is larger than %d bytes", maxJWKSBytes)
	}
	keys, skipped, err := parseJWKS(body)
	for _, why := range skipped {
		s.log.Warn("JWKS key skipped", "issuer", s.issuer, "jwks_url", s.shown, "reason", why)
	}
	return keys, err
}

// refresh asks for a fetch now. It returns a channel closed when that
// fetch (or the one already running or requested) ends, or nil when the
// last fetch started less than minGap ago: then the caller does not wait.
func (s *jwksSource) refresh() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.pending != nil {
		return s.pending
	}
	if s.inflight != nil {
		return s.inflight
	}
	now := s.now()
	if !s.lastStart.IsZero() && now.Sub(s.lastStart) < s.minGap {
		return nil
	}
	s.lastStart = now
	s.pending = make(chan struct{})
	select {
	case s.kick <- struct{}{}:
	default:
	}
	return s.pending
}

// awaitRefresh triggers a refresh when allowed and waits for it, at most
// refreshWait. It reports whether a fetch ended meanwhile.
func (s *jwksSource) awaitRefresh() bool {
	done := s.refresh()
	if done == nil {
		return false
	}
	t := time.NewTimer(refreshWait)
	defer t.Stop()
	select {
	case <-done:
		return true
	case <-t.C:
		return false
	}
}

// logUnavailable says, at most once per unavailableLogGap, that tokens are
// refused because no key set was ever fetched.
func (s *jwksSource) logUnavailable() {
	s.mu.Lock()
	now, lastErr := s.now(), s.lastErr
	quiet := !s.lastLog.IsZero() && now.Sub(s.lastLog) < unavailableLogGap
	if !quiet {
		s.lastLog = now
	}
	s.mu.Unlock()
	if !quiet {
		s.log.Error("refusing JWTs (401, 900900): no signing keys were fetched yet from the issuer's JWKS URL; check that it is reachable",
			"issuer", s.issuer, "jwks_url", s.shown, "last_error", lastErr)
	}
}

// checkJWKSURL allows https:// URLs, and http:// to a loopback host only:
// keys fetched in clear over a network could be replaced by anyone on path.
func checkJWKSURL(raw string) error {
	u, err := url.Parse(raw)
	if err != nil || u.Host == "" {
		return fmt.Errorf("the JWKS URL %q does not parse as an absolute URL; write https://host/path", endpoint.Redact(raw))
	}
	switch u.Scheme {
	case "https":
		return nil
	case "http":
		if isLoopback(u.Hostname()) {
			return nil
		}
		return fmt.Errorf("the JWKS URL %s is http:// to a host that is not loopback; use https:// (keys fetched in clear could be replaced on the way)", endpoint.Redact(raw))
	}
	return fmt.Errorf("the JWKS URL %s is not https://; use https:// (or http:// on loopback)", endpoint.Redact(raw))
}

// isLoopback reports whether host is localhost or a loopback IP.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// defaultClient follows redirects only to URLs checkJWKSURL allows.
func defaultClient() *http.Client {
	return &http.Client{
		Timeout: fetchTimeout,
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if len(via) >= 5 {
				return fmt.Errorf("more than 5 redirects")
			}
			return checkJWKSURL(req.URL.String())
		},
	}
}
