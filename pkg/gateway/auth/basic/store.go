package basic

import (
	"context"
	"crypto/sha1"
	"crypto/sha256"
	"crypto/subtle"
	"fmt"
	"log/slog"
	"os"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/crypto/bcrypt"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
)

// Defaults of Options.
const (
	DefaultInterval  = time.Second
	DefaultCacheSize = 1024
)

// Options tune a Store. The zero value uses the defaults.
type Options struct {
	// Interval is how often Run looks at the file; DefaultInterval if 0.
	Interval time.Duration
	// CacheSize bounds the successful checks remembered per load;
	// DefaultCacheSize if 0, no cache if negative.
	CacheSize int
	// Logger receives reload and warning logs; nil uses slog.Default().
	Logger *slog.Logger
	// Concurrency bounds the bcrypt compares running at once, so that a
	// flood of wrong passwords (each tens of milliseconds of CPU) leaves
	// cores to the other routes; 0 means half of GOMAXPROCS, at least 1.
	Concurrency int
}

// Store is the users of one htpasswd file, reloaded when it changes
// (see Run). It is safe for concurrent use.
type Store struct {
	path string
	opts Options
	log  *slog.Logger

	cur atomic.Pointer[table]
	// compare is bcrypt.CompareHashAndPassword; tests wrap it to see which
	// hashes a check compares against.
	compare func(hash, password []byte) error
	// slots bounds the compares running at once (Options.Concurrency);
	// waiting counts the checks waiting for one.
	slots   chan struct{}
	waiting atomic.Int64

	mu      sync.Mutex
	stamp   fileStamp
	readAt  time.Time
	digest  [sha256.Size]byte
	changed chan struct{}
	loads   uint64
	lastErr error
}

var _ auth.BasicStore = (*Store)(nil)

// table is one load: the users, the dummy hash and the cache of that load.
type table struct {
	users *users
	// dummy is compared against when the user is unknown, so an unknown
	// user costs what a known one does.
	dummy []byte
	cache *cache
}

// New loads the htpasswd file at path. An unreadable or bad file is an
// error: the gateway must not start without its users. Call Run to follow
// changes.
func New(path string, opts Options) (*Store, error) {
	if opts.Interval <= 0 {
		opts.Interval = DefaultInterval
	}
	if opts.CacheSize == 0 {
		opts.CacheSize = DefaultCacheSize
	}
	if opts.Concurrency <= 0 {
		opts.Concurrency = max(1, runtime.GOMAXPROCS(0)/2)
	}
	s := &Store{path: path, opts: opts, log: opts.Logger, changed: make(chan struct{}), compare: bcrypt.CompareHashAndPassword,
		slots: make(chan struct{}, opts.Concurrency)}
	if s.log == nil {
		s.log = slog.Default()
	}
	st, err := stat(path)
	if err != nil {
		return nil, fmt.Errorf("--basic-auth-file: %w; give an htpasswd file with bcrypt entries (htpasswd -B -C 10 -c FILE USER)", err)
	}
	s.readAt = time.Now()
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("--basic-auth-file: %w", err)
	}
	t, err := s.load(data)
	if err != nil {
		return nil, fmt.Errorf("--basic-auth-file: %w", err)
	}
	s.cur.Store(t)
	s.stamp = st
	s.digest = sha256.Sum256(data)
	s.loads = 1
	return s, nil
}

// load parses the file's contents and builds a table, logging the SHA-1
// users it accepts.
func (s *Store) load(data []byte) (*table, error) {
	u, err := parse(s.path, data)
	if err != nil {
		return nil, err
	}
	dummy, err := bcrypt.GenerateFromPassword([]byte("micro-gw dummy password"), u.maxCost)
	if err != nil {
		return nil, fmt.Errorf("make the dummy bcrypt hash: %w", err)
	}
	t := &table{users: u, dummy: dummy}
	if s.opts.CacheSize > 0 {
		if t.cache, err = newCache(s.opts.CacheSize); err != nil {
			return nil, err
		}
	}
	if len(u.legacy) > 0 {
		s.log.Warn("basic auth: users with micro-gw 3.x SHA-1 entries; SHA-1 is fast to brute-force, give them bcrypt entries (htpasswd -B)",
			"file", s.path, "users", strings.Join(u.legacy, ","))
	}
	s.log.Info("basic auth: users loaded", "file", s.path, "users", len(u.byName))
	return t, nil
}

// CheckBasic reports whether password is user's. A refusal costs one bcrypt
// compare whether or not the user exists.
func (s *Store) CheckBasic(user, password []byte) (*auth.Principal, bool) {
	t := s.cur.Load()
	var key cacheKey
	if t.cache != nil {
		key = t.cache.key(user, password)
		if p := t.cache.get(&key); p != nil {
			return p, true
		}
	}
	e := t.users.byName[string(user)]
	switch {
	case e == nil:
	case e.legacy:
		sum := sha1.Sum(password)
		if subtle.ConstantTimeCompare(sum[:], e.sha1[:]) == 1 {
			return e.principal, true
		}
	default:
		if s.bcrypt(e.bcrypt, password) == nil {
			if t.cache != nil {
				t.cache.put(&key, e.principal)
			}
			return e.principal, true
		}
		return nil, false
	}
	s.bcrypt(t.dummy, password) //nolint:errcheck // spends the time a known user would
	return nil, false
}

// bcrypt compares password with hash, waiting for one of the slots.
func (s *Store) bcrypt(hash, password []byte) error {
	s.waiting.Add(1)
	s.slots <- struct{}{}
	s.waiting.Add(-1)
	defer func() { <-s.slots }()
	return s.compare(hash, password)
}

// Changed returns a channel closed when Run next looks at a changed file,
// whether the load succeeds or not (tests and /status wait on it).
func (s *Store) Changed() <-chan struct{} {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.changed
}

// Status says how many loads succeeded and the error of the last attempt
// (nil when it succeeded).
func (s *Store) Status() (loads uint64, users int, lastErr error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.loads, len(s.cur.Load().users.byName), s.lastErr
}

// Run looks at the file every Options.Interval and reloads it when it
// changed, until ctx ends. A file that fails to load is logged and the
// users of the last good load are kept.
func (s *Store) Run(ctx context.Context) {
	tick := time.NewTicker(s.opts.Interval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
			s.poll()
		}
	}
}

// poll reloads the file if it changed since the last look: when its stamp
// changed, or when its modification time is too close to the last read to
// rule out a write after it with the same stamp (file system clocks are
// coarse: an in-place rewrite of the same size can keep the stamp). The
// contents decide: unchanged contents are not loaded again.
func (s *Store) poll() {
	st, err := stat(s.path)
	s.mu.Lock()
	defer s.mu.Unlock()
	if st.same(s.stamp) && !s.racy(st) {
		return
	}
	s.stamp = st
	var data []byte
	if err == nil {
		s.readAt = time.Now()
		data, err = os.ReadFile(s.path)
	}
	if err == nil {
		sum := sha256.Sum256(data)
		if sum == s.digest {
			return
		}
		s.digest = sum
	}
	var t *table
	if err == nil {
		t, err = s.load(data)
	}
	if err != nil {
		s.lastErr = err
		s.log.Error("basic auth: the changed file was not loaded; the users of the last good load stay in force", "file", s.path, "err", err)
	} else {
		s.cur.Store(t)
		s.loads++
		s.lastErr = nil
	}
	close(s.changed)
	s.changed = make(chan struct{})
}

// racyWindow is how close to the last read a modification time must be
// for poll to read the file again: more than the coarsest file system
// timestamp granularity in use (FAT's 2 s).
const racyWindow = 3 * time.Second

// racy reports whether st's file may have been written after the last read
// without changing its stamp.
func (s *Store) racy(st fileStamp) bool {
	return st.ok && !st.mtime.Add(racyWindow).Before(s.readAt)
}

// fileStamp is what poll compares to see a change: size, modification
// time and identity (a file replaced by rename is another file). ok is
// false when the file could not be looked at.
type fileStamp struct {
	ok    bool
	size  int64
	mtime time.Time
	info  os.FileInfo
}

func stat(path string) (fileStamp, error) {
	fi, err := os.Stat(path)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{ok: true, size: fi.Size(), mtime: fi.ModTime(), info: fi}, nil
}

func (a fileStamp) same(b fileStamp) bool {
	if !a.ok || !b.ok {
		return a.ok == b.ok
	}
	return a.size == b.size && a.mtime.Equal(b.mtime) && os.SameFile(a.info, b.info)
}
