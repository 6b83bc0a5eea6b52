package etcdstore

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/discovery"
	"github.com/micro-gw/micro-gw/pkg/gateway/settings"
)

var (
	_ auth.APIKeyStore = (*Store)(nil)
	_ auth.Revocations = (*Store)(nil)
)

// Options configures a Store.
type Options struct {
	// APIKeyPrefix and RevokedPrefix are the etcd prefixes (--apikey-prefix,
	// --revoked-prefix); empty uses the settings' defaults.
	APIKeyPrefix, RevokedPrefix string
	// Now is the clock that expires keys; nil uses time.Now.
	Now func() time.Time
	// Logger receives changes and rejected records; nil uses slog.Default().
	Logger *slog.Logger
}

// Store holds the API keys and revoked token ids found in etcd. Create it
// with New before the Resolver starts.
type Store struct {
	opts Options
	now  func() time.Time
	log  *slog.Logger
	res  *discovery.Resolver

	keys    atomic.Pointer[keySet]
	revoked atomic.Pointer[revokedSet]

	mu          sync.Mutex // guards the fields below
	keysLoaded  bool
	revLoaded   bool
	rejected    map[string]rejection // by etcd key: API key records ignored
	lastRejects *Rejected
}

// keySet is one immutable snapshot of the API keys.
type keySet struct {
	m   map[[32]byte]*keyEntry
	rev int64 // etcd revision the snapshot reflects
}

// keyEntry is one API key's record, ready to answer lookups.
type keyEntry struct {
	p      *auth.Principal
	modRev int64
}

// revokedSet is one immutable snapshot of the revoked token ids.
type revokedSet struct {
	m   map[string]struct{}
	rev int64
}

// rejection is why an etcd value was ignored, at which revision.
type rejection struct {
	modRev int64
	reason string
}

// CheckPrefixes refuses API key and revocation prefixes that overlap (one
// starts with the other, equal ones too): each watch would read the other's
// records as its own.
func CheckPrefixes(apiKey, revoked string) error {
	if strings.HasPrefix(apiKey, revoked) || strings.HasPrefix(revoked, apiKey) {
		return fmt.Errorf("--apikey-prefix=%q and --revoked-prefix=%q overlap: one starts with the other; give them separate prefixes", apiKey, revoked)
	}
	return nil
}

// New creates a Store that follows its two prefixes through r. Call it
// before r.Start; r must have etcd endpoints for anything to be found.
func New(r *discovery.Resolver, opts Options) (*Store, error) {
	if r == nil {
		return nil, errors.New("etcdstore: API keys and revocations live in etcd; give --etcdurl")
	}
	if opts.APIKeyPrefix == "" {
		opts.APIKeyPrefix = settings.Named("apikey-prefix").Default
	}
	if opts.RevokedPrefix == "" {
		opts.RevokedPrefix = settings.Named("revoked-prefix").Default
	}
	if err := CheckPrefixes(opts.APIKeyPrefix, opts.RevokedPrefix); err != nil {
		return nil, err
	}
	s := &Store{opts: opts, now: opts.Now, log: opts.Logger, res: r, rejected: map[string]rejection{}}
	if s.now == nil {
		s.now = time.Now
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.keys.Store(&keySet{m: map[[32]byte]*keyEntry{}})
	s.revoked.Store(&revokedSet{m: map[string]struct{}{}})
	if err := r.WatchPrefix(opts.APIKeyPrefix, keySink{s}); err != nil {
		return nil, err
	}
	if err := r.WatchPrefix(opts.RevokedPrefix, revokedSink{s}); err != nil {
		return nil, err
	}
	return s, nil
}

// LookupKey finds an API key by its SHA-256. It refuses an unknown or
// expired key. It allocates nothing.
func (s *Store) LookupKey(key []byte) (*auth.Principal, bool) {
	e := s.keys.Load().m[sha256.Sum256(key)]
	if e == nil {
		return nil, false
	}
	if exp := e.p.Expires; !exp.IsZero() && !s.now().Before(exp) {
		return nil, false
	}
	return e.p, true
}

// Revoked reports whether the token id jti was revoked. It allocates nothing.
func (s *Store) Revoked(jti string) bool {
	if jti == "" {
		return false
	}
	_, ok := s.revoked.Load().m[jti]
	return ok
}

// Revisions returns the etcd revisions the API keys and the revocations in
// use reflect: every change at or below them is applied.
func (s *Store) Revisions() (keys, revoked int64) {
	return s.keys.Load().rev, s.revoked.Load().rev
}

// Status is a snapshot for the gateway's /status.
type Status struct {
	// Connected is true while etcd is watched and the connection is up.
	Connected bool         `json:"connected"`
	APIKeys   PrefixStatus `json:"api_keys"`
	Revoked   PrefixStatus `json:"revoked"`
}

// PrefixStatus describes one prefix.
type PrefixStatus struct {
	Prefix string `json:"prefix"`
	// Loaded is true once the prefix was read from etcd.
	Loaded bool `json:"loaded"`
	// Count is the number of entries in use (API keys: expired ones too).
	Count int `json:"count"`
	// Revision is the etcd revision the entries reflect.
	Revision int64 `json:"revision"`
	// Rejected counts the etcd values ignored as unusable (API keys only);
	// LastRejected is the latest.
	Rejected     int       `json:"rejected,omitempty"`
	LastRejected *Rejected `json:"last_rejected,omitempty"`
}

// Rejected names an ignored record by its etcd key, never its value.
type Rejected struct {
	Key         string    `json:"key"`
	Reason      string    `json:"reason"`
	ModRevision int64     `json:"mod_revision"`
	At          time.Time `json:"at"`
}

// Status returns the counts, revisions and the connection.
func (s *Store) Status() Status {
	connected := s.res.EtcdStatus().Connected // before s.mu: never hold both
	ks, rs := s.keys.Load(), s.revoked.Load()
	s.mu.Lock()
	defer s.mu.Unlock()
	st := Status{
		Connected: connected,
		APIKeys: PrefixStatus{Prefix: s.opts.APIKeyPrefix, Loaded: s.keysLoaded, Count: len(ks.m), Revision: ks.rev,
			Rejected: len(s.rejected)},
		Revoked: PrefixStatus{Prefix: s.opts.RevokedPrefix, Loaded: s.revLoaded, Count: len(rs.m), Revision: rs.rev},
	}
	if s.lastRejects != nil {
		r := *s.lastRejects
		st.APIKeys.LastRejected = &r
	}
	return st
}

// keySink receives the API key prefix from the Resolver.
type keySink struct{ s *Store }

func (k keySink) Reset(kvs []discovery.KV, rev int64, source string) {
	s := k.s
	old := s.keys.Load()
	next := &keySet{m: make(map[[32]byte]*keyEntry, len(kvs)), rev: rev}
	s.mu.Lock()
	seen := make(map[string]bool, len(kvs))
	for _, kv := range kvs {
		seen[kv.Key] = true
		s.put(old, next, kv)
	}
	for key := range s.rejected { // a deleted bad record is no longer rejected
		if !seen[key] {
			delete(s.rejected, key)
		}
	}
	first := !s.keysLoaded
	s.keysLoaded = true
	s.mu.Unlock()
	s.keys.Store(next)
	if first || len(next.m) != len(old.m) {
		s.log.Info("API keys read from etcd", "prefix", s.opts.APIKeyPrefix, "count", len(next.m), "revision", rev, "source", source)
	}
}

func (k keySink) Apply(changes []discovery.KV, rev int64) {
	s := k.s
	old := s.keys.Load()
	next := &keySet{m: maps.Clone(old.m), rev: rev}
	s.mu.Lock()
	for _, kv := range changes {
		if kv.Deleted {
			delete(s.rejected, kv.Key)
			if h, err := parseHash(strings.TrimPrefix(kv.Key, s.opts.APIKeyPrefix)); err == nil {
				if e := next.m[h]; e != nil {
					delete(next.m, h)
					s.log.Info("API key removed", "id", e.p.ID, "application", e.p.Subject, "revision", kv.ModRevision)
				}
			}
			continue
		}
		if e := s.put(old, next, kv); e != nil {
			s.log.Info("API key added or changed", "id", e.p.ID, "application", e.p.Subject, "keyType", e.p.KeyType, "revision", kv.ModRevision)
		}
	}
	s.mu.Unlock()
	s.keys.Store(next)
}

// put adds the record kv to next, or, if it is unusable, logs it once and
// keeps the entry old had for that key. It returns the entry added, or nil.
// s.mu is held.
func (s *Store) put(old, next *keySet, kv discovery.KV) *keyEntry {
	hexHash := strings.TrimPrefix(kv.Key, s.opts.APIKeyPrefix)
	h, err := parseHash(hexHash)
	if err != nil {
		s.reject(kv, err)
		return nil
	}
	if e := old.m[h]; e != nil && e.modRev == kv.ModRevision {
		next.m[h] = e // unchanged: keep the same principal
		return nil
	}
	rec, exp, err := ParseRecord(kv.Value)
	if err != nil {
		s.reject(kv, err)
		if e := old.m[h]; e != nil {
			next.m[h] = e
		}
		return nil
	}
	delete(s.rejected, kv.Key)
	e := &keyEntry{p: rec.principal(hexHash, exp), modRev: kv.ModRevision}
	next.m[h] = e
	return e
}

// reject records and logs an unusable record, once per revision of it.
// s.mu is held.
func (s *Store) reject(kv discovery.KV, err error) {
	if r, ok := s.rejected[kv.Key]; ok && r.modRev == kv.ModRevision {
		return
	}
	s.rejected[kv.Key] = rejection{modRev: kv.ModRevision, reason: err.Error()}
	s.lastRejects = &Rejected{Key: kv.Key, Reason: err.Error(), ModRevision: kv.ModRevision, At: time.Now()}
	s.log.Warn("ignoring unusable API key record in etcd: the previous record, if any, stays in force (the key is accepted as before); fix the record, or refuse the key with micro-gw apikey revoke",
		"key", kv.Key, "reason", err.Error(), "revision", kv.ModRevision)
}

// revokedSink receives the revoked token prefix from the Resolver.
type revokedSink struct{ s *Store }

func (r revokedSink) Reset(kvs []discovery.KV, rev int64, source string) {
	s := r.s
	old := s.revoked.Load()
	next := &revokedSet{m: make(map[string]struct{}, len(kvs)), rev: rev}
	for _, kv := range kvs {
		if jti := strings.TrimPrefix(kv.Key, s.opts.RevokedPrefix); jti != "" {
			next.m[jti] = struct{}{}
		}
	}
	s.mu.Lock()
	first := !s.revLoaded
	s.revLoaded = true
	s.mu.Unlock()
	s.revoked.Store(next)
	if first || len(next.m) != len(old.m) {
		s.log.Info("revoked tokens read from etcd", "prefix", s.opts.RevokedPrefix, "count", len(next.m), "revision", rev, "source", source)
	}
}

func (r revokedSink) Apply(changes []discovery.KV, rev int64) {
	s := r.s
	next := &revokedSet{m: maps.Clone(s.revoked.Load().m), rev: rev}
	for _, kv := range changes {
		jti := strings.TrimPrefix(kv.Key, s.opts.RevokedPrefix)
		if jti == "" {
			continue
		}
		if kv.Deleted {
			delete(next.m, jti)
			s.log.Info("token revocation ended (expired or deleted)", "jti", jti, "revision", kv.ModRevision)
		} else {
			next.m[jti] = struct{}{}
			s.log.Info("token revoked", "jti", jti, "revision", kv.ModRevision)
		}
	}
	s.revoked.Store(next)
}
