package throttle

import (
	"hash/maphash"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// Decision is one request's answer, with what the IETF RateLimit header
// fields and Retry-After say. Limit is 0 for Unlimited, which sends no
// headers.
type Decision struct {
	Allowed bool
	// Limit is the policy's count per window.
	Limit int64
	// Remaining is how many more requests would pass right now.
	Remaining int64
	// Reset is how long until the full Limit is available again.
	Reset time.Duration
	// RetryAfter is, on a refusal, how long until one request passes.
	RetryAfter time.Duration
}

// Config sets up a Limiter. The zero value counts locally with the defaults.
type Config struct {
	// MaxKeys bounds the keys held (0: DefaultMaxKeys). Keys pinned by a
	// Plan (resource and API tiers) come on top; they are few.
	MaxKeys int
	// Clock is the time source (nil: time.Now). Tests inject one.
	Clock func() time.Time
	// Redis, when set, shares counts with every gateway using the same
	// Redis; nil counts on this gateway alone.
	Redis *RedisConfig
	// Replicas is how many gateways share the limits (0 or 1: one). While
	// Redis cannot be reached each counts Limit/Replicas locally.
	Replicas int
	// Logger receives Redis's switches to and from local counting (nil:
	// slog.Default()).
	Logger *slog.Logger
}

// DefaultMaxKeys bounds the keys held when Config.MaxKeys is 0: about 40 MB
// at most (an entry costs under 160 bytes with its map slot and key).
const DefaultMaxKeys = 1 << 18

// nShards spreads keys over independent locks; a power of two.
const nShards = 64

// Limiter counts requests per key. It is safe for concurrent use.
type Limiter struct {
	clock  func() time.Time
	epoch  time.Time
	seed   maphash.Seed
	shards [nShards]shard
	redis  *shared
	// replicas divides each limit while Redis cannot be reached.
	replicas int64
}

// shard is one lock's worth of keys. ring holds the evictable entries in
// CLOCK order; pinned entries are in m only.
type shard struct {
	mu   sync.RWMutex
	m    map[string]*entry
	ring []*entry
	hand int
	cap  int
	_    [64]byte // keeps neighbouring shards' locks off one cache line
}

// entry is one key's state. tat is the GCRA's theoretical arrival time in
// nanoseconds since the limiter's epoch (0: never used).
type entry struct {
	tat atomic.Int64
	// uses counts recent hits up to maxUses; the CLOCK hand lowers it.
	uses atomic.Uint32
	key  string
	// slot is the entry's index in its shard's ring; -1 when pinned.
	slot int
	// batch is the Redis-mode state; nil when counting locally.
	batch *batch
}

// New builds a limiter. With cfg.Redis it connects lazily: a Redis that is
// down at start only means counting locally until it answers.
func New(cfg Config) (*Limiter, error) {
	l := &Limiter{clock: cfg.Clock, seed: maphash.MakeSeed(), replicas: int64(max(cfg.Replicas, 1))}
	if l.clock == nil {
		l.clock = time.Now
	}
	l.epoch = l.clock()
	keys := cfg.MaxKeys
	if keys <= 0 {
		keys = DefaultMaxKeys
	}
	per := max(keys/nShards, 1)
	for i := range l.shards {
		l.shards[i].m = make(map[string]*entry)
		l.shards[i].cap = per
	}
	if cfg.Redis != nil {
		log := cfg.Logger
		if log == nil {
			log = slog.Default()
		}
		s, err := newShared(*cfg.Redis, log)
		if err != nil {
			return nil, err
		}
		l.redis = s
	}
	return l, nil
}

// Close releases the Redis connections, if any.
func (l *Limiter) Close() error {
	if l.redis != nil {
		return l.redis.client.Close()
	}
	return nil
}

// now is the limiter's clock in nanoseconds since its epoch.
func (l *Limiter) now() int64 { return int64(l.clock().Sub(l.epoch)) }

// Allow counts one request for key under r and says whether it may pass.
// A nil r is Unlimited. It allocates nothing when key is already held.
func (l *Limiter) Allow(key []byte, r *Rate) Decision {
	if r == nil {
		return Decision{Allowed: true}
	}
	now := l.now()
	d, _ := l.decide(l.get(key, now), r, now)
	return d
}

// AllowString is Allow for a key held as a string.
func (l *Limiter) AllowString(key string, r *Rate) Decision {
	if r == nil {
		return Decision{Allowed: true}
	}
	now := l.now()
	d, _ := l.decide(l.getString(key, now), r, now)
	return d
}

// How a request was counted, so that it can be given back.
const (
	viaGCRA  = iota + 1 // the entry's own GCRA (local, or Redis's fallback)
	viaBatch            // a token of a batch taken from Redis
)

// decide counts one request on e.
func (l *Limiter) decide(e *entry, r *Rate, now int64) (Decision, uint8) {
	if e.batch != nil {
		return l.redis.decide(l, e, r, now)
	}
	return gcra(&e.tat, r.params(), now), viaGCRA
}

// giveBack undoes one admitted request, when a later tier refused it.
func (l *Limiter) giveBack(e *entry, r *Rate, via uint8) {
	switch via {
	case viaGCRA:
		iv := r.interval
		if e.batch != nil {
			iv = r.share(l.replicas).interval
		}
		e.tat.Add(-iv)
	case viaBatch:
		e.batch.tokens.Add(1)
	}
}

// gcra is one step of the generic cell rate algorithm on tat: the request
// passes when the theoretical arrival time it would set stays within tau of
// now. Lock-free: a compare-and-swap per request.
func gcra(tat *atomic.Int64, p params, now int64) Decision {
	for {
		old := tat.Load()
		t := max(old, now)
		next := t + p.interval
		if next-now > p.tau {
			return Decision{Limit: p.limit, Reset: time.Duration(t - now), RetryAfter: time.Duration(next - p.tau - now)}
		}
		if tat.CompareAndSwap(old, next) {
			return Decision{Allowed: true, Limit: p.limit, Remaining: (p.tau - (next - now)) / p.interval, Reset: time.Duration(next - now)}
		}
	}
}

// get returns key's entry, adding it when new.
func (l *Limiter) get(key []byte, now int64) *entry {
	s := &l.shards[maphash.Bytes(l.seed, key)&(nShards-1)]
	s.mu.RLock()
	e := s.m[string(key)]
	s.mu.RUnlock()
	if e == nil {
		return s.insert(l, string(key), now)
	}
	e.used()
	return e
}

func (l *Limiter) getString(key string, now int64) *entry {
	s := &l.shards[maphash.String(l.seed, key)&(nShards-1)]
	s.mu.RLock()
	e := s.m[key]
	s.mu.RUnlock()
	if e == nil {
		return s.insert(l, key, now)
	}
	e.used()
	return e
}

// maxUses is where an entry's use count saturates: a key hit often needs
// that many turns of the CLOCK hand without a hit to be evicted, so a
// flood of keys each used once or twice cannot push out a steady client.
const maxUses = 3

// used records a hit for the CLOCK hand. It writes only while the count is
// below its ceiling, so a hot key's cache line stays shared.
func (e *entry) used() {
	if u := e.uses.Load(); u < maxUses {
		e.uses.Store(u + 1)
	}
}

// pin returns key's entry, held for the limiter's life: a Plan's keys that
// are known when the route is built. A pinned entry is never evicted.
func (l *Limiter) pin(key string) *entry {
	s := &l.shards[maphash.String(l.seed, key)&(nShards-1)]
	s.mu.Lock()
	defer s.mu.Unlock()
	e := s.m[key]
	if e == nil {
		e = l.newEntry(key)
		s.m[key] = e
	} else if e.slot >= 0 {
		s.unring(e)
	}
	e.slot = -1
	return e
}

func (l *Limiter) newEntry(key string) *entry {
	e := &entry{key: key}
	if l.redis != nil {
		e.batch = &batch{}
	}
	return e
}

// insert adds key, evicting one entry when the shard is full.
func (s *shard) insert(l *Limiter, key string, now int64) *entry {
	s.mu.Lock()
	defer s.mu.Unlock()
	if e := s.m[key]; e != nil {
		return e
	}
	e := l.newEntry(key)
	if len(s.ring) < s.cap {
		e.slot = len(s.ring)
		s.ring = append(s.ring, e)
	} else {
		v := s.victim(now)
		delete(s.m, v.key)
		e.slot = v.slot
		s.ring[v.slot] = e
	}
	s.m[key] = e
	return e
}

// victim picks the entry to evict by CLOCK with use counts (GCLOCK): the
// first entry from the hand that is idle (nothing would be lost) or whose
// count is zero; the hand lowers the counts it passes. After enough turns
// to bring every count to zero it takes the one under the hand, so hits
// racing the sweep cannot hold it.
func (s *shard) victim(now int64) *entry {
	n := len(s.ring)
	for range (maxUses + 1) * n {
		e := s.ring[s.hand]
		s.hand = (s.hand + 1) % n
		u := e.uses.Load()
		if u == 0 || e.idle(now) {
			return e
		}
		e.uses.Store(u - 1)
	}
	e := s.ring[s.hand]
	s.hand = (s.hand + 1) % n
	return e
}

// unring removes a pinned entry from the ring by moving the last one in.
func (s *shard) unring(e *entry) {
	last := len(s.ring) - 1
	s.ring[e.slot] = s.ring[last]
	s.ring[e.slot].slot = e.slot
	s.ring = s.ring[:last]
	if s.hand >= len(s.ring) {
		s.hand = 0
	}
}

// idle reports whether e's state equals a fresh entry's, so dropping it
// loses nothing: its GCRA has fully recovered and it holds no Redis tokens
// or refusal.
func (e *entry) idle(now int64) bool {
	if e.tat.Load() > now {
		return false
	}
	return e.batch == nil || e.batch.idle(now)
}

// Status is what /status shows of the limiter.
type Status struct {
	// Mode is "local", "redis", or "redis-unreachable" while counting
	// locally because Redis does not answer.
	Mode string `json:"mode"`
	// Keys is how many keys are held.
	Keys int `json:"keys"`
	// RedisRoundTrips counts the batches asked of Redis.
	RedisRoundTrips int64 `json:"redisRoundTrips,omitempty"`
}

// Status reports the limiter's mode and size.
func (l *Limiter) Status() Status {
	st := Status{Mode: "local"}
	for i := range l.shards {
		s := &l.shards[i]
		s.mu.RLock()
		st.Keys += len(s.m)
		s.mu.RUnlock()
	}
	if l.redis != nil {
		st.Mode = "redis"
		if l.redis.down.Load() {
			st.Mode = "redis-unreachable"
		}
		st.RedisRoundTrips = l.redis.trips.Load()
	}
	return st
}
