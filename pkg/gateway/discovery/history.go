package discovery

import "time"

// HistorySize is how many changes of each key's URL Status keeps: enough to
// see a key flap or follow a roll-out, bounded so that a key changed in a
// loop cannot grow the gateway's memory.
const HistorySize = 20

// Change is one change of a key's URL.
type Change struct {
	At  time.Time `json:"at"`
	Old string    `json:"old"`
	New string    `json:"new"`
	// Source is how New was set: startup, watch, timer or resync.
	Source string `json:"source"`
	// Default is true when New is the default URL because the key is
	// absent from etcd.
	Default bool `json:"default,omitempty"`
	// ModRevision is the etcd revision of New; 0 for the default.
	ModRevision int64 `json:"mod_revision,omitempty"`
}

// history is a ring of the last HistorySize changes of a key. It is
// guarded by Resolver.mu with the rest of the key's state.
type history struct {
	ring [HistorySize]Change
	n    int // changes recorded in all; the next goes to ring[n%HistorySize]
}

// add records c, dropping the oldest change when the ring is full.
func (h *history) add(c Change) {
	h.ring[h.n%HistorySize] = c
	h.n++
}

// newestFirst returns a copy of the changes kept, newest first; an empty
// (not nil) slice when there are none, so that JSON shows [].
func (h *history) newestFirst() []Change {
	kept := min(h.n, HistorySize)
	out := make([]Change, kept)
	for i := range kept {
		out[i] = h.ring[(h.n-1-i)%HistorySize]
	}
	return out
}
