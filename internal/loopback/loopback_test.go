package loopback

import (
	"io"
	"net"
	"testing"
	"time"
)

func refused(addr string) bool {
	c, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		return true
	}
	c.Close()
	return false
}

// TestReservedPortRefusesAndCannotBeTaken protects what tests rely on: a
// reserved port refuses connections, no other listener can take it, and it
// can be listened on, stopped and listened on again.
func TestReservedPortRefusesAndCannotBeTaken(t *testing.T) {
	r, err := Reserve()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !refused(r.Addr()) {
		t.Fatal("a reserved port accepted a connection; want it refused")
	}
	if ln, err := net.Listen("tcp", r.Addr()); err == nil {
		ln.Close()
		t.Fatal("another listener took a reserved port")
	}
	for range 2 {
		ln, err := r.Listen()
		if err != nil {
			t.Fatal(err)
		}
		accepted := make(chan error, 1)
		go func() {
			c, err := ln.Accept()
			if err == nil {
				c.Close()
			}
			accepted <- err
		}()
		if refused(r.Addr()) {
			t.Fatal("the listening reserved port refused a connection")
		}
		if err := <-accepted; err != nil {
			t.Fatal(err)
		}
		ln.Close()
		if !refused(r.Addr()) {
			t.Fatal("a stopped listener's port accepted a connection")
		}
	}
}

// TestRelayRefusesUntilTargetAndCutsOnStop protects the late-server story:
// refused with no target, relayed with one, refused and cut again without.
func TestRelayRefusesUntilTargetAndCutsOnStop(t *testing.T) {
	rl, err := NewRelay()
	if err != nil {
		t.Fatal(err)
	}
	defer rl.Close()
	if !refused(rl.Addr()) {
		t.Fatal("a relay without a target accepted a connection")
	}
	echo, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer echo.Close()
	go func() {
		for {
			c, err := echo.Accept()
			if err != nil {
				return
			}
			go func() { io.Copy(c, c); c.Close() }()
		}
	}()
	if err := rl.SetTarget(echo.Addr().String()); err != nil {
		t.Fatal(err)
	}
	c, err := net.DialTimeout("tcp", rl.Addr(), 5*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	c.SetDeadline(time.Now().Add(5 * time.Second))
	buf := make([]byte, 4)
	if _, err := c.Write([]byte("ping")); err != nil {
		t.Fatal(err)
	}
	if _, err := io.ReadFull(c, buf); err != nil || string(buf) != "ping" {
		t.Fatalf("relayed echo: %q %v", buf, err)
	}
	if err := rl.SetTarget(""); err != nil {
		t.Fatal(err)
	}
	if _, err := c.Read(buf); err == nil {
		t.Fatal("a relayed connection survived the relay losing its target")
	}
	if !refused(rl.Addr()) {
		t.Fatal("a relay whose target was removed accepted a connection")
	}
}
