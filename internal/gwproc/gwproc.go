// Package gwproc runs a compiled gateway as a child process on loopback, for
// the end-to-end tests and the demo; Build compiles a project's gateway for
// them.
//
// The gateway's output is read through a pipe, line by line, into Lines,
// which the caller may read and wait on while the gateway runs. The gateway
// is ready when it logs "gateway started"; nothing polls or sleeps.
//
// The gateway's flags cannot ask for a port the kernel picks (port 0 turns a
// listener off), so Start picks free ports itself. One may be taken by
// someone else before the gateway binds it; the gateway then exits with
// "address already in use", and Start tries again with other ports.
package gwproc

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Lines is a process's output, collected line by line as it is written.
// Its methods are safe to call while the process runs.
type Lines struct {
	mu    sync.Mutex
	lines []string
	eof   bool
	more  chan struct{} // closed, and replaced, on every new line and at EOF
	done  chan struct{} // closed at EOF
	echo  func(string)
}

// Collect reads r line by line until EOF, then closes it. echo, if not nil,
// is called with every line as it arrives, from the reading goroutine.
func Collect(r io.ReadCloser, echo func(line string)) *Lines {
	l := &Lines{more: make(chan struct{}), done: make(chan struct{}), echo: echo}
	go func() {
		defer r.Close()
		sc := bufio.NewScanner(r)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		for sc.Scan() {
			l.add(sc.Text())
		}
		l.mu.Lock()
		l.eof = true
		close(l.more)
		l.mu.Unlock()
		close(l.done)
	}()
	return l
}

func (l *Lines) add(line string) {
	if l.echo != nil {
		l.echo(line)
	}
	l.mu.Lock()
	l.lines = append(l.lines, line)
	close(l.more)
	l.more = make(chan struct{})
	l.mu.Unlock()
}

// String returns the output so far, one line after another.
func (l *Lines) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.lines) == 0 {
		return ""
	}
	return strings.Join(l.lines, "\n") + "\n"
}

// Contains reports whether a line so far contains s.
func (l *Lines) Contains(s string) bool {
	return strings.Contains(l.String(), s)
}

// ErrEOF is Wait's error when the output ended without a matching line.
var ErrEOF = errors.New("the output ended")

// Wait returns the first line, from the start of the output, that match
// accepts. It fails with ErrEOF when the output ends first and with ctx's
// error when ctx ends first.
func (l *Lines) Wait(ctx context.Context, match func(line string) bool) (string, error) {
	seen := 0
	for {
		l.mu.Lock()
		lines, eof, more := l.lines[seen:], l.eof, l.more
		l.mu.Unlock()
		for _, line := range lines {
			if match(line) {
				return line, nil
			}
		}
		seen += len(lines)
		if eof {
			return "", ErrEOF
		}
		select {
		case <-more:
		case <-ctx.Done():
			return "", ctx.Err()
		}
	}
}

// Done is closed when the output has ended: the process and every child
// that shared its output have exited.
func (l *Lines) Done() <-chan struct{} { return l.done }

// Options tune Start.
type Options struct {
	// Args are gateway flags, after the listener flags Start sets:
	// --http-port and --admin-port (free ports), --https-port=0 and
	// --bind=127.0.0.1.
	Args []string
	// Echo, if not nil, receives every line of the gateway's output as it
	// is written.
	Echo func(line string)
	// Timeout bounds the wait for "gateway started"; default 30 s.
	Timeout time.Duration
}

// Gateway is a gateway process that has started.
type Gateway struct {
	// HTTP and Admin are the base URLs of the HTTP and admin listeners,
	// e.g. "http://127.0.0.1:43127".
	HTTP, Admin string
	// Log is the gateway's output (stdout and stderr, in order).
	Log *Lines

	cmd    *exec.Cmd
	exited chan struct{}
	err    error // cmd.Wait's, once exited is closed
}

// errPortTaken is an attempt that lost a port to someone else.
var errPortTaken = errors.New("a port was taken before the gateway bound it")

// Start runs exe and returns once it has logged "gateway started". ctx
// bounds the start only; Stop ends the process.
func Start(ctx context.Context, exe string, opts Options) (*Gateway, error) {
	if opts.Timeout <= 0 {
		opts.Timeout = 30 * time.Second
	}
	ctx, cancel := context.WithTimeout(ctx, opts.Timeout)
	defer cancel()
	for attempt := 1; ; attempt++ {
		g, err := start(ctx, exe, opts)
		if !errors.Is(err, errPortTaken) || attempt == 3 {
			return g, err
		}
	}
}

func start(ctx context.Context, exe string, opts Options) (*Gateway, error) {
	ports, err := pickPorts(2)
	if err != nil {
		return nil, err
	}
	args := append([]string{
		"--http-port=" + strconv.Itoa(ports[0]), "--https-port=0",
		"--admin-port=" + strconv.Itoa(ports[1]), "--bind=127.0.0.1",
	}, opts.Args...)
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(exe, args...)
	cmd.Stdout, cmd.Stderr = w, w // one stream, so lines keep their order
	err = cmd.Start()
	w.Close()
	if err != nil {
		r.Close()
		return nil, fmt.Errorf("start %s: %w", exe, err)
	}
	g := &Gateway{
		HTTP:  "http://127.0.0.1:" + strconv.Itoa(ports[0]),
		Admin: "http://127.0.0.1:" + strconv.Itoa(ports[1]),
		Log:   Collect(r, opts.Echo), cmd: cmd, exited: make(chan struct{}),
	}
	go func() {
		g.err = cmd.Wait()
		close(g.exited)
	}()
	_, err = g.Log.Wait(ctx, func(line string) bool { return strings.Contains(line, "gateway started") })
	switch {
	case err == nil:
		return g, nil
	case errors.Is(err, ErrEOF):
		<-g.exited
		if g.Log.Contains("address already in use") {
			return nil, errPortTaken
		}
		return nil, fmt.Errorf("the gateway exited (%v) before it started; its output:\n%s", g.err, g.Log)
	default:
		g.kill()
		return nil, fmt.Errorf("the gateway did not log \"gateway started\" (%w); its output:\n%s", err, g.Log)
	}
}

// pickPorts is freePorts; a test replaces it to hand out a taken port.
var pickPorts = freePorts

// freePorts returns n distinct ports that were free on 127.0.0.1 a moment ago.
func freePorts(n int) ([]int, error) {
	var ports []int
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free port: %w", err)
		}
		defer ln.Close()
		ports = append(ports, ln.Addr().(*net.TCPAddr).Port)
	}
	return ports, nil
}

// Stop sends SIGTERM and waits for the gateway to exit, at most timeout,
// then kills it. It returns the exit error: nil after a clean shutdown.
// Calling it again returns the same.
func (g *Gateway) Stop(timeout time.Duration) error {
	select {
	case <-g.exited:
		return g.err
	default:
	}
	_ = g.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-g.exited:
		return g.err
	case <-time.After(timeout):
		g.kill()
		return fmt.Errorf("the gateway did not exit within %v of SIGTERM; killed", timeout)
	}
}

// Exited is closed once the gateway process has exited.
func (g *Gateway) Exited() <-chan struct{} { return g.exited }

func (g *Gateway) kill() {
	_ = g.cmd.Process.Kill()
	<-g.exited
}
