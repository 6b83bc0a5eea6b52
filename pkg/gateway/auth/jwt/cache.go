package jwt

import (
	"sync"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
)

// cacheShards spreads the cache's lock: a power of two, picked by the
// first byte of the token's hash (uniform: it is SHA-256).
const cacheShards = 16

// cache holds verified tokens by SHA-256, each until a deadline. It is
// bounded: each shard evicts its oldest insertion when full (a ring of
// keys, O(1)). Lookups allocate nothing.
type cache struct {
	shards [cacheShards]shard
}

type shard struct {
	mu   sync.Mutex
	m    map[[32]byte]cacheEntry
	ring [][32]byte // keys in insertion order; ring[next] is the oldest
	next int
	_    [40]byte // keeps shards' locks on separate cache lines
}

type cacheEntry struct {
	p     *auth.Principal
	until int64 // unix nanoseconds (injected clock): valid while now < until
}

// newCache makes a cache of about size entries in all (at least one per shard).
func newCache(size int) *cache {
	per := max(1, (size+cacheShards-1)/cacheShards)
	c := &cache{}
	for i := range c.shards {
		c.shards[i].m = make(map[[32]byte]cacheEntry, per)
		c.shards[i].ring = make([][32]byte, 0, per)
	}
	return c
}

// get returns the principal cached for h, if still valid at now.
func (c *cache) get(h *[32]byte, now int64) (*auth.Principal, bool) {
	s := &c.shards[h[0]%cacheShards]
	s.mu.Lock()
	e, ok := s.m[*h]
	s.mu.Unlock()
	if !ok || now >= e.until {
		return nil, false
	}
	return e.p, true
}

// put caches p for h until the deadline.
func (c *cache) put(h *[32]byte, p *auth.Principal, until int64) {
	s := &c.shards[h[0]%cacheShards]
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.m[*h]; ok {
		s.m[*h] = cacheEntry{p, until} // refreshed; keeps its ring slot
		return
	}
	if len(s.ring) < cap(s.ring) {
		s.ring = append(s.ring, *h)
	} else {
		// Evict the oldest insertion. Entries leave the map only here, so
		// every slot holds a live key and the map never outgrows the ring.
		delete(s.m, s.ring[s.next])
		s.ring[s.next] = *h
		s.next = (s.next + 1) % len(s.ring)
	}
	s.m[*h] = cacheEntry{p, until}
}
