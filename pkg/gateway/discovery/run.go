package discovery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"sync"
	"time"

	"go.etcd.io/etcd/api/v3/etcdserverpb"
	"go.etcd.io/etcd/api/v3/v3rpc/rpctypes"
	clientv3 "go.etcd.io/etcd/client/v3"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"

	"github.com/micro-gw/micro-gw/pkg/gateway/endpoint"
)

// resyncError ends a watch session that must be replaced at once by a full
// re-read and re-watch, without backoff: compaction, revision going backwards.
type resyncError struct{ reason string }

func (e *resyncError) Error() string { return e.reason }

// run follows etcd until ctx is done. err is the outcome of the startup read.
func (r *Resolver) run(ctx context.Context, err error) {
	defer close(r.done)
	defer func() {
		if r.cli != nil {
			r.cli.Close()
		}
		r.bg.Wait()
	}()
	var bo retryBackoff
	quick := false // the last retry skipped the backoff
	for {
		skip := false
		if err == nil {
			began := time.Now()
			err = r.watch(ctx)
			if ctx.Err() != nil {
				return
			}
			healthy := time.Since(began) > backoffMax
			if healthy {
				bo.reset() // start retrying from the shortest wait
			}
			var rs *resyncError
			r.opts.Observer.WatchRestarted(errors.As(err, &rs))
			if errors.As(err, &rs) {
				r.log.Warn("re-reading every etcd key and watching again", "reason", rs.reason)
				// At once, unless the last resync was at once too and
				// did not last: never loop without a pause.
				skip = healthy || !quick
			} else {
				r.failed(err, "lost etcd; keeping the last good URLs and retrying")
			}
		}
		quick = skip
		if !skip {
			t := time.NewTimer(bo.wait())
			select {
			case <-ctx.Done():
				t.Stop()
				return
			case <-t.C:
			case <-r.ready: // etcd is back: waiting longer would only delay
				t.Stop()
			}
		}
		rctx, cancel := context.WithTimeout(ctx, callTimeout)
		err = r.probeIfTimeout(ctx, r.connectAndRead(ctx, rctx, SourceResync))
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			r.failed(err, "etcd unreachable; keeping the last good URLs and retrying")
		}
	}
}

// connectAndRead creates the client if there is none yet, then reads every
// key. life bounds the client, ctx the attempt.
func (r *Resolver) connectAndRead(life, ctx context.Context, source string) error {
	if r.cli == nil {
		cfg := r.cfg
		cfg.Context = life
		// DialTimeout bounds the authentication that clientv3.New performs
		// when a user is given; the dial itself does not block.
		cfg.DialTimeout = callTimeout
		if dl, ok := ctx.Deadline(); ok {
			cfg.DialTimeout = max(time.Until(dl), time.Millisecond)
		}
		cli, err := clientv3.New(cfg)
		if err != nil {
			return fmt.Errorf("connect to etcd: %w", describe(err))
		}
		r.cli = cli
		r.bg.Go(func() { r.watchConn(life, cli.ActiveConnection()) })
		r.mu.Lock()
		r.conn = cli.ActiveConnection()
		r.mu.Unlock()
	}
	if _, err := r.readAll(ctx, source); err != nil {
		return err
	}
	r.mu.Lock()
	if r.failing || source == SourceStartup {
		r.log.Info("connected to etcd", "endpoints", r.opts.Endpoints, "revision", r.maxRev)
	}
	r.failing = false
	r.mu.Unlock()
	return nil
}

// readAll reads every key in read-only Txns of up to maxTxnOps Gets and
// applies what it finds, then every watched prefix (readPrefixes). newHistory is non-empty when the answer comes from
// another history than the one seen so far: etcd's revision is lower than
// one seen before (etcd was wiped or restored from a snapshot), or another
// cluster answers. The watches then wait for revisions of the old history
// and must be replaced.
func (r *Resolver) readAll(ctx context.Context, source string) (newHistory string, err error) {
	reconnects := r.reconnects.Load()
	defer func() {
		if err == nil {
			r.readAt = reconnects // this read saw every reconnection before it
		}
	}()
	for start := 0; start < len(r.keys); start += maxTxnOps {
		batch := r.keys[start:min(start+maxTxnOps, len(r.keys))]
		ops := make([]clientv3.Op, len(batch))
		for i, k := range batch {
			ops[i] = clientv3.OpGet(k.name)
		}
		resp, err := r.cli.Txn(ctx).Then(ops...).Commit()
		if err != nil {
			return "", fmt.Errorf("read etcd keys: %w", describe(err))
		}
		r.mu.Lock()
		if nh := r.history(resp.Header); nh != "" {
			newHistory = nh
		}
		rev := resp.Header.Revision
		r.lastContact = time.Now()
		for i, k := range batch {
			k.rev = rev
			if kvs := resp.Responses[i].GetResponseRange().GetKvs(); len(kvs) > 0 {
				r.applyValue(k, kvs[0].Value, kvs[0].ModRevision, source)
			} else {
				r.apply(k, k.def, source, 0)
			}
		}
		r.mu.Unlock()
	}
	nh, err := r.readPrefixes(ctx, source)
	if err != nil {
		return "", err
	}
	if nh != "" {
		newHistory = nh
	}
	return newHistory, nil
}

// history compares the header of a read with what was seen before and
// records its cluster ID and revision. It returns why the read comes from
// a new history, or "". A linearizable read never sees a revision lower
// than an earlier read of the same history, so a lower one means etcd was
// wiped or restored. r.mu is held.
func (r *Resolver) history(h *etcdserverpb.ResponseHeader) string {
	why := r.otherCluster(h)
	if why == "" && h.Revision < r.maxRev {
		why = fmt.Sprintf("etcd revision went backwards from %d to %d", r.maxRev, h.Revision)
		r.log.Warn("etcd revision went backwards: etcd was wiped or restored from a snapshot", "from", r.maxRev, "to", h.Revision)
	}
	r.maxRev = h.Revision
	return why
}

// otherCluster records the cluster ID of a response and says, if it differs
// from the one seen before, that another cluster answers. A cluster's ID is
// derived from its members' IDs when it is formed, so a cluster rebuilt
// with other members (a changed member list) has another ID too. r.mu is
// held.
func (r *Resolver) otherCluster(h *etcdserverpb.ResponseHeader) string {
	prev := r.clusterID
	if h.ClusterId != 0 {
		r.clusterID = h.ClusterId
	}
	if prev == 0 || h.ClusterId == 0 || h.ClusterId == prev {
		return ""
	}
	r.log.Warn("etcd cluster ID changed: another etcd cluster answers", "from", fmt.Sprintf("%x", prev), "to", fmt.Sprintf("%x", h.ClusterId))
	return fmt.Sprintf("another etcd cluster answers (cluster ID %x, was %x)", h.ClusterId, prev)
}

// watch watches every key from the revision its state is known at, and
// re-reads every key each Timer, until a failure, which it returns.
func (r *Resolver) watch(ctx context.Context) error {
	type msg struct {
		k      *key    // nil for a prefix
		p      *prefix // nil for a key
		resp   clientv3.WatchResponse
		closed bool
	}
	// One context for all watches: etcd's client puts watches with the
	// same context metadata on one gRPC stream.
	wctx, cancel := context.WithCancel(clientv3.WithRequireLeader(ctx))
	msgs := make(chan msg)
	var wg sync.WaitGroup
	defer func() {
		cancel()
		wg.Wait()
	}()
	r.mu.Lock()
	r.watching = true
	for _, k := range r.keys {
		rev := k.rev + 1
		wg.Add(1)
		// Watch blocks until etcd confirms the watch, so it runs here and
		// not in the loop below, which must keep its timer going.
		go func() {
			defer wg.Done()
			for resp := range r.cli.Watch(wctx, k.name, clientv3.WithRev(rev)) {
				select {
				case msgs <- msg{k: k, resp: resp}:
				case <-wctx.Done():
					return
				}
			}
			select {
			case msgs <- msg{k: k, closed: true}:
			case <-wctx.Done():
			}
		}()
	}
	for _, p := range r.prefixes {
		rev := p.rev + 1
		wg.Add(1)
		go func() {
			defer wg.Done()
			for resp := range r.cli.Watch(wctx, p.name, clientv3.WithPrefix(), clientv3.WithRev(rev)) {
				select {
				case msgs <- msg{p: p, resp: resp}:
				case <-wctx.Done():
					return
				}
			}
			select {
			case msgs <- msg{p: p, closed: true}:
			case <-wctx.Done():
			}
		}()
	}
	r.mu.Unlock()
	tick := time.NewTicker(r.opts.Timer)
	defer tick.Stop()
	for {
		var err error
		select {
		case <-ctx.Done():
			return ctx.Err()
		case m := <-msgs:
			if m.p != nil {
				err = r.handlePrefix(m.p, m.resp, m.closed)
			} else {
				err = r.handle(m.k, m.resp, m.closed)
			}
		case <-r.ready:
			// etcd's client resumes a broken watch stream by itself,
			// from the revision it had reached. A wiped or restored etcd
			// answers such a watch with nothing until its revision
			// catches up, so every reconnection since the last read
			// began is checked by a read, which sees a new history and
			// replaces the watches.
			if r.reconnects.Load() != r.readAt {
				err = r.reread(ctx, SourceResync, "read after reconnecting to etcd")
			}
		case <-tick.C:
			err = r.reread(ctx, SourceTimer, "periodic read (--etcdtimer)")
		}
		if err != nil {
			return err
		}
	}
}

// reread reads every key while watching. A new history ends the watches
// with a resyncError; what names the read in an error.
func (r *Resolver) reread(ctx context.Context, source, what string) error {
	rctx, cancel := context.WithTimeout(ctx, callTimeout)
	defer cancel()
	newHistory, err := r.readAll(rctx, source)
	if err != nil {
		return fmt.Errorf("%s: %w", what, r.probeIfTimeout(ctx, err))
	}
	if newHistory != "" {
		return &resyncError{newHistory}
	}
	return nil
}

// watchConn follows the state of conn until ctx ends. Each time conn
// becomes ready it rings r.ready (without blocking: one pending ring is
// enough), and if conn was ready before, it counts a reconnection. Waking
// from a change and finding conn ready means it left the ready state and
// came back, even if the moment in between was missed.
func (r *Resolver) watchConn(ctx context.Context, conn *grpc.ClientConn) {
	st := conn.GetState()
	wasReady := st == connectivity.Ready
	for conn.WaitForStateChange(ctx, st) {
		if st = conn.GetState(); st != connectivity.Ready {
			continue
		}
		if wasReady {
			r.reconnects.Add(1)
		}
		wasReady = true
		select {
		case r.ready <- struct{}{}:
		default:
		}
	}
}

// handle applies one watch response for k.
func (r *Resolver) handle(k *key, resp clientv3.WatchResponse, closed bool) error {
	switch {
	case closed:
		return fmt.Errorf("watch on etcd key %q closed", k.name)
	case resp.CompactRevision != 0:
		return &resyncError{fmt.Sprintf("watch on etcd key %q fell behind etcd's compaction at revision %d", k.name, resp.CompactRevision)}
	case resp.Err() != nil:
		return fmt.Errorf("watch on etcd key %q: %w", k.name, describe(resp.Err()))
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if why := r.otherCluster(&resp.Header); why != "" {
		return &resyncError{why}
	}
	r.lastContact = time.Now()
	r.maxRev = max(r.maxRev, resp.Header.Revision)
	for _, ev := range resp.Events {
		if ev.Kv.ModRevision <= k.rev {
			continue // a read already saw this state
		}
		k.rev = ev.Kv.ModRevision
		if ev.Type == clientv3.EventTypeDelete {
			r.apply(k, k.def, SourceWatch, 0)
		} else {
			r.applyValue(k, ev.Kv.Value, ev.Kv.ModRevision, SourceWatch)
		}
	}
	return nil
}

// applyValue validates an etcd value for k and uses it, or rejects it and
// keeps the current URL. r.mu is held.
func (r *Resolver) applyValue(k *key, value []byte, modRev int64, source string) {
	t, err := endpoint.Parse(string(value))
	if err != nil {
		if k.rejected == nil || k.rejected.ModRevision != modRev {
			v := shorten(endpoint.Redact(string(value)))
			k.rejected = &Rejected{Value: v, Reason: err.Error(), ModRevision: modRev, At: time.Now()}
			r.opts.Observer.ValueRejected(k.name)
			r.log.Warn("ignoring unusable etcd value; keeping the last good URL",
				"key", k.name, "value", v, "reason", err.Error(), "url", k.cur.Raw, "source", source)
		}
		return
	}
	r.apply(k, t, source, modRev)
}

// apply makes t the current target of k; modRev 0 means t is the default
// because the key is absent. r.mu is held.
func (r *Resolver) apply(k *key, t *endpoint.Target, source string, modRev int64) {
	isDefault := modRev == 0
	k.modRev = modRev
	if t.Raw == k.cur.Raw && isDefault == k.isDefault {
		if source == SourceStartup {
			r.log.Info("etcd key resolved", "key", k.name, "url", t.Raw, "default", isDefault, "source", source)
		}
		return
	}
	old := k.cur
	k.cur, k.source, k.isDefault, k.changedAt = t, source, isDefault, time.Now()
	k.b.Store(t)
	r.opts.Observer.KeyChanged(k.name, source)
	k.history.add(Change{At: k.changedAt, Old: old.Raw, New: t.Raw, Source: source, Default: isDefault, ModRevision: modRev})
	r.log.Info("etcd endpoint changed", "key", k.name, "old", old.Raw, "new", t.Raw, "default", isDefault, "source", source)
}

// failed records a failure and logs it, once per distinct error a minute.
func (r *Resolver) failed(err error, msg string) {
	now := time.Now()
	r.mu.Lock()
	r.watching = false
	r.failing = true
	repeat := err.Error() == r.lastErr && now.Sub(r.lastLogAt) < time.Minute
	r.lastErr, r.lastErrAt = err.Error(), now
	if !repeat {
		r.lastLogAt = now
	}
	r.mu.Unlock()
	if repeat {
		return
	}
	level := slog.LevelWarn
	var ce *configError
	if errors.As(err, &ce) {
		level = slog.LevelError
	}
	r.log.Log(context.Background(), level, msg, "endpoints", r.opts.Endpoints, "error", err.Error())
}

// configError is a failure the operator must fix: credentials, permissions.
type configError struct{ error }

func (e *configError) Unwrap() error { return e.error }

// describe explains the etcd errors that need the operator's action.
func describe(err error) error {
	e := rpctypes.Error(err)
	switch {
	case errors.Is(e, rpctypes.ErrAuthFailed):
		return &configError{fmt.Errorf("etcd rejected the user and password given by --etcdusername/--etcdpassword: %w", err)}
	case errors.Is(e, rpctypes.ErrUserEmpty):
		return &configError{fmt.Errorf("etcd requires authentication: give --etcdusername and --etcdpassword: %w", err)}
	case errors.Is(e, rpctypes.ErrPermissionDenied):
		return &configError{fmt.Errorf("the etcd user may not read the endpoint keys: grant it read access: %w", err)}
	}
	return err
}

// retryBackoff doubles from backoffMin to backoffMax; each wait is random
// between half and all of the current step.
type retryBackoff struct{ step time.Duration }

func (b *retryBackoff) wait() time.Duration {
	if b.step == 0 {
		b.step = backoffMin
	}
	d := b.step
	b.step = min(2*b.step, backoffMax)
	return d/2 + rand.N(d/2+1)
}

func (b *retryBackoff) reset() { b.step = 0 }

// shorten bounds a value kept for logs and Status.
func shorten(s string) string {
	const limit = 256
	if len(s) <= limit {
		return s
	}
	return s[:limit] + "…"
}
