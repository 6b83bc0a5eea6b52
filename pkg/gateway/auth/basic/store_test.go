package basic

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// lockedBuffer is a log sink safe for the Run goroutine and the test.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// compares records the hashes a Store compares passwords against, still
// comparing them with bcrypt.
type compares struct {
	mu     sync.Mutex
	hashes []string
}

func (c *compares) wrap(s *Store) {
	s.compare = func(hash, password []byte) error {
		c.mu.Lock()
		c.hashes = append(c.hashes, string(hash))
		c.mu.Unlock()
		return bcrypt.CompareHashAndPassword(hash, password)
	}
}

func (c *compares) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	h := c.hashes
	c.hashes = nil
	return h
}

// newStore writes file into a temporary htpasswd file and opens it.
func newStore(t *testing.T, file string, opts Options) (*Store, string, *lockedBuffer) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "users.htpasswd")
	if err := os.WriteFile(path, []byte(file), 0o600); err != nil {
		t.Fatal(err)
	}
	logs := &lockedBuffer{}
	opts.Logger = slog.New(slog.NewTextHandler(logs, nil))
	s, err := New(path, opts)
	if err != nil {
		t.Fatal(err)
	}
	return s, path, logs
}

// run starts s.Run until the test ends.
func run(t *testing.T, s *Store) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() { cancel(); <-done })
}

// replace writes contents to path through a rename, as editors and
// configuration managers do, and waits for the store to look at it.
func replace(t *testing.T, s *Store, path, contents string) {
	t.Helper()
	changed := s.Changed()
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, []byte(contents), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(tmp, path); err != nil {
		t.Fatal(err)
	}
	waitChanged(t, changed)
}

func waitChanged(t *testing.T, changed <-chan struct{}) {
	t.Helper()
	select {
	case <-changed:
	case <-time.After(10 * time.Second):
		t.Fatal("the store did not look at the changed file within 10s")
	}
}

func check(s *Store, user, password string) bool {
	p, ok := s.CheckBasic([]byte(user), []byte(password))
	if ok && (p == nil || p.Subject != user || p.ID != user || p.KeyType != "PRODUCTION") {
		panic(fmt.Sprintf("principal %+v for %q", p, user))
	}
	return ok
}

func TestCheckBasicAcceptsOnlyTheRightPassword(t *testing.T) {
	s, _, _ := newStore(t, "alice:"+hashOf(t, "a-pass", "$2y$")+"\n", Options{})
	if !check(s, "alice", "a-pass") {
		t.Error("alice refused with her password")
	}
	for _, c := range [][2]string{{"alice", "a-pasS"}, {"alice", ""}, {"Alice", "a-pass"}, {"bob", "a-pass"}, {"", ""}} {
		if check(s, c[0], c[1]) {
			t.Errorf("%q/%q accepted", c[0], c[1])
		}
	}
}

// TestUnknownUserCostsOneBcryptCompare protects against user enumeration by
// timing: an unknown user, and a SHA-1 user with a wrong password, are
// compared against a dummy hash of the file's highest cost, as a known
// bcrypt user is against theirs.
func TestUnknownUserCostsOneBcryptCompare(t *testing.T) {
	s, _, _ := newStore(t, "alice:"+hashOf(t, "a", "$2y$")+"\ndave:{SHA1HEX}"+sha1Hex("d")+"\n", Options{})
	var c compares
	c.wrap(s)
	dummy := string(s.cur.Load().dummy)
	if cost, err := bcrypt.Cost([]byte(dummy)); err != nil || cost != bcrypt.MinCost {
		t.Fatalf("dummy cost = %d (%v), want alice's %d", cost, err, bcrypt.MinCost)
	}
	for _, user := range []string{"mallory", "dave"} {
		if check(s, user, "wrong") {
			t.Fatalf("%s accepted", user)
		}
		if got := c.take(); len(got) != 1 || got[0] != dummy {
			t.Errorf("%s: compared against %d hashes, want the dummy once", user, len(got))
		}
	}
	if check(s, "alice", "wrong") {
		t.Fatal("alice accepted with a wrong password")
	}
	if got := c.take(); len(got) != 1 || got[0] == dummy {
		t.Errorf("alice: compared against %d hashes, want hers once", len(got))
	}
}

// TestSHA1EntriesWorkAndAreNamedInOneWarning protects the micro-gw 3.x
// migration path: the users are named in one warning, their hashes never.
func TestSHA1EntriesWorkAndAreNamedInOneWarning(t *testing.T) {
	h := sha1Hex("d-pass")
	s, _, logs := newStore(t, "dave:{SHA1HEX}"+h+"\nerin:{SHA1HEX}"+sha1Hex("e")+"\nalice:"+hashOf(t, "a", "$2y$")+"\n", Options{})
	if !check(s, "dave", "d-pass") || check(s, "dave", "d-pasS") {
		t.Fatal("dave's SHA-1 entry does not check his password")
	}
	out := logs.String()
	if n := strings.Count(out, "level=WARN"); n != 1 || !strings.Contains(out, "users=dave,erin") {
		t.Errorf("want one warning naming dave,erin; logs:\n%s", out)
	}
	if strings.Contains(out, h) || strings.Contains(strings.ToLower(out), "d-pass") {
		t.Errorf("logs name a hash or password:\n%s", out)
	}
}

// TestCacheHitSkipsBcrypt protects the cost of basic auth: the second check
// of the same credentials does not run bcrypt, and a wrong password is
// never answered from the cache.
func TestCacheHitSkipsBcrypt(t *testing.T) {
	s, _, _ := newStore(t, "alice:"+hashOf(t, "a", "$2y$")+"\n", Options{})
	var c compares
	c.wrap(s)
	for i := range 3 {
		if !check(s, "alice", "a") {
			t.Fatal("refused")
		}
		if got := len(c.take()); got != map[bool]int{true: 1, false: 0}[i == 0] {
			t.Errorf("check %d ran bcrypt %d times", i, got)
		}
	}
	if check(s, "alice", "b") {
		t.Fatal("wrong password accepted")
	}
	if len(c.take()) != 1 {
		t.Error("a wrong password did not run bcrypt")
	}
}

func TestCacheStaysWithinItsBound(t *testing.T) {
	const users = 6
	var file strings.Builder
	for i := range users {
		fmt.Fprintf(&file, "u%d:%s\n", i, hashOf(t, fmt.Sprint("p", i), "$2y$"))
	}
	s, _, _ := newStore(t, file.String(), Options{CacheSize: 4})
	for i := range users {
		if !check(s, fmt.Sprint("u", i), fmt.Sprint("p", i)) {
			t.Fatalf("u%d refused", i)
		}
		if n := s.cur.Load().cache.len(); n > 4 {
			t.Fatalf("cache holds %d entries, bound 4", n)
		}
	}
	if n := s.cur.Load().cache.len(); n != 4 {
		t.Fatalf("cache holds %d entries, want 4", n)
	}
}

// TestCacheKeySeparatesUserAndPassword: ("ab","c") and ("a","bc") are
// different credentials.
func TestCacheKeySeparatesUserAndPassword(t *testing.T) {
	c, err := newCache(4)
	if err != nil {
		t.Fatal(err)
	}
	if c.key([]byte("ab"), []byte("c")) == c.key([]byte("a"), []byte("bc")) {
		t.Fatal("same key")
	}
	long := bytes.Repeat([]byte("x"), keyBuf)
	if c.key(long, []byte("1")) == c.key(long, []byte("2")) || c.key(long, []byte("1")) != c.key(long, []byte("1")) {
		t.Fatal("long credentials: keys do not follow the password")
	}
}

func TestCacheHitAllocatesNothing(t *testing.T) {
	s, _, _ := newStore(t, "alice:"+hashOf(t, "a", "$2y$")+"\n", Options{})
	user, pass := []byte("alice"), []byte("a")
	if _, ok := s.CheckBasic(user, pass); !ok {
		t.Fatal("refused")
	}
	if n := testing.AllocsPerRun(100, func() { s.CheckBasic(user, pass) }); n != 0 {
		t.Fatalf("cache hit allocates %v times", n)
	}
}

// TestReloadAppliesAChangedFileAndEmptiesTheCache protects reloads: a
// changed password takes effect at once, even for a client whose old
// password was cached.
func TestReloadAppliesAChangedFileAndEmptiesTheCache(t *testing.T) {
	s, path, _ := newStore(t, "alice:"+hashOf(t, "old", "$2y$")+"\n", Options{Interval: 5 * time.Millisecond})
	run(t, s)
	if !check(s, "alice", "old") {
		t.Fatal("refused")
	}
	replace(t, s, path, "alice:"+hashOf(t, "new", "$2y$")+"\nbob:"+hashOf(t, "b", "$2y$")+"\n")
	if check(s, "alice", "old") {
		t.Error("the old, cached password still works after the reload")
	}
	if !check(s, "alice", "new") || !check(s, "bob", "b") {
		t.Error("the new file's users are refused")
	}
	if loads, users, err := s.Status(); loads != 2 || users != 2 || err != nil {
		t.Errorf("status = %d loads, %d users, %v", loads, users, err)
	}
}

// TestReloadSeesAnInPlaceRewriteOfTheSameSize protects against a missed
// change when a rewrite keeps the size and, on a coarse file system clock,
// the modification time.
func TestReloadSeesAnInPlaceRewriteOfTheSameSize(t *testing.T) {
	a, b := hashOf(t, "one", "$2y$"), hashOf(t, "two", "$2y$")
	s, path, _ := newStore(t, "alice:"+a+"\n", Options{Interval: 5 * time.Millisecond})
	run(t, s)
	before, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	changed := s.Changed()
	if err := os.WriteFile(path, []byte("alice:"+b+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	// A coarse clock gives the rewrite the modification time it had.
	if err := os.Chtimes(path, before.ModTime(), before.ModTime()); err != nil {
		t.Fatal(err)
	}
	waitChanged(t, changed)
	if check(s, "alice", "one") || !check(s, "alice", "two") {
		t.Fatal("the rewrite was not applied")
	}
}

// TestReloadKeepsTheLastGoodUsersOnABadFile protects running clients from
// a broken edit: it is logged (without its contents) and ignored.
func TestReloadKeepsTheLastGoodUsersOnABadFile(t *testing.T) {
	good := "alice:" + hashOf(t, "a", "$2y$") + "\n"
	s, path, logs := newStore(t, good, Options{Interval: 5 * time.Millisecond})
	run(t, s)
	replace(t, s, path, good+"bob:hunter2-plaintext\n")
	if !check(s, "alice", "a") || check(s, "bob", "hunter2-plaintext") {
		t.Fatal("the bad file replaced the good users")
	}
	loads, _, err := s.Status()
	if loads != 1 || err == nil || !strings.Contains(err.Error(), path+":2:") {
		t.Errorf("status = %d loads, %v; want 1 load and the error naming line 2", loads, err)
	}
	if out := logs.String(); !strings.Contains(out, "last good load") || strings.Contains(out, "hunter2") {
		t.Errorf("logs:\n%s", out)
	}
	replace(t, s, path, good) // back to the contents of the last good load
	if loads, _, err := s.Status(); loads != 2 || err != nil {
		t.Errorf("after the fix: %d loads, %v", loads, err)
	}
}

func TestReloadKeepsUsersWhenTheFileDisappears(t *testing.T) {
	s, path, _ := newStore(t, "alice:"+hashOf(t, "a", "$2y$")+"\n", Options{Interval: 5 * time.Millisecond})
	run(t, s)
	changed := s.Changed()
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	waitChanged(t, changed)
	if !check(s, "alice", "a") {
		t.Fatal("users dropped with the file")
	}
	if _, _, err := s.Status(); err == nil {
		t.Error("no error reported for the missing file")
	}
}

func TestNewNamesTheFlagForAMissingOrBadFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := New(filepath.Join(dir, "nope"), Options{}); err == nil || !strings.Contains(err.Error(), "--basic-auth-file") {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad")
	if err := os.WriteFile(bad, []byte("alice:plain\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := New(bad, Options{}); err == nil || !strings.Contains(err.Error(), "--basic-auth-file") || !strings.Contains(err.Error(), bad+":1:") {
		t.Errorf("bad file: %v", err)
	}
}

func BenchmarkCheckBasicCached(b *testing.B) {
	h, err := bcrypt.GenerateFromPassword([]byte("a"), bcrypt.DefaultCost)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "users")
	if err := os.WriteFile(path, []byte("alice:"+string(h)+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	s, err := New(path, Options{Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	user, pass := []byte("alice"), []byte("a")
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, ok := s.CheckBasic(user, pass); !ok {
				panic("refused")
			}
		}
	})
}

func BenchmarkCheckBasicUncached(b *testing.B) {
	h, err := bcrypt.GenerateFromPassword([]byte("a"), bcrypt.DefaultCost)
	if err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "users")
	if err := os.WriteFile(path, []byte("alice:"+string(h)+"\n"), 0o600); err != nil {
		b.Fatal(err)
	}
	s, err := New(path, Options{Logger: slog.New(slog.DiscardHandler), CacheSize: -1})
	if err != nil {
		b.Fatal(err)
	}
	user, pass := []byte("alice"), []byte("a")
	b.ReportAllocs()
	for b.Loop() {
		if _, ok := s.CheckBasic(user, pass); !ok {
			b.Fatal("refused")
		}
	}
}

// TestWrongPasswordFloodLeavesCoresFree protects the gateway's other
// routes from a flood of wrong basic-auth passwords: each costs a bcrypt
// compare (tens of milliseconds of CPU), so at most Options.Concurrency of
// them run at once and the others wait their turn.
func TestWrongPasswordFloodLeavesCoresFree(t *testing.T) {
	s, _, _ := newStore(t, "alice:"+hashOf(t, "a", "$2y$")+"\n", Options{Concurrency: 2, CacheSize: -1})
	var mu sync.Mutex
	running, most := 0, 0
	release := make(chan struct{})

	s.compare = func(hash, password []byte) error {
		mu.Lock()
		running++
		most = max(most, running)
		mu.Unlock()
		<-release
		mu.Lock()
		running--
		mu.Unlock()
		return bcrypt.ErrMismatchedHashAndPassword
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() { defer wg.Done(); check(s, "alice", "wrong") }()
	}
	// Every check is either comparing or waiting for a slot before the
	// compares are released.
	deadline := time.Now().Add(10 * time.Second)
	for {
		mu.Lock()
		n := running
		mu.Unlock()
		if int64(n)+s.waiting.Load() == 8 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d comparing and %d waiting, want 8 in all", n, s.waiting.Load())
		}
		runtime.Gosched()
	}
	close(release)
	wg.Wait()
	if most > 2 {
		t.Errorf("%d bcrypt compares ran at once, want at most 2", most)
	}
}
