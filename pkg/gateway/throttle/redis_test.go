package throttle

import (
	"bytes"
	"context"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/micro-gw/micro-gw/internal/redistest"
)

// logCount counts slog records whose message contains a word.
type logCount struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (l *logCount) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.buf.Write(p)
}

func (l *logCount) count(word string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return strings.Count(l.buf.String(), word)
}

// newGateway is one gateway's limiter on Redis at url. Its refills wait up
// to 5 s, so that a loaded test machine does not switch it to local
// counting; TestSlowRedisFallsBackWithinWait sets its own bound.
func newGateway(t *testing.T, url string, c *clock, replicas int, logs *logCount) *Limiter {
	return newGatewayWait(t, url, c, replicas, logs, 5*time.Second)
}

func newGatewayWait(t *testing.T, url string, c *clock, replicas int, logs *logCount, wait time.Duration) *Limiter {
	t.Helper()
	cfg := Config{Redis: &RedisConfig{URL: url, Wait: wait}, Replicas: replicas}
	if c != nil {
		cfg.Clock = c.Now
	}
	if logs != nil {
		cfg.Logger = slog.New(slog.NewTextHandler(logs, nil))
	}
	l, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// TestThreeGatewaysShareOneLimit runs three limiters (three gateways)
// against one redis-server for 2 s of real time, each sending as fast as
// it is admitted. Together they admit what one exact GCRA would (the burst
// of Limit plus the rate over the time), within 5% below and never more
// than batch × 3 above, which is the documented overshoot bound.
func TestThreeGatewaysShareOneLimit(t *testing.T) {
	rs := redistest.Start(t)
	const gateways = 3
	r := mustRate(t, "500PerSec", 500, 1, "sec")
	var ls [gateways]*Limiter
	for i := range ls {
		ls[i] = newGateway(t, rs.URL(), nil, gateways, nil)
	}
	batch := ls[0].redis.batchFor(r)
	var admitted [gateways]int64
	start := time.Now()
	stop := start.Add(2 * time.Second)
	var wg sync.WaitGroup
	for i, l := range ls {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for time.Now().Before(stop) {
				d := l.AllowString("api", r)
				if d.Allowed {
					admitted[i]++
				} else {
					time.Sleep(min(d.RetryAfter, 5*time.Millisecond))
				}
			}
		}()
	}
	wg.Wait()
	elapsed := time.Since(start)
	var total, trips int64
	for i, l := range ls {
		total += admitted[i]
		trips += l.Status().RedisRoundTrips
		if l.Status().Mode != "redis" {
			t.Fatalf("gateway %d fell back to local counting: %+v", i, l.Status())
		}
	}
	exact := r.Limit + int64(elapsed)/r.interval
	t.Logf("admitted %d (per gateway %v) in %v; one exact GCRA: %d; batch %d; %d round trips (%.1f per 1000 admitted)",
		total, admitted, elapsed.Round(time.Millisecond), exact, batch, trips, float64(trips)*1000/float64(total))
	// Over the limit, the gateways wake together when a batch is there:
	// one takes it, the others are told to come back: a round trip per
	// gateway per batch at most (under the limit it is one per batch).
	if per := float64(trips) * 1000 / float64(total); per > 1000/float64(batch)*gateways*1.5 {
		t.Fatalf("%.0f round trips per 1000 admitted, want at most about %d (one per gateway per batch)", per, 1000/batch*gateways)
	}
	if total > exact+batch*gateways {
		t.Fatalf("admitted %d, over the bound %d + batch %d × %d gateways", total, exact, batch, gateways)
	}
	if total < exact*95/100 {
		t.Fatalf("admitted %d, more than 5%% under %d", total, exact)
	}
	for i, n := range admitted {
		if n == 0 {
			t.Fatalf("gateway %d admitted nothing", i)
		}
	}
}

// TestRedisDownAtStartCountsLocallyThenShares: a gateway whose Redis is
// not there at start serves with limit ÷ replicas, logs the switch once,
// shows it in Status, and counts in Redis once Redis answers.
func TestRedisDownAtStartCountsLocallyThenShares(t *testing.T) {
	rs := redistest.Start(t)
	rs.Stop()
	c := &clock{}
	logs := &logCount{}
	l := newGateway(t, rs.URL(), c, 2, logs)
	r := mustRate(t, "10PerMin", 10, 1, "min")
	if n := admit(l, r, 10); n != 5 {
		t.Fatalf("Redis down, 2 replicas, 10/min: admitted %d of 10, want 5", n)
	}
	if m := l.Status().Mode; m != "redis-unreachable" {
		t.Fatalf("mode %q", m)
	}
	c.Advance(3 * time.Second) // past RetryInterval: Redis is asked again, and fails again
	admit(l, r, 3)
	if n := logs.count("does not answer"); n != 1 {
		t.Fatalf("the switch to local counting was logged %d times, want once:\n%s", n, logs.buf.String())
	}
	rs.Restart(t)
	waitShared(t, l, c, r)
	if n := logs.count("answers again"); n != 1 {
		t.Fatalf("the return to shared counting was logged %d times, want once", n)
	}
	// Redis now counts, with a key of its own: 10 a minute.
	if n := admit(l, r, 20); n != 10 {
		t.Fatalf("after Redis came back: admitted %d of 20, want 10 (10/min counted in Redis)", n)
	}
}

// TestRedisKilledMidRunFallsBackAndRecovers kills redis-server while a
// gateway counts in it: no request fails, the gateway counts locally with
// its share, and it counts in Redis again once Redis is restarted.
func TestRedisKilledMidRunFallsBackAndRecovers(t *testing.T) {
	rs := redistest.Start(t)
	c := &clock{}
	logs := &logCount{}
	l := newGateway(t, rs.URL(), c, 3, logs)
	r := mustRate(t, "300PerMin", 300, 1, "min") // batch 3; 100/min alone
	if n := admit(l, r, 30); n != 30 {
		t.Fatalf("with Redis up: admitted %d of 30", n)
	}
	if m := l.Status().Mode; m != "redis" {
		t.Fatalf("mode %q, want redis", m)
	}
	rs.Stop()
	// Up to batch-1 tokens left from Redis, then the local share of 100.
	if n := admit(l, r, 200); n < 100 || n > 102 {
		t.Fatalf("Redis killed: admitted %d of 200, want 100 (the local share) plus at most 2 tokens held", n)
	}
	if m := l.Status().Mode; m != "redis-unreachable" {
		t.Fatalf("mode %q, want redis-unreachable", m)
	}
	rs.Restart(t)
	waitShared(t, l, c, r)
	if n := logs.count("does not answer"); n != 1 {
		t.Fatalf("logged the switch %d times, want once", n)
	}
}

// TestSlowRedisFallsBackWithinWait pauses redis-server (CLIENT PAUSE) for
// longer than the refill's bound: the request waits at most about that
// bound, then is decided locally.
func TestSlowRedisFallsBackWithinWait(t *testing.T) {
	rs := redistest.Start(t)
	l := newGatewayWait(t, rs.URL(), nil, 1, nil, 200*time.Millisecond)
	r := mustRate(t, "1PerSec", 1, 1, "sec") // batch 1: every request asks Redis
	if d := l.AllowString("slow", r); !d.Allowed {
		t.Fatal("first request refused")
	}
	admin := redis.NewClient(&redis.Options{Network: "unix", Addr: rs.Sock, DisableIdentity: true})
	defer admin.Close()
	if err := admin.Do(context.Background(), "CLIENT", "PAUSE", "3000", "ALL").Err(); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	d := l.AllowString("other", r)
	took := time.Since(start)
	if !d.Allowed {
		t.Fatalf("a new key under a paused Redis: %+v, want admitted by the local count", d)
	}
	if took > time.Second {
		t.Fatalf("the request waited %v for a paused Redis, want about the 200 ms bound", took)
	}
	if m := l.Status().Mode; m != "redis-unreachable" {
		t.Fatalf("mode %q, want redis-unreachable", m)
	}
}

// admit sends n requests for one key and counts those admitted.
func admit(l *Limiter, r *Rate, n int) int {
	got := 0
	for range n {
		if l.AllowString("key", r).Allowed {
			got++
		}
	}
	return got
}

// waitShared moves the injected clock past the retry interval until the
// limiter counts in Redis again (a pooled connection to the killed server
// may cost one more failed try).
func waitShared(t *testing.T, l *Limiter, c *clock, r *Rate) {
	t.Helper()
	for range 5 {
		c.Advance(2 * time.Second)
		l.AllowString("probe", r)
		if l.Status().Mode == "redis" {
			return
		}
	}
	t.Fatalf("still %q after Redis came back", l.Status().Mode)
}
