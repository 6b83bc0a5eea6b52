package etcdstore

import (
	"context"
	"fmt"
	"runtime"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/internal/devetcd"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/discovery"
)

// TestKeyRevokedUnderLoadNoWrongAnswer is the scenario: an API key
// is created, then revoked (deleted) while goroutines look it up without
// pause (the periodic re-read is off: the delete must come by watch). Each lookup
// is bracketed by reads of the store's revision: a lookup that succeeded
// with the store already at the delete's revision, or failed with the store
// still below it, is a wrong answer. There must be none, and the lookups
// must cover both sides of the revocation.
func TestKeyRevokedUnderLoadNoWrongAnswer(t *testing.T) {
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, e.ClientURL())
	s, _ := newStore(t, e.ClientURL(), discovery.Options{Timer: time.Hour}, Options{})
	const key = "mgw_under-load"
	waitKeysRev(t, s, putKey(t, cli, key, Record{Application: "shop", KeyType: auth.Production}))

	// What each goroutine saw: for a success the revision before the
	// lookup (the lookup saw that snapshot or a newer one), for a refusal
	// the revision after it (the lookup saw that snapshot or an older one).
	type seen struct{ okAt, refusedAt map[int64]int }
	var (
		lookups atomic.Int64
		stop    = make(chan struct{})
		wg      sync.WaitGroup
	)
	results := make([]seen, max(2, runtime.GOMAXPROCS(0)))
	for i := range results {
		results[i] = seen{okAt: map[int64]int{}, refusedAt: map[int64]int{}}
		wg.Go(func() {
			k := []byte(key)
			for {
				select {
				case <-stop:
					return
				default:
				}
				before, _ := s.Revisions()
				_, ok := s.LookupKey(k)
				after, _ := s.Revisions()
				if ok {
					results[i].okAt[before]++
				} else {
					results[i].refusedAt[after]++
				}
				lookups.Add(1)
			}
		})
	}
	waitFor(t, "lookups before the revocation", func() bool { return lookups.Load() > 20000 })
	deleted := del(t, cli, keyPrefix+Hash([]byte(key)))
	waitKeysRev(t, s, deleted)
	n := lookups.Load()
	waitFor(t, "lookups after the revocation", func() bool { return lookups.Load() > n+40000 })
	close(stop)
	wg.Wait()

	var okBefore, refusedAfter, wrong int
	for _, r := range results {
		for rev, c := range r.okAt {
			if rev >= deleted {
				wrong += c
			} else {
				okBefore += c
			}
		}
		for rev, c := range r.refusedAt {
			if rev < deleted {
				wrong += c
			} else {
				refusedAfter += c
			}
		}
	}
	t.Logf("%d lookups accepted before the revocation, %d refused after it, %d wrong", okBefore, refusedAfter, wrong)
	if wrong != 0 || okBefore == 0 || refusedAfter == 0 {
		t.Fatalf("%d wrong answers (%d accepted before, %d refused after); want none, and lookups on both sides", wrong, okBefore, refusedAfter)
	}
}

// TestRevocationLatency measures, over 50 runs each against an in-process
// etcd, the time from the write to the first refusal: an API key deleted
// (micro-gw apikey revoke) until LookupKey refuses it, and a jti put under
// the revoked prefix (micro-gw revoke) until Revoked says so. It reports
// p50 and p99 (go test -v -run RevocationLatency); the goal is a
// p99 under 100 ms. A run over 10 s fails.
func TestRevocationLatency(t *testing.T) {
	if testing.Short() {
		t.Skip("measures latency over 100 etcd writes")
	}
	e := startEtcd(t, devetcd.Config{})
	cli := admin(t, e.ClientURL())
	s, _ := newStore(t, e.ClientURL(), discovery.Options{Timer: time.Hour}, Options{})
	const runs = 50
	var keyLat, jtiLat []time.Duration
	for i := range runs {
		key := []byte(fmt.Sprintf("mgw_latency-%d", i))
		waitKeysRev(t, s, putKey(t, cli, string(key), Record{Application: "a", KeyType: auth.Production}))
		began := time.Now()
		ctx, cancel := context.WithTimeout(context.Background(), wait)
		go func() { cli.Delete(ctx, keyPrefix+Hash(key)) }()
		keyLat = append(keyLat, until(t, began, func() bool { _, ok := s.LookupKey(key); return !ok }))
		cancel()

		jti := fmt.Sprintf("jti-%d", i)
		began = time.Now()
		ctx, cancel = context.WithTimeout(context.Background(), wait)
		go func() { cli.Put(ctx, revPrefix+jti, "x") }()
		jtiLat = append(jtiLat, until(t, began, func() bool { return s.Revoked(jti) }))
		cancel()
	}
	for _, m := range []struct {
		what string
		lat  []time.Duration
	}{{"API key delete → refused", keyLat}, {"jti put → revoked", jtiLat}} {
		slices.Sort(m.lat)
		t.Logf("%s over %d runs: p50 %v, p99 %v, max %v", m.what, runs, m.lat[len(m.lat)/2], m.lat[len(m.lat)*99/100], m.lat[len(m.lat)-1])
	}
}

// until spins until cond holds and returns the time since began; it fails
// the test after wait.
func until(t *testing.T, began time.Time, cond func() bool) time.Duration {
	t.Helper()
	for !cond() {
		if time.Since(began) > wait {
			t.Fatalf("not seen within %v", wait)
		}
		runtime.Gosched()
	}
	return time.Since(began)
}
