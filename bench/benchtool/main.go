// Command benchtool is the helper program of bench/run.sh (make bench): the
// loopback backend every proxy is measured against, and the measurements a
// shell script cannot take precisely (discovery propagation, startup time,
// 1 GB streams). Everything listens on and connects to 127.0.0.1 only.
//
//	benchtool backend -name a -addr-file F   serve until killed
//	benchtool freeport                       print a free loopback port
//	benchtool gomaxprocs                     print runtime.GOMAXPROCS(0)
//	benchtool wait URL SECONDS               wait for a 200 from URL
//	benchtool get -n N URL                   N GETs, each must answer 200
//	benchtool propagate ...                  etcd put -> first request routed
//	benchtool startup -n N -- CMD ARGS...    exec -> first 200 from /health
//	benchtool stream -up|-down URL -bytes N  stream N bytes through a proxy
//	benchtool gendef -ops N -props P -chain N [-swagger] [-bare] -out FILE
//	                                         write a generated definition
//	benchtool load [-cpuprofile F] DIR       load DIR/*.json as micro-gw build does
//	benchtool issuer [-for 3h] DIR           throwaway JWT issuer: DIR/dev-issuer.pem, print a token
//	benchtool flip -etcd URL -key K -a URL -b URL [-every 100ms] [-for 5s]
//	                                         move an etcd key between two URLs under load
//
// Summaries are printed as one line of key=value pairs for the script.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"net/http"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/valyala/fasthttp"
	clientv3 "go.etcd.io/etcd/client/v3"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: benchtool backend|freeport|gomaxprocs|wait|get|propagate|startup|stream|gendef|load|issuer|flip ...")
		os.Exit(2)
	}
	cmds := map[string]func([]string) error{
		"backend": backend, "freeport": freeport, "gomaxprocs": gomaxprocs, "wait": wait,
		"get": get, "propagate": propagate, "startup": startup, "stream": stream,
		"gendef": gendef, "load": load, "issuer": issuer, "flip": flip,
	}
	run, ok := cmds[os.Args[1]]
	if !ok {
		fmt.Fprintf(os.Stderr, "benchtool: unknown command %q\n", os.Args[1])
		os.Exit(2)
	}
	if err := run(os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "benchtool %s: %v\n", os.Args[1], err)
		os.Exit(1)
	}
}

// jsonBody returns the ~1 KB JSON document every GET is answered with.
func jsonBody() []byte {
	b := []byte(`{"pets":[`)
	for i := 1; len(b) < 980; i++ {
		if i > 1 {
			b = append(b, ',')
		}
		b = fmt.Appendf(b, `{"id":%d,"name":"pet-%d","status":"available"}`, i, i)
	}
	return append(b, "]}"...)
}

// zeros is an endless reader of zero bytes.
type zeros struct{}

func (zeros) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// backend serves, on a random loopback port written to -addr-file:
// POST/PUT /upload reads the body to the end and answers {"bytes":N};
// GET /download?bytes=N answers N zero bytes with a Content-Length;
// anything else answers the 1 KB JSON body. Every answer carries
// X-Backend: <name>, which tells the discovery probe who answered.
func backend(args []string) error {
	fs := flag.NewFlagSet("backend", flag.ContinueOnError)
	name := fs.String("name", "backend", "value of the X-Backend response header")
	addrFile := fs.String("addr-file", "", "file to write host:port into once listening")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	body := jsonBody()
	srv := &fasthttp.Server{
		StreamRequestBody:     true,
		NoDefaultServerHeader: true,
		Handler: func(ctx *fasthttp.RequestCtx) {
			ctx.Response.Header.Set("X-Backend", *name)
			switch string(ctx.Path()) {
			case "/upload":
				n, err := io.Copy(io.Discard, ctx.RequestBodyStream())
				if err != nil {
					ctx.Error(err.Error(), fasthttp.StatusBadRequest)
					return
				}
				ctx.SetContentType("application/json")
				ctx.SetBodyString(fmt.Sprintf(`{"bytes":%d}`, n))
			case "/download":
				n, err := strconv.Atoi(string(ctx.QueryArgs().Peek("bytes")))
				if err != nil || n < 0 {
					ctx.Error("bytes=N wanted", fasthttp.StatusBadRequest)
					return
				}
				ctx.SetContentType("application/octet-stream")
				ctx.SetBodyStream(io.LimitReader(zeros{}, int64(n)), n)
			default:
				ctx.SetContentType("application/json")
				ctx.SetBody(body)
			}
		},
	}
	if *addrFile != "" {
		if err := os.WriteFile(*addrFile, []byte(ln.Addr().String()), 0o644); err != nil {
			return err
		}
	}
	return srv.Serve(ln)
}

func freeport([]string) error {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return err
	}
	defer ln.Close()
	fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	return nil
}

func gomaxprocs([]string) error {
	fmt.Println(runtime.GOMAXPROCS(0))
	return nil
}

func wait(args []string) error {
	if len(args) != 2 {
		return errors.New("usage: wait URL SECONDS")
	}
	secs, err := strconv.ParseFloat(args[1], 64)
	if err != nil {
		return err
	}
	deadline := time.Now().Add(time.Duration(secs * float64(time.Second)))
	c := &http.Client{Timeout: time.Second}
	for {
		resp, err := c.Get(args[0])
		if err == nil {
			io.Copy(io.Discard, resp.Body) //nolint:errcheck // only the status matters
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return nil
			}
			err = fmt.Errorf("status %d", resp.StatusCode)
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("%s not ready after %ss: %w", args[0], args[1], err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func get(args []string) error {
	fs := flag.NewFlagSet("get", flag.ContinueOnError)
	n := fs.Int("n", 1, "number of requests")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return errors.New("usage: get -n N URL")
	}
	c := &http.Client{Timeout: 5 * time.Second}
	for range *n {
		resp, err := c.Get(fs.Arg(0))
		if err != nil {
			return err
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // only the status matters
		resp.Body.Close()
		if resp.StatusCode != 200 {
			return fmt.Errorf("%s: status %d", fs.Arg(0), resp.StatusCode)
		}
	}
	return nil
}

// summary prints count, median, p90, p99 (nearest rank), min and max in
// milliseconds, each key prefixed.
func summary(prefix string, d []time.Duration) string {
	s := slices.Clone(d)
	slices.Sort(s)
	rank := func(p float64) time.Duration {
		return s[max(0, int(math.Ceil(p*float64(len(s))))-1)]
	}
	ms := func(d time.Duration) string { return strconv.FormatFloat(float64(d)/1e6, 'f', 2, 64) }
	return fmt.Sprintf("%sn=%d %smedian_ms=%s %sp90_ms=%s %sp99_ms=%s %smin_ms=%s %smax_ms=%s",
		prefix, len(s), prefix, ms(rank(0.5)), prefix, ms(rank(0.9)), prefix, ms(rank(0.99)),
		prefix, ms(s[0]), prefix, ms(s[len(s)-1]))
}

// propagate alternates an etcd key between two backends and measures, for
// each change, the time from just before the Put to the first response
// through the gateway that comes from the new backend (X-Backend header).
// The gateway is polled back to back on one keep-alive connection.
func propagate(args []string) error {
	fs := flag.NewFlagSet("propagate", flag.ContinueOnError)
	etcdURL := fs.String("etcd", "", "etcd client URL")
	key := fs.String("key", "", "etcd key of the endpoint")
	gw := fs.String("url", "", "gateway URL routed to the key's endpoint")
	a := fs.String("a", "", "first backend as name=URL")
	b := fs.String("b", "", "second backend as name=URL")
	n := fs.Int("n", 200, "number of changes")
	if err := fs.Parse(args); err != nil {
		return err
	}
	var names, urls [2]string
	for i, v := range []string{*a, *b} {
		name, u, ok := strings.Cut(v, "=")
		if !ok {
			return fmt.Errorf("-a/-b %q: want name=URL", v)
		}
		names[i], urls[i] = name, u
	}
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{*etcdURL}, DialTimeout: 5 * time.Second})
	if err != nil {
		return err
	}
	defer cli.Close()
	c := &http.Client{Timeout: 2 * time.Second}
	who := func() (string, error) {
		resp, err := c.Get(*gw)
		if err != nil {
			return "", err
		}
		io.Copy(io.Discard, resp.Body) //nolint:errcheck // only the header matters
		resp.Body.Close()
		return resp.Header.Get("X-Backend"), nil
	}
	put := func(u string) (time.Duration, error) {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		t := time.Now()
		_, err := cli.Put(ctx, *key, u)
		return time.Since(t), err
	}
	seen := func(name string, since time.Time) (time.Duration, error) {
		for {
			got, err := who()
			if err == nil && got == name {
				return time.Since(since), nil
			}
			if time.Since(since) > 10*time.Second {
				return 0, fmt.Errorf("backend %s not seen through %s 10s after the put (last: %q, %v)", name, *gw, got, err)
			}
		}
	}
	// Start from a known state: the key on backend a, seen through the gateway.
	if _, err := put(urls[0]); err != nil {
		return err
	}
	if _, err := seen(names[0], time.Now()); err != nil {
		return err
	}
	var lat, puts []time.Duration
	for i := range *n {
		next := (i + 1) % 2
		t := time.Now()
		pd, err := put(urls[next])
		if err != nil {
			return err
		}
		d, err := seen(names[next], t)
		if err != nil {
			return err
		}
		lat, puts = append(lat, d), append(puts, pd)
	}
	fmt.Println(summary("", lat), summary("put_", puts))
	return nil
}

// startup execs the command -n times; "{port}" in its arguments is replaced
// by a free port each time, and the time from exec to the first 200 from
// http://127.0.0.1:{port}/health is recorded. Each process is then stopped
// with SIGTERM.
func startup(args []string) error {
	fs := flag.NewFlagSet("startup", flag.ContinueOnError)
	n := fs.Int("n", 20, "number of starts")
	path := fs.String("path", "/health", "path polled for a 200")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() == 0 {
		return errors.New("usage: startup -n N -- CMD ARGS... ({port} is replaced)")
	}
	var ds []time.Duration
	for range *n {
		d, err := startOnce(fs.Args(), *path)
		if err != nil {
			return err
		}
		ds = append(ds, d)
	}
	fmt.Println(summary("", ds))
	return nil
}

func startOnce(argv []string, path string) (time.Duration, error) {
	ln, err := net.Listen("tcp4", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
	ln.Close()
	args := make([]string, len(argv))
	for i, a := range argv {
		args[i] = strings.ReplaceAll(a, "{port}", port)
	}
	url := "http://127.0.0.1:" + port + path
	c := &http.Client{Timeout: time.Second, Transport: &http.Transport{DisableKeepAlives: true}}
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Stderr = os.Stderr
	t := time.Now()
	if err := cmd.Start(); err != nil {
		return 0, err
	}
	defer func() {
		cmd.Process.Signal(syscall.SIGTERM) //nolint:errcheck // it may have exited
		done := make(chan struct{})
		go func() { cmd.Wait(); close(done) }() //nolint:errcheck // exit status of a stopped process
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			cmd.Process.Kill() //nolint:errcheck // last resort
			<-done
		}
	}()
	for {
		resp, err := c.Get(url)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == 200 {
				return time.Since(t), nil
			}
		}
		if time.Since(t) > 10*time.Second {
			return 0, fmt.Errorf("%s: no 200 from %s within 10s (%v)", args[0], url, err)
		}
		time.Sleep(200 * time.Microsecond)
	}
}

// stream sends (-up) or receives (-down) -bytes bytes through URL and checks
// that every byte arrived.
func stream(args []string) error {
	fs := flag.NewFlagSet("stream", flag.ContinueOnError)
	up := fs.String("up", "", "URL to POST the bytes to (answers {\"bytes\":N})")
	down := fs.String("down", "", "URL to GET the bytes from (?bytes=N is appended)")
	size := fs.Int64("bytes", 1<<30, "bytes to stream")
	if err := fs.Parse(args); err != nil {
		return err
	}
	c := &http.Client{Timeout: 10 * time.Minute}
	t := time.Now()
	var got int64
	switch {
	case *up != "":
		req, err := http.NewRequest(http.MethodPost, *up, io.LimitReader(zeros{}, *size))
		if err != nil {
			return err
		}
		req.ContentLength = *size
		req.Header.Set("Content-Type", "application/octet-stream")
		resp, err := c.Do(req)
		if err != nil {
			return err
		}
		b, err := io.ReadAll(resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 {
			return fmt.Errorf("upload: status %d: %s", resp.StatusCode, b)
		}
		if _, err := fmt.Sscanf(string(b), `{"bytes":%d}`, &got); err != nil {
			return fmt.Errorf("upload: answer %q: %w", b, err)
		}
	case *down != "":
		resp, err := c.Get(*down + "?bytes=" + strconv.FormatInt(*size, 10))
		if err != nil {
			return err
		}
		got, err = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if err != nil {
			return err
		}
		if resp.StatusCode != 200 {
			return fmt.Errorf("download: status %d", resp.StatusCode)
		}
	default:
		return errors.New("give -up URL or -down URL")
	}
	if got != *size {
		return fmt.Errorf("%d bytes arrived, want %d", got, *size)
	}
	secs := time.Since(t).Seconds()
	fmt.Printf("bytes=%d seconds=%.2f mb_per_s=%.0f\n", got, secs, float64(got)/secs/1e6)
	return nil
}
