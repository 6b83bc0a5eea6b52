package gateway

import (
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/throttle"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// ThrottleConfig is the gateway's throttling settings (the Throttling
// group of package settings).
type ThrottleConfig struct {
	// RedisURL shares the counters through Redis; "" counts locally.
	RedisURL, RedisPasswordFile string
	// Batch is the tokens taken from Redis at once; 0 picks 1% of the limit.
	Batch int
	// RedisWait bounds a request's wait for a batch from Redis.
	RedisWait time.Duration
	// Replicas is the number of gateways sharing the limits, each counting
	// its share while Redis is unreachable.
	Replicas int
}

// checkThrottling refuses throttling settings that cannot work, naming the flag.
func checkThrottling(t ThrottleConfig) error {
	if t.Batch < 0 {
		return fmt.Errorf("--throttle-batch=%d: must not be negative (0 picks 1%% of each limit)", t.Batch)
	}
	if t.RedisWait <= 0 {
		return fmt.Errorf("--throttle-redis-wait=%s: give a positive duration, such as 250ms", t.RedisWait)
	}
	if t.Replicas < 1 {
		return fmt.Errorf("--throttle-replicas=%d: give the number of gateways sharing the limits, at least 1", t.Replicas)
	}
	if t.RedisURL == "" && t.RedisPasswordFile != "" {
		return errors.New("--throttle-redis-password-file is set without --throttle-redis-url: give the Redis URL too")
	}
	return nil
}

// limiter builds the throttling counters for g's policies; nil when the
// gateway has none (a route table from before policies existed).
func limiter(g *spec.Gateway, t ThrottleConfig, log *slog.Logger) (*throttle.Limiter, *throttle.Policies, error) {
	if g.Policies == nil {
		return nil, nil, nil
	}
	ps, err := throttle.CompilePolicies(*g.Policies)
	if err != nil {
		return nil, nil, fmt.Errorf("throttling policies: %w", err)
	}
	cfg := throttle.Config{Replicas: t.Replicas, Logger: log.With("component", "throttle")}
	if t.RedisURL != "" {
		cfg.Redis = &throttle.RedisConfig{URL: t.RedisURL, PasswordFile: t.RedisPasswordFile, Batch: int64(t.Batch), Wait: t.RedisWait}
	}
	l, err := throttle.New(cfg)
	if err != nil {
		return nil, nil, err
	}
	return l, ps, nil
}
