// Command e2etool is the small helper the end-to-end shell scripts use for
// what bash does badly: loopback backends, ports and bounded polling.
//
//	e2etool freeport                        print a TCP port on 127.0.0.1 that was free a moment ago
//	e2etool backend NAME ADDRFILE [ADDR]    serve {"backend":NAME,"path":...}; write host:port to ADDRFILE
//	e2etool relay ADDRFILE TARGETFILE       hold a port, write its host:port to ADDRFILE, and relay
//	                                        connections to the host:port in TARGETFILE; refuse them
//	                                        while TARGETFILE is missing or empty
//	e2etool wait URL [SECONDS]              poll URL until it answers 200
//	e2etool waitfor URL TEXT [SECONDS]      poll URL until its body contains TEXT
//	e2etool waitlog FILE TEXT [SECONDS [PID]]  poll FILE until a line contains TEXT and print that line;
//	                                        fail at once if process PID has exited
//	e2etool until URL NAME [SECONDS]        poll URL until backend NAME answers; print the milliseconds it took
//	e2etool get URL                         print the backend name that answered URL
//	e2etool status URL                      print the HTTP status of URL
//	e2etool untilstatus URL CODE [SECONDS]  poll URL until it answers CODE; print the milliseconds it took
//	e2etool issuer DIR JTI                  make a throwaway JWT issuer: write its public key to
//	                                        DIR/dev-issuer.pem, print a PRODUCTION token with id JTI
//
// Requests carry "Authorization: Bearer $E2E_TOKEN" when E2E_TOKEN is set.
package main

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/micro-gw/micro-gw/internal/devissuer"
	"github.com/micro-gw/micro-gw/internal/loopback"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "e2etool: %v\n", err)
		os.Exit(1)
	}
}

var client = &http.Client{Timeout: 3 * time.Second}

func run(args []string) error {
	if len(args) == 0 {
		return fmt.Errorf("usage: e2etool freeport|backend|relay|wait|waitfor|waitlog|until|get|status|untilstatus|issuer ...")
	}
	seconds := func(i int) time.Duration {
		if len(args) > i {
			if n, err := strconv.Atoi(args[i]); err == nil {
				return time.Duration(n) * time.Second
			}
		}
		return 10 * time.Second
	}
	switch args[0] {
	case "freeport":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return err
		}
		defer ln.Close()
		fmt.Println(ln.Addr().(*net.TCPAddr).Port)
	case "backend":
		if len(args) < 3 {
			return fmt.Errorf("usage: e2etool backend NAME ADDRFILE [ADDR]")
		}
		addr := "127.0.0.1:0"
		if len(args) > 3 {
			addr = args[3]
		}
		ln, err := net.Listen("tcp", addr)
		if err != nil {
			return err
		}
		if err := os.WriteFile(args[2], []byte(ln.Addr().String()), 0o644); err != nil {
			return err
		}
		name := args[1]
		go func() {
			sig := make(chan os.Signal, 1)
			signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
			<-sig
			ln.Close()
		}()
		err = http.Serve(ln, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]string{"backend": name, "path": r.URL.RequestURI()})
		}))
		if err != nil && !isClosed(err) {
			return err
		}
	case "relay":
		if len(args) < 3 {
			return fmt.Errorf("usage: e2etool relay ADDRFILE TARGETFILE")
		}
		return relay(args[1], args[2])
	case "waitfor":
		if len(args) < 3 {
			return fmt.Errorf("usage: e2etool waitfor URL TEXT [SECONDS]")
		}
		deadline := time.Now().Add(seconds(3))
		var last string
		for time.Now().Before(deadline) {
			if resp, err := client.Get(args[1]); err == nil {
				b, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if last = string(b); strings.Contains(last, args[2]) {
					return nil
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		return fmt.Errorf("%s did not show %q in time; last answer:\n%s", args[1], args[2], last)
	case "waitlog":
		if len(args) < 3 {
			return fmt.Errorf("usage: e2etool waitlog FILE TEXT [SECONDS [PID]]")
		}
		pid := 0
		if len(args) > 4 {
			pid, _ = strconv.Atoi(args[4])
		}
		line, err := waitLog(args[1], args[2], seconds(3), pid)
		if err != nil {
			return err
		}
		fmt.Println(line)
	case "wait":
		deadline := time.Now().Add(seconds(2))
		for time.Now().Before(deadline) {
			if resp, err := client.Get(args[1]); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return nil
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
		return fmt.Errorf("%s did not answer 200 in time", args[1])
	case "until":
		start := time.Now()
		deadline := start.Add(seconds(3))
		for time.Now().Before(deadline) {
			if who, err := get(args[1]); err == nil && who == args[2] {
				fmt.Printf("%.1f\n", float64(time.Since(start).Microseconds())/1000)
				return nil
			}
			time.Sleep(time.Millisecond)
		}
		who, err := get(args[1])
		return fmt.Errorf("%s still answered by %q (%v), not %s", args[1], who, err, args[2])
	case "get":
		who, err := get(args[1])
		if err != nil {
			return err
		}
		fmt.Println(who)
	case "status":
		code, err := status(args[1])
		if err != nil {
			return err
		}
		fmt.Println(code)
	case "untilstatus":
		start := time.Now()
		deadline := start.Add(seconds(3))
		for time.Now().Before(deadline) {
			if code, err := status(args[1]); err == nil && strconv.Itoa(code) == args[2] {
				fmt.Printf("%.1f\n", float64(time.Since(start).Microseconds())/1000)
				return nil
			}
			time.Sleep(time.Millisecond)
		}
		code, err := status(args[1])
		return fmt.Errorf("%s still answers %d (%v), not %s", args[1], code, err, args[2])
	case "issuer":
		is, err := devissuer.New(args[1])
		if err != nil {
			return err
		}
		tok, err := is.Mint(devissuer.Token{JTI: args[2]})
		if err != nil {
			return err
		}
		fmt.Println(tok)
	default:
		return fmt.Errorf("unknown command %q", args[0])
	}
	return nil
}

// relay serves a loopback.Relay whose target follows the content of
// targetFile, until SIGTERM.
func relay(addrFile, targetFile string) error {
	r, err := loopback.NewRelay()
	if err != nil {
		return err
	}
	defer r.Close()
	if err := os.WriteFile(addrFile, []byte(r.Addr()), 0o644); err != nil {
		return err
	}
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGTERM, os.Interrupt)
	tick := time.NewTicker(5 * time.Millisecond)
	defer tick.Stop()
	current := ""
	for {
		select {
		case <-sig:
			return nil
		case <-tick.C:
		}
		b, err := os.ReadFile(targetFile)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return err
		}
		if target := strings.TrimSpace(string(b)); target != current {
			if err := r.SetTarget(target); err != nil {
				return err
			}
			current = target
		}
	}
}

// waitLog polls file until a line contains text and returns it; it fails
// after d, or as soon as process pid (when not 0) has exited.
func waitLog(file, text string, d time.Duration, pid int) (string, error) {
	deadline := time.Now().Add(d)
	for {
		b, err := os.ReadFile(file)
		if err != nil && !errors.Is(err, os.ErrNotExist) {
			return "", err
		}
		for _, line := range strings.Split(string(b), "\n") {
			if strings.Contains(line, text) {
				return line, nil
			}
		}
		if pid > 0 && syscall.Kill(pid, 0) != nil {
			return "", fmt.Errorf("process %d exited before %s showed %q", pid, file, text)
		}
		if time.Now().After(deadline) {
			return "", fmt.Errorf("%s did not show %q within %v", file, text, d)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// request is a GET of u with the token of E2E_TOKEN, if set.
func request(u string) (*http.Response, error) {
	req, err := http.NewRequest("GET", u, nil)
	if err != nil {
		return nil, err
	}
	if tok := os.Getenv("E2E_TOKEN"); tok != "" {
		req.Header.Set("Authorization", "Bearer "+tok)
	}
	return client.Do(req)
}

func status(u string) (int, error) {
	resp, err := request(u)
	if err != nil {
		return 0, err
	}
	resp.Body.Close()
	return resp.StatusCode, nil
}

func get(u string) (string, error) {
	resp, err := request(u)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	var body struct{ Backend string }
	if resp.StatusCode != 200 {
		return "", fmt.Errorf("status %s", resp.Status)
	}
	if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
		return "", err
	}
	return body.Backend, nil
}

func isClosed(err error) bool {
	return errors.Is(err, http.ErrServerClosed) || errors.Is(err, net.ErrClosed)
}
