package basic

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"sync"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
)

// cacheKey is a keyed SHA-256 of a user and password.
type cacheKey [sha256.Size]byte

// cache remembers successful bcrypt checks of one load, so that a client
// that sends the same credentials on every request pays bcrypt once. It
// holds at most max entries; when full, a random one makes room (Go's map
// iteration starts at a random entry).
type cache struct {
	secret [32]byte
	max    int

	mu sync.RWMutex
	m  map[cacheKey]*auth.Principal
}

func newCache(max int) (*cache, error) {
	c := &cache{max: max, m: make(map[cacheKey]*auth.Principal, max)}
	if _, err := rand.Read(c.secret[:]); err != nil {
		return nil, fmt.Errorf("make the basic-auth cache key: %w", err)
	}
	return c, nil
}

// keyBuf is the size of the stack buffer key hashes in; longer credentials
// take a heap buffer.
const keyBuf = 512

// key hashes secret, len(user), user and password. The secret is random per
// load, so a key cannot be tested against guessed passwords offline. The
// user's length keeps ("ab","c") and ("a","bc") apart.
func (c *cache) key(user, password []byte) cacheKey {
	n := len(c.secret) + 4 + len(user) + len(password)
	var stack [keyBuf]byte
	var b []byte
	if n <= len(stack) {
		b = stack[:0]
	} else {
		b = make([]byte, 0, n)
	}
	b = append(b, c.secret[:]...)
	b = binary.BigEndian.AppendUint32(b, uint32(len(user)))
	b = append(b, user...)
	b = append(b, password...)
	k := cacheKey(sha256.Sum256(b))
	clear(b)
	return k
}

// get returns the principal cached under k, or nil.
func (c *cache) get(k *cacheKey) *auth.Principal {
	c.mu.RLock()
	p := c.m[*k]
	c.mu.RUnlock()
	return p
}

// put caches p under k, evicting a random entry when full.
func (c *cache) put(k *cacheKey, p *auth.Principal) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if _, ok := c.m[*k]; !ok && len(c.m) >= c.max {
		for old := range c.m {
			delete(c.m, old)
			break
		}
	}
	c.m[*k] = p
}

// len is the number of entries.
func (c *cache) len() int {
	c.mu.RLock()
	defer c.mu.RUnlock()
	return len(c.m)
}
