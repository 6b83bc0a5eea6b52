// Package throttle is the gateway's runtime rate limiter: the limits of
// x-wso2-throttling-tier and policies.yaml, counted per key.
//
// Rules it keeps:
//
//   - Exact on one gateway. Each key is a GCRA (generic cell rate
//     algorithm, a leaky bucket kept as one "theoretical arrival time"): a
//     policy of L requests per window W admits a burst of at most L at
//     once, then one request every W/L. In any interval of length d at most
//     L + d/(W/L) requests pass, so the burst of 2L that fixed windows let
//     through at a window edge cannot happen, and the long-run rate is
//     exactly L per W. The emission interval is W/L rounded up to the
//     nanosecond, so rounding never admits more than the policy.
//   - No lock shared by all requests. Keys live in 64 shards, each with its
//     own read-write lock taken for the map lookup only; a key's state is
//     one atomic word updated by compare-and-swap. A Plan pins the keys it
//     knows when it is built (resource and API tiers), so their requests
//     take no lock at all.
//   - No allocation for a key already present: keys are looked up as
//     m[string(b)] on a byte slice, headers are rendered from a stack buffer.
//   - Bounded memory. Each shard holds at most MaxKeys/64 keys; a new key in
//     a full shard evicts one by the CLOCK algorithm with use counts (an
//     approximation of least recently used), preferring keys whose state has fully recovered,
//     whose removal loses nothing. A flood of distinct keys (client IPs)
//     costs at most MaxKeys entries.
//   - Shared across gateways through Redis, off the critical path: see
//     redis.go. Redis being down never fails a request: the gateway counts
//     locally with limit ÷ Replicas until Redis answers again.
package throttle
