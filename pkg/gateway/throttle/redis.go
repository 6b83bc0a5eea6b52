package throttle

// Counting shared by every gateway through Redis.
//
// Redis holds one GCRA per key (the same algorithm as on one gateway), run
// by one Lua script on Redis's own clock (TIME), so the gateways' clocks
// do not matter and one script call is atomic. A gateway does not ask Redis
// per request: it takes a batch of up to B tokens per key at once (the
// script grants B or, when fewer are there, none until B are), spends them
// locally, and asks again when they run out. Only the request that finds
// the batch empty waits for the round trip; the others on that key wait on
// it (single flight), at most RedisConfig.Wait.
//
// A refusal from Redis is kept until the Retry-After it came with, so a key
// over its limit costs no round trip per refused request.
//
// Overshoot bound: tokens are counted in Redis when taken, not when spent,
// and a batch stays valid for one window. Compared with one exact GCRA for
// the whole cluster, the cluster admits in any interval at most the tokens
// the gateways held unspent at its start: at most B × gateways. In the
// long run the rate is exact. Tokens a gateway took and did not spend
// within the window are lost (the cluster admits less, never more).
//
// Redis down or slow: a refill that fails or takes longer than Wait marks
// Redis unreachable for RetryInterval; meanwhile every gateway counts alone
// with each limit divided by Config.Replicas, so the cluster stays near the
// limit. The switch is logged once each way and shown by Status. No request
// ever fails because of Redis.

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisConfig is the shared-counting mode's settings.
type RedisConfig struct {
	// URL is redis://[user:password@]host:port/db or rediss:// for TLS;
	// unix:///path/to/socket is accepted too.
	URL string
	// PasswordFile holds the password (--throttle-redis-password-file);
	// it overrides one in URL. Surrounding white space is ignored.
	PasswordFile string
	// TLS is used for rediss:// instead of the system roots (for a
	// private CA or a client certificate). ServerName defaults to URL's host.
	TLS *tls.Config
	// Batch is the tokens taken at once (--throttle-batch); 0 takes 1% of
	// the limit, at least 1 and at most 100.
	Batch int64
	// Wait bounds one refill (connecting included); 0: 250ms.
	Wait time.Duration
	// RetryInterval is how long Redis stays marked unreachable after a
	// failed refill; 0: 1s.
	RetryInterval time.Duration
}

// KeyPrefix begins every key this package writes in Redis.
const KeyPrefix = "micro-gw/throttle/"

// takeScript takes ARGV[3] tokens from the GCRA at KEYS[1], whose
// emission interval is ARGV[1] µs and burst ARGV[2] µs (limit × interval),
// or none, with the time until that many are there. All or nothing: under
// a load above the limit, a gateway asking as soon as one token came back
// would get one per round trip; waiting for a whole batch keeps the round
// trips at one per batch, and leaves at most batch-1 tokens unclaimed.
// It returns {granted, remaining, reset µs, retry-after µs}.
const takeScript = `
local iv = tonumber(ARGV[1])
local tau = tonumber(ARGV[2])
local want = tonumber(ARGV[3])
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000000 + tonumber(t[2])
local tat = tonumber(redis.call('GET', KEYS[1])) or now
if tat < now then tat = now end
local k = math.floor((now + tau - tat) / iv)
if k < want then
  return {0, math.max(k, 0), tat - now, tat + want * iv - tau - now}
end
k = want
tat = tat + k * iv
redis.call('SET', KEYS[1], string.format('%.0f', tat), 'PX', math.ceil((tat - now) / 1000))
return {k, math.floor((now + tau - tat) / iv), tat - now, 0}
`

// shared is the Redis side of a Limiter.
type shared struct {
	client *redis.Client
	script *redis.Script
	batch  int64
	wait   time.Duration
	retry  int64
	// downUntil is the limiter time before which Redis is not asked.
	downUntil atomic.Int64
	down      atomic.Bool
	trips     atomic.Int64
	log       *slog.Logger
	// where names the server in logs, without credentials.
	where string
}

// batch is one key's tokens taken from Redis.
type batch struct {
	// mu is held by the request refilling; the others wait on it.
	mu     sync.Mutex
	tokens atomic.Int64
	// expires is when unspent tokens lapse (limiter time).
	expires atomic.Int64
	// remaining is Redis's count left after the last grant, for headers.
	remaining atomic.Int64
	resetAt   atomic.Int64
	// deniedUntil keeps Redis's last refusal until its Retry-After.
	deniedUntil atomic.Int64
}

func (b *batch) idle(now int64) bool {
	if b.deniedUntil.Load() > now || (b.tokens.Load() > 0 && b.expires.Load() > now) {
		return false
	}
	if !b.mu.TryLock() {
		return false // a refill is under way
	}
	b.mu.Unlock()
	return true
}

func newShared(c RedisConfig, log *slog.Logger) (*shared, error) {
	opt, err := redis.ParseURL(c.URL)
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), c.URL, endpoint.Redact(c.URL))
		return nil, fmt.Errorf("--throttle-redis-url=%s: %s; write redis://host:port/db, rediss://host:port/db for TLS or unix:///path", endpoint.Redact(c.URL), msg)
	}
	if opt.Password != "" {
		// As for --etcdurl: a flag shows in the process list.
		return nil, fmt.Errorf("--throttle-redis-url=%s holds a password; put it in a file named by --throttle-redis-password-file instead", endpoint.Redact(c.URL))
	}
	if c.PasswordFile != "" {
		b, err := os.ReadFile(c.PasswordFile)
		if err != nil {
			return nil, fmt.Errorf("--throttle-redis-password-file: %v; name a readable file holding the Redis password", err)
		}
		opt.Password = strings.TrimSpace(string(b))
	}
	if opt.TLSConfig != nil && c.TLS != nil {
		t := c.TLS.Clone()
		if t.ServerName == "" {
			t.ServerName = opt.TLSConfig.ServerName
		}
		opt.TLSConfig = t
	}
	wait := c.Wait
	if wait <= 0 {
		wait = 250 * time.Millisecond
	}
	retry := c.RetryInterval
	if retry <= 0 {
		retry = time.Second
	}
	opt.DialTimeout, opt.ReadTimeout, opt.WriteTimeout = wait, wait, wait
	opt.ContextTimeoutEnabled = true
	opt.MaxRetries = -1 // a failed refill falls back at once; the next one retries
	opt.DisableIdentity = true
	where := opt.Addr
	if opt.Network == "unix" {
		where = "unix:" + opt.Addr
	}
	return &shared{
		client: redis.NewClient(opt),
		script: redis.NewScript(takeScript),
		batch:  c.Batch,
		wait:   wait,
		retry:  int64(retry),
		log:    log,
		where:  where,
	}, nil
}

// batchFor is the tokens taken at once for r.
func (s *shared) batchFor(r *Rate) int64 {
	b := s.batch
	if b <= 0 {
		b = min(max(r.Limit/100, 1), 100)
	}
	return min(b, r.Limit)
}

// decide counts one request on e in Redis mode.
func (s *shared) decide(l *Limiter, e *entry, r *Rate, now int64) (Decision, uint8) {
	b := e.batch
	if d, ok := b.fast(r, now); ok {
		return d, viaBatch
	}
	if now < b.deniedUntil.Load() {
		return b.refused(r, now), 0
	}
	if now < s.downUntil.Load() {
		return gcra(&e.tat, r.share(l.replicas), now), viaGCRA
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	now = l.now()
	// The request that held the lock may have refilled or been refused.
	if d, ok := b.fast(r, now); ok {
		return d, viaBatch
	}
	if now < b.deniedUntil.Load() {
		return b.refused(r, now), 0
	}
	if now < s.downUntil.Load() {
		return gcra(&e.tat, r.share(l.replicas), now), viaGCRA
	}
	g, err := s.take(e.key, r)
	now = l.now()
	if err != nil {
		s.markDown(now, err)
		return gcra(&e.tat, r.share(l.replicas), now), viaGCRA
	}
	s.markUp()
	b.resetAt.Store(now + g.reset)
	if g.granted == 0 {
		b.deniedUntil.Store(now + g.retry)
		return b.refused(r, now), 0
	}
	b.remaining.Store(g.remaining)
	b.expires.Store(now + int64(r.Window))
	b.tokens.Store(g.granted - 1)
	return Decision{Allowed: true, Limit: r.Limit, Remaining: g.remaining + g.granted - 1, Reset: time.Duration(g.reset)}, viaBatch
}

// fast spends a token of the current batch, without a lock.
func (b *batch) fast(r *Rate, now int64) (Decision, bool) {
	if now >= b.expires.Load() || b.tokens.Load() <= 0 {
		return Decision{}, false
	}
	left := b.tokens.Add(-1)
	if left < 0 {
		return Decision{}, false
	}
	return Decision{Allowed: true, Limit: r.Limit, Remaining: b.remaining.Load() + left, Reset: time.Duration(max(b.resetAt.Load()-now, 0))}, true
}

func (b *batch) refused(r *Rate, now int64) Decision {
	return Decision{Limit: r.Limit, Reset: time.Duration(max(b.resetAt.Load()-now, 0)), RetryAfter: time.Duration(max(b.deniedUntil.Load()-now, 1))}
}

// grant is the script's answer, times in nanoseconds.
type grant struct{ granted, remaining, reset, retry int64 }

// take runs the script once for key.
func (s *shared) take(key string, r *Rate) (grant, error) {
	s.trips.Add(1)
	ctx, cancel := context.WithTimeout(context.Background(), s.wait)
	defer cancel()
	v, err := s.script.Run(ctx, s.client, []string{KeyPrefix + key}, r.ivUS, r.tauUS, s.batchFor(r)).Int64Slice()
	if err != nil {
		return grant{}, err
	}
	if len(v) != 4 {
		return grant{}, errors.New("the throttling script answered " + fmt.Sprint(v) + ", not four numbers")
	}
	return grant{v[0], v[1], v[2] * 1000, v[3] * 1000}, nil
}

// markDown switches to local counting for RetryInterval, logging the switch
// once.
func (s *shared) markDown(now int64, err error) {
	s.downUntil.Store(now + s.retry)
	if s.down.CompareAndSwap(false, true) {
		s.log.Warn("throttle: Redis does not answer; each gateway counts alone with each limit divided by --throttle-replicas until it does",
			"redis", s.where, "error", err.Error(), "retry", time.Duration(s.retry).String())
	}
}

// markUp logs the return to shared counting once.
func (s *shared) markUp() {
	if s.down.Load() && s.down.CompareAndSwap(true, false) {
		s.log.Info("throttle: Redis answers again; counting is shared", "redis", s.where)
	}
}
