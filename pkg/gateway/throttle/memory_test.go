package throttle

import (
	"encoding/binary"
	"fmt"
	"hash/maphash"
	"runtime"
	"testing"
	"time"
)

// TestMillionClientIPsKeepMemoryBounded floods a limiter capped at 65,536
// keys with a million distinct client IPs, each over its limit (so no
// entry is idle and every eviction loses state, the worst case), while one
// steady client keeps using its key. The keys held never pass the cap, the
// steady client's state survives the flood, and the heap stays under a
// bound worked out from the cap.
//
// The bound: an entry is a 48-byte struct, a 16-byte key rounded to 16,
// one map slot (16-byte string header + 8-byte pointer + control byte, at
// most half full after growth: ~50 bytes) and an 8-byte ring slot: ~130
// bytes. 65,536 entries × 256 bytes (twice that) = 16 MiB, plus 16 MiB for
// the test's own runtime and measurement noise. Without the cap a million
// entries take ~130 MB.
func TestMillionClientIPsKeepMemoryBounded(t *testing.T) {
	const maxKeys, flood = 1 << 16, 1_000_000
	c := &clock{}
	l := newLocal(t, c, maxKeys)
	r := mustRate(t, "Unauthenticated", 1, 1, "min")
	steady := []byte("u\x00api\x00steady-client")
	heapBefore := heapInuse()
	start := time.Now()
	var key [4 + len("u\x00api\x00")]byte
	copy(key[:], "u\x00api\x00")
	if !l.Allow(steady, r).Allowed {
		t.Fatal("the steady client's first request was refused")
	}
	for i := range flood {
		binary.BigEndian.PutUint32(key[len("u\x00api\x00"):], uint32(i)|10<<24) // 10.x.y.z
		l.Allow(key[:], r)
		l.Allow(key[:], r) // the second is refused: the key is limited, not idle
		if i%1000 == 0 {
			if l.Allow(steady, r).Allowed {
				t.Fatalf("after %d flood keys the steady client was admitted again: its state was evicted", i)
			}
		}
	}
	keys := l.Status().Keys
	heap := heapInuse() - heapBefore
	runtime.KeepAlive(l)
	t.Logf("%d distinct keys: %d held, heap in use grew %.1f MiB, %v", flood, keys, float64(heap)/(1<<20), time.Since(start).Round(time.Millisecond))
	if keys > maxKeys {
		t.Fatalf("%d keys held, more than the cap of %d", keys, maxKeys)
	}
	if keys < maxKeys/2 {
		t.Fatalf("only %d keys held of a cap of %d: the shards evict too eagerly", keys, maxKeys)
	}
	if bound := int64(maxKeys*256 + 16<<20); heap > bound {
		t.Fatalf("heap in use grew by %d bytes, over the bound of %d", heap, bound)
	}
}

// TestIdleKeysAreEvictedFirst fills a shard with three keys still limited
// and one whose state has fully recovered, all recently used: a newcomer
// evicts the recovered one, whose removal loses nothing, and not the
// limited key under the CLOCK hand.
func TestIdleKeysAreEvictedFirst(t *testing.T) {
	c := &clock{}
	l := newLocal(t, c, 4*nShards) // four keys per shard
	perHour := mustRate(t, "1PerHour", 1, 1, "hour")
	perMin := mustRate(t, "1PerMin", 1, 1, "min")
	k := keysInOneShard(l, 5)
	for i, key := range k[:4] {
		r := perHour
		if i == 3 {
			r = perMin
		}
		l.Allow(key, r)
		l.Allow(key, r) // a hit: the CLOCK bit is set
	}
	c.Advance(time.Minute) // k[3] has recovered; k[0..2] are limited for an hour
	l.Allow(k[4], perHour)
	s := &l.shards[maphash.Bytes(l.seed, k[0])&(nShards-1)]
	for i, key := range k {
		_, held := s.m[string(key)]
		if want := i != 3; held != want {
			t.Fatalf("key %d held: %v, want %v (the recovered key 3 is the one to evict)", i, held, want)
		}
	}
	for _, key := range k[:3] {
		if l.Allow(key, perHour).Allowed {
			t.Fatalf("limited key %q admitted after the eviction", key)
		}
	}
}

// keysInOneShard returns n keys that hash to the same shard.
func keysInOneShard(l *Limiter, n int) [][]byte {
	var out [][]byte
	want := -1
	for i := 0; len(out) < n; i++ {
		k := []byte(fmt.Sprintf("key-%d", i))
		sh := int(maphash.Bytes(l.seed, k) & (nShards - 1))
		if want < 0 {
			want = sh
		}
		if sh == want {
			out = append(out, k)
		}
	}
	return out
}

func heapInuse() int64 {
	runtime.GC()
	runtime.GC()
	var m runtime.MemStats
	runtime.ReadMemStats(&m)
	return int64(m.HeapInuse)
}
