// Package etcdstore keeps the gateway's opaque API keys and revoked token
// ids from etcd, for the authentication guard: a Store is an
// auth.APIKeyStore and an auth.Revocations.
//
// # Records
//
// An API key is stored as its SHA-256, never itself:
//
//	<apikey-prefix><hex SHA-256 of the key>  {"application":"shop","keyType":"PRODUCTION","apis":["Petstore"],"expires":"2027-01-01T00:00:00Z","tier":"Gold"}
//
// apis (API titles; empty or absent: every API), expires (RFC 3339; empty
// or absent: never) and tier are optional. A revoked token is stored by its
// jti, under a lease that ends when the token expires, so that etcd forgets
// it when it no longer matters:
//
//	<revoked-prefix><jti>  <anything, e.g. the token's exp in RFC 3339>
//
// `micro-gw apikey create|revoke|list` and `micro-gw revoke` write them;
// Record, Hash and KeyID are shared with those commands so both sides read
// one format.
//
// # Semantics
//
//  1. Both prefixes are followed by the gateway's discovery.Resolver
//     (discovery.Resolver.WatchPrefix): one client, one watch stream, a
//     startup read bounded by the startup timeout, a watch from the read's
//     revision plus one, a full re-read every --etcdtimer and after any
//     failure, compaction, reconnection, new cluster ID or revision going
//     backwards. A put or a delete takes effect when its watch event arrives:
//     milliseconds.
//  2. Lookups never lock and never allocate: each prefix is one immutable
//     snapshot (a map and the etcd revision it reflects) behind an
//     atomic.Pointer; every change builds a new snapshot (copy on write,
//     one per watch response). Changes are rare next to lookups; a change
//     costs a copy of the map (about a millisecond for ten thousand keys).
//  3. A lookup hashes the key with SHA-256 and finds the hash in the map:
//     the comparison is of hashes, so its timing tells nothing about the key.
//     An expired key (by the injected clock) is refused like an unknown one.
//  4. An unusable record (bad JSON, an unknown field, no application, a key
//     type other than PRODUCTION or SANDBOX, a bad expiry, an etcd key that
//     is not a hex SHA-256) is logged once per revision, naming the etcd key
//     and the reason, counted in Status, and ignored: the previous good
//     record for that etcd key, if any, stays. Nothing secret can show: etcd
//     holds only hashes of keys.
//  5. Before the first read from etcd, or while etcd is unreachable at
//     start, there are no keys (every API key is refused: fail closed) and
//     no revocations; Status says whether each prefix was loaded.
//  6. A delete (`apikey revoke`, a lease expiry) removes the entry; a full
//     read replaces the whole snapshot, so a wiped etcd empties it.
package etcdstore
