// Package redistest runs Debian's redis-server for tests: a real server of
// the test's own, on a unix socket, without persistence.
package redistest

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// Server is a real redis-server on a unix socket of the test's own.
type Server struct {
	// Sock is the socket's path.
	Sock string
	cmd  *exec.Cmd
}

// Start starts redis-server on a unix socket in a fresh directory (short,
// for the socket path limit) and waits until it answers PING. It skips the
// test when redis-server is not installed. The server is killed when the
// test ends.
func Start(t testing.TB) *Server {
	t.Helper()
	if _, err := exec.LookPath("redis-server"); err != nil {
		if os.Getenv("MICROGW_REQUIRE_REDIS") != "" {
			t.Fatal("redis-server is not installed and MICROGW_REQUIRE_REDIS is set: apt-get install -y redis-server")
		}
		t.Skip("redis-server is not installed (apt-get install -y redis-server)")
	}
	dir, err := os.MkdirTemp("", "rd")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	s := &Server{Sock: filepath.Join(dir, "r.sock")}
	s.Restart(t)
	return s
}

// URL is the server's redis URL (unix://path).
func (s *Server) URL() string { return "unix://" + s.Sock }

// Client is a client of the server, closed when the test ends.
func (s *Server) Client(t testing.TB) *redis.Client {
	c := redis.NewClient(&redis.Options{Network: "unix", Addr: s.Sock, DisableIdentity: true})
	t.Cleanup(func() { c.Close() })
	return c
}

// Restart starts the server again on the same socket, after Stop (Start
// calls it the first time). It returns once the server answers PING.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	s.cmd = exec.Command("redis-server", "--port", "0", "--unixsocket", s.Sock, "--unixsocketperm", "700",
		"--save", "", "--appendonly", "no", "--dir", filepath.Dir(s.Sock))
	var out bytes.Buffer
	s.cmd.Stdout, s.cmd.Stderr = &out, &out
	if err := s.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	cmd := s.cmd
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	c := redis.NewClient(&redis.Options{Network: "unix", Addr: s.Sock, DisableIdentity: true})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for c.Ping(context.Background()).Err() != nil {
		if time.Now().After(deadline) {
			t.Fatalf("redis-server did not answer on %s within 10 s:\n%s", s.Sock, out.String())
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// Stop kills the server (SIGKILL: as a crash, nothing is saved) and waits
// for it to exit.
func (s *Server) Stop() {
	s.cmd.Process.Kill()
	s.cmd.Wait()
}
