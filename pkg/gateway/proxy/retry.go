package proxy

import (
	"math"
	"time"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// retryPolicy is advanceEndpointConfig.retryConfig.
type retryPolicy struct {
	count    int
	interval time.Duration
	factor   float64
	maxWait  time.Duration // 0: capped at maxRetryWait
	codes    statusSet
}

// newRetryPolicy returns nil when c asks for no retries.
func newRetryPolicy(c *spec.RetryConfig) *retryPolicy {
	if c == nil || c.Count <= 0 {
		return nil
	}
	r := &retryPolicy{
		count:    c.Count,
		interval: time.Duration(c.IntervalMillis) * time.Millisecond,
		factor:   c.BackOffFactor,
		maxWait:  time.Duration(c.MaxWaitIntervalMillis) * time.Millisecond,
		codes:    newStatusSet(c.StatusCodes),
	}
	if r.factor < 1 {
		r.factor = 1
	}
	return r
}

// wait is the pause before retry n (0 for the first):
// interval × backOffFactor^n, capped by maxWaitIntervalInMillis.
func (r *retryPolicy) wait(n int) time.Duration {
	d := float64(r.interval) * math.Pow(r.factor, float64(n))
	limit := r.maxWait
	if limit <= 0 {
		limit = maxRetryWait
	}
	if d > float64(limit) {
		return limit
	}
	return time.Duration(d)
}

// maxRetryWait caps one retry wait when maxWaitIntervalInMillis is not set,
// so a growing back-off cannot hold a request for minutes.
const maxRetryWait = 10 * time.Second

// statusSet is a set of HTTP status codes (100..599).
type statusSet [10]uint64

func newStatusSet(codes []int) statusSet {
	var s statusSet
	for _, c := range codes {
		if c >= 0 && c < len(s)*64 {
			s[c/64] |= 1 << (c % 64)
		}
	}
	return s
}

func (s *statusSet) has(code int) bool {
	return code >= 0 && code < len(s)*64 && s[code/64]&(1<<(code%64)) != 0
}
