package discovery

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"sync"
	"time"
)

const (
	// probeTimeout bounds the probe that follows a background read that
	// timed out.
	probeTimeout = time.Second
	// firstReadWait is how long the probe waits for a TLS member's first
	// bytes: with TLS 1.3 a refused client certificate shows only there.
	firstReadWait = 300 * time.Millisecond
)

// startupRead reads every key once while probing every member, all under
// one deadline, Options.StartupTimeout: the start of the gateway never
// waits longer, however many members there are and however they fail.
// When every member refuses the connection there is nothing to wait for,
// and it gives up at once.
func (r *Resolver) startupRead(ctx context.Context) error {
	sctx, cancel := context.WithTimeout(ctx, r.opts.StartupTimeout)
	defer cancel()
	probed := make(chan probeResult, 1)
	go func() {
		p := r.probe(sctx)
		if p.refused {
			cancel()
		}
		probed <- p
	}()
	err := r.connectAndRead(ctx, sctx, SourceStartup)
	cancel() // ends the probe too
	p := <-probed
	if !contextEnded(err) {
		return err
	}
	if p.refused {
		return fmt.Errorf("no etcd member accepts connections (%s)", p)
	}
	return fmt.Errorf("%w; no answer within the startup timeout (%v): %s", err, r.opts.StartupTimeout, p)
}

// probeIfTimeout adds to err, if it is a timeout, why each member does not
// answer: etcd's client reports only the deadline.
func (r *Resolver) probeIfTimeout(ctx context.Context, err error) error {
	if !contextEnded(err) || ctx.Err() != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, probeTimeout)
	defer cancel()
	p := r.probe(pctx)
	if p.refused {
		return fmt.Errorf("%w (no etcd member accepts connections: %s)", err, p)
	}
	return fmt.Errorf("%w (%s)", err, p)
}

// contextEnded reports whether err is a context's deadline or cancellation:
// how etcd's client ends a call that got no answer in time.
func contextEnded(err error) bool {
	return errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled)
}

// probeResult is what dialling every member found.
type probeResult struct {
	members []string // "endpoint: finding", in the order of Options.Endpoints
	refused bool     // every member refused the connection or is unreachable
}

func (p probeResult) String() string { return strings.Join(p.members, "; ") }

// probe connects to every member at once, as etcd's client does (TCP, then
// TLS for https), each until it has an answer or ctx ends, and says why
// each might not answer: connection refused, no connection at all (packets
// dropped), a TLS or certificate error, or connected (then etcd itself is
// stuck, e.g. without a leader, or something else listens there).
func (r *Resolver) probe(ctx context.Context) probeResult {
	res := probeResult{members: make([]string, len(r.opts.Endpoints)), refused: true}
	refused := make([]bool, len(r.opts.Endpoints))
	var wg sync.WaitGroup
	for i, ep := range r.opts.Endpoints {
		wg.Go(func() {
			var finding string
			finding, refused[i] = r.probeMember(ctx, ep)
			res.members[i] = ep + ": " + finding
		})
	}
	wg.Wait()
	for _, ref := range refused {
		res.refused = res.refused && ref
	}
	return res
}

// probeMember probes one member until it has an answer or ctx ends.
// refused is true when the member refused the connection or cannot be
// reached at all.
func (r *Resolver) probeMember(ctx context.Context, ep string) (finding string, refused bool) {
	u, _ := url.Parse(ep) // checked by New
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", u.Host)
	if err != nil {
		var ne net.Error
		if ctx.Err() != nil || (errors.As(err, &ne) && ne.Timeout()) {
			return "no connection before the deadline (the member drops packets, or its host is down)", false
		}
		return err.Error(), true
	}
	defer conn.Close()
	// The end of ctx unblocks the handshake and the read below.
	stop := context.AfterFunc(ctx, func() { conn.SetDeadline(time.Now()) })
	defer stop()
	if r.cfg.TLS == nil {
		return "accepts connections but does not answer", false
	}
	tc := r.cfg.TLS.Clone()
	tc.ServerName, tc.NextProtos = u.Hostname(), []string{"h2"}
	tconn := tls.Client(conn, tc)
	if err := tconn.HandshakeContext(ctx); err != nil {
		if ctx.Err() != nil {
			return "accepts connections but the TLS handshake did not finish before the deadline", false
		}
		return err.Error(), false
	}
	tconn.SetReadDeadline(time.Now().Add(firstReadWait))
	if ctx.Err() != nil { // the deadline set by AfterFunc may just have been replaced
		conn.SetDeadline(time.Now())
	}
	var ne net.Error
	if _, err := tconn.Read(make([]byte, 1)); err != nil && !(errors.As(err, &ne) && ne.Timeout()) {
		return err.Error(), false
	}
	return "TLS connection works but etcd does not answer", false
}
