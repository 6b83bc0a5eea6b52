// Package discovery keeps the backend URLs written etcd(<key>, <default_URL>)
// current from etcd, and reports what it resolved.
//
// A Resolver owns one endpoint.Binding per etcd key. The proxy reads the
// Binding on every request (one atomic load); the Resolver writes it when
// etcd says something new. Every place that names the same key shares that
// one Binding, so a key is read, watched and logged once (semantic 9).
//
// # Semantics
//
//  1. Startup never waits on etcd beyond Options.StartupTimeout (1 s by
//     default). Start reads every key once, in batched read-only Txns (up to
//     128 Gets each, etcd's default --max-txn-ops, so each batch is one round
//     trip at one revision). An absent key, or an etcd that does not answer in
//     time, leaves the default URL. Start then returns and the rest runs in
//     the background. The deadline bounds the whole of Start: creating the
//     client (which authenticates when a user is given), the read, and the
//     probe below, which runs alongside the read, every member at once. When
//     every member refuses the connection, Start returns at once.
//  2. Changes arrive by watch. All keys are watched through one client and
//     one gRPC watch stream: one Watch per key, all opened with the same
//     context, which etcd's client multiplexes onto a single stream. One watch
//     per key was chosen over one watch on a key range because the keys are
//     arbitrary names: a range covering them all could span unrelated keys
//     of a shared etcd and deliver their traffic to every gateway. Each key
//     is watched from the revision of the read that resolved it, plus one, so
//     nothing between the read and the watch is lost. A put reaches the
//     Binding within milliseconds.
//  3. Every Options.Timer (10 s by default) every key is read again. This
//     catches anything the watch missed, keeps a simple auth token alive and
//     is the liveness check: a failed read ends the watch and starts the
//     retry loop below.
//  4. Outages keep the last good value. A failure (read error, watch closed
//     or cancelled, lost leader) marks etcd disconnected and retries with
//     exponential backoff and jitter (steps of 200 ms doubling up to 3 s,
//     each wait random between half and all of the step). When
//     etcd answers again every key is re-read (source "resync") and watched
//     anew. gRPC's own reconnect backoff is capped at 800 ms (1 s with its
//     jitter), and a reconnection ends the wait of the retry loop, so a
//     returning etcd is read within about a second.
//  5. Watch failures: a compacted watch (CompactRevision set) re-reads and
//     re-watches at once (the backoff applies only if resyncs follow each
//     other quickly, so nothing loops); a closed or cancelled watch channel
//     retries as in 4; watches carry clientv3.WithRequireLeader, so a member
//     that loses its leader cancels them instead of going silent; a
//     restarted etcd is followed by the client's watch resume.
//     A wiped or restored etcd is followed at once. etcd's client resumes a
//     broken watch stream by itself, asking for the revision after the last
//     one seen; an etcd whose history restarted lower sends nothing until
//     it gets there, silently. So each time the client's connection becomes
//     ready again every key is read (source "resync"), and a new history
//     ends the watches for a full re-read and re-watch: a read whose
//     revision is lower than the highest seen so far (linearizable reads
//     never go backwards within one history), or a response, read or watch,
//     from another cluster ID (derived from the member IDs when a cluster is
//     formed, so a rebuilt member list shows there too).
//  6. A late etcd is picked up: if etcd is unreachable at Start, the defaults
//     are served and the retry loop of 4 connects as soon as etcd appears.
//  7. A deleted key resolves to its default URL.
//  8. An unusable value (empty, or not an absolute http(s) URL as
//     endpoint.Parse defines it: a port from 1 to 65535, no user or
//     password) is ignored: a warning names the key, the value and the
//     reason, Status shows it as rejected, and the last good URL stays. A
//     password in a value is shown redacted (endpoint.Redact), in the log
//     and in Status.
//  9. One key named in many places is resolved once, with one Binding.
//  10. Every change is logged at info: key, old URL, new URL and the source
//     (startup, watch, timer, resync; "default" is the source of a key that
//     was never read from etcd).
//  11. Wrong credentials are logged as an error naming --etcdusername and
//     --etcdpassword; the defaults stay and connecting is retried with
//     backoff. Simple tokens with a short TTL keep working: unary calls
//     refresh an expired token, and etcd's client authenticates again each
//     time it opens a watch stream. With several members in Endpoints, losing
//     any one of them moves the client to another. A member URL carrying a
//     user or password is refused by New (and by CheckEndpoints, which the
//     --etcdurl flag uses): etcd's client would ignore it.
//  12. Whole prefixes can be followed too (WatchPrefix), for data the
//     gateway owns, such as API keys and revoked tokens: each is read with
//     the keys (a range Get in the same kind of Txn), watched with one range
//     watch from the read's revision plus one on the same stream, re-read
//     every Timer, and recovered exactly as keys are (4 to 6). Its sink gets
//     every read whole (Reset) and every watch response (Apply); what a
//     value means, and whether it is usable, is the sink's business.
//
// When a read times out, the error (logged, and in Status) says why: each
// member is dialled once, as the client would, all at once and within the
// read's deadline at startup (within 1 s after a background read), which
// names a refused connection, dropped packets, a silent TLS handshake, an
// untrusted certificate or a refused client certificate that etcd's client
// would only report as a deadline.
//
// Every unary call runs under a timeout; keepalive pings are sent every 10 s
// (etcd refuses pings more often than every 5 s). Close stops every
// goroutine the Resolver started and closes the client.
//
// Status returns a JSON-serializable snapshot for the gateway's admin
// endpoint: the etcd connection and, per key, the URL in use, its default,
// its source, when it last changed and the last rejected value.
package discovery
