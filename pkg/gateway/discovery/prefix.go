package discovery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
)

// PrefixSink receives every key under a prefix watched with
// Resolver.WatchPrefix. Its methods are called from one goroutine at a time,
// in revision order, never with the Resolver's lock held; they must not
// block for long (they hold up every watch).
type PrefixSink interface {
	// Reset replaces everything known under the prefix with kvs, read at
	// revision rev, in one read: at startup, every Options.Timer, and after
	// a failure or a new etcd history (source: SourceStartup, SourceTimer,
	// SourceResync). A key absent from kvs no longer exists.
	Reset(kvs []KV, rev int64, source string)
	// Apply applies the changes of one watch response, in order; rev is the
	// response's revision.
	Apply(changes []KV, rev int64)
}

// KV is one key under a watched prefix, as read or as changed by a watch
// event. Key is the whole etcd key, prefix included. Value and Key are the
// sink's to keep.
type KV struct {
	Key         string
	Value       []byte
	ModRevision int64
	// Deleted is true for a delete event (a lease expiry too); Value is nil.
	Deleted bool
}

// prefix is one watched prefix and its sink.
type prefix struct {
	name string
	sink PrefixSink
	rev  int64 // revision up to which the prefix is known; run goroutine only
}

// WatchPrefix makes the Resolver follow every key under p as well, with
// the same client, watch stream, reads and recovery as its endpoint keys
// (semantics 1 to 6 of the package documentation), and hand them to sink.
// One watch on a range is right here, unlike for endpoint keys: the prefix
// belongs to the gateway. Call it before Start.
func (r *Resolver) WatchPrefix(p string, sink PrefixSink) error {
	if strings.TrimSpace(p) == "" {
		return errors.New("discovery: a watched etcd prefix is empty; give a prefix such as micro-gw/apikeys/")
	}
	if sink == nil {
		return fmt.Errorf("discovery: etcd prefix %q has no sink", p)
	}
	if r.done != nil {
		return fmt.Errorf("discovery: etcd prefix %q added after Start; add it before", p)
	}
	for _, q := range r.prefixes {
		if q.name == p {
			return fmt.Errorf("discovery: etcd prefix %q is watched twice", p)
		}
	}
	r.prefixes = append(r.prefixes, &prefix{name: p, sink: sink})
	return nil
}

// readPrefixes reads every prefix in read-only Txns of up to maxTxnOps
// ranges (one revision per Txn) and resets each sink. It returns, as
// readAll does, why the answer comes from a new history, or "".
func (r *Resolver) readPrefixes(ctx context.Context, source string) (newHistory string, err error) {
	for start := 0; start < len(r.prefixes); start += maxTxnOps {
		batch := r.prefixes[start:min(start+maxTxnOps, len(r.prefixes))]
		ops := make([]clientv3.Op, len(batch))
		for i, p := range batch {
			ops[i] = clientv3.OpGet(p.name, clientv3.WithPrefix())
		}
		resp, err := r.cli.Txn(ctx).Then(ops...).Commit()
		if err != nil {
			return "", fmt.Errorf("read etcd prefixes: %w", describe(err))
		}
		r.mu.Lock()
		if nh := r.history(resp.Header); nh != "" {
			newHistory = nh
		}
		r.lastContact = time.Now()
		r.mu.Unlock()
		rev := resp.Header.Revision
		for i, p := range batch {
			p.rev = rev
			rkvs := resp.Responses[i].GetResponseRange().GetKvs()
			kvs := make([]KV, len(rkvs))
			for j, kv := range rkvs {
				kvs[j] = KV{Key: string(kv.Key), Value: kv.Value, ModRevision: kv.ModRevision}
			}
			p.sink.Reset(kvs, rev, source)
		}
	}
	return newHistory, nil
}

// handlePrefix applies one watch response for p. Events a read already
// saw are skipped.
func (r *Resolver) handlePrefix(p *prefix, resp clientv3.WatchResponse, closed bool) error {
	switch {
	case closed:
		return fmt.Errorf("watch on etcd prefix %q closed", p.name)
	case resp.CompactRevision != 0:
		return &resyncError{fmt.Sprintf("watch on etcd prefix %q fell behind etcd's compaction at revision %d", p.name, resp.CompactRevision)}
	case resp.Err() != nil:
		return fmt.Errorf("watch on etcd prefix %q: %w", p.name, describe(resp.Err()))
	}
	r.mu.Lock()
	why := r.otherCluster(&resp.Header)
	if why == "" {
		r.lastContact = time.Now()
		r.maxRev = max(r.maxRev, resp.Header.Revision)
	}
	r.mu.Unlock()
	if why != "" {
		return &resyncError{why}
	}
	changes := make([]KV, 0, len(resp.Events))
	for _, ev := range resp.Events {
		if ev.Kv.ModRevision <= p.rev {
			continue // a read already saw this state
		}
		p.rev = ev.Kv.ModRevision
		c := KV{Key: string(ev.Kv.Key), ModRevision: ev.Kv.ModRevision, Deleted: ev.Type == clientv3.EventTypeDelete}
		if !c.Deleted {
			c.Value = ev.Kv.Value
		}
		changes = append(changes, c)
	}
	if len(changes) > 0 {
		p.sink.Apply(changes, resp.Header.Revision)
	}
	return nil
}
