package gateway

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/internal/redistest"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// sharedLimit is the API tier of the replica tests: 300 requests per 3 s,
// one every 10 ms after a burst of 300.
const (
	sharedCount  = 300
	sharedWindow = 3 * time.Second
	replicas     = 3
	// batch is --throttle-batch's default for 300: 1% of the limit.
	batch = 3
)

// throttledRoutes is one open API limited by its API tier to sharedCount
// per sharedWindow, on backend.
func throttledRoutes(backend string) *spec.Gateway {
	g := routesFor(backend)
	g.APIs[0].ThrottlingTier = "300Per3Sec"
	g.Policies = &spec.Policies{
		Resource: []spec.Policy{{Name: "300Per3Sec", Count: sharedCount, UnitTime: int64(sharedWindow / time.Second), TimeUnit: "sec"}},
		// Open APIs fall under Unauthenticated per client IP: make it
		// loose, so that only the API tier counts here.
		Subscription: []spec.Policy{{Name: "Unauthenticated", Count: 1 << 30, UnitTime: 1, TimeUnit: "sec"}},
	}
	return g
}

// tally counts a load's answers by status; -1 is a request that failed.
type tally struct {
	mu    sync.Mutex
	codes map[int]int
}

func (t *tally) add(code int) {
	t.mu.Lock()
	t.codes[code]++
	t.mu.Unlock()
}

func (t *tally) get() map[int]int {
	t.mu.Lock()
	defer t.mu.Unlock()
	out := make(map[int]int, len(t.codes))
	for k, v := range t.codes {
		out[k] = v
	}
	return out
}

// load sends requests to urls from 4 workers per URL until stop is
// closed, or at most max requests in all.
func load(urls []string, stop <-chan struct{}, max int64) *tally {
	t := &tally{codes: map[int]int{}}
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 8}, Timeout: 10 * time.Second}
	var sent atomic.Int64
	var wg sync.WaitGroup
	for _, u := range urls {
		for range 4 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for sent.Add(1) <= max {
					select {
					case <-stop:
						return
					default:
					}
					resp, err := client.Get(u)
					if err != nil {
						t.add(-1)
						continue
					}
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
					t.add(resp.StatusCode)
				}
			}()
		}
	}
	wg.Wait()
	client.CloseIdleConnections()
	return t
}

// startReplicas starts n gateways in this process sharing the Redis at url.
func startReplicas(t *testing.T, n int, backend, url string) ([]*Server, []*logBuffer) {
	t.Helper()
	var gws []*Server
	var logs []*logBuffer
	for range n {
		// A loaded test machine must not make a refill miss its bound.
		cfg := testConfig(t, "--throttle-redis-url="+url, fmt.Sprintf("--throttle-replicas=%d", n), "--throttle-redis-wait=5s")
		cfg.HTTPSAddr = ""
		gw, lb := startTest(t, throttledRoutes(backend), cfg)
		gws, logs = append(gws, gw), append(logs, lb)
	}
	return gws, logs
}

// mode is the throttling mode gw's /status shows.
func mode(t *testing.T, gw *Server) string {
	t.Helper()
	resp, err := http.Get("http://" + gw.AdminAddr.String() + "/status")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var st struct {
		Throttling struct {
			Mode string `json:"mode"`
		} `json:"throttling"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		t.Fatal(err)
	}
	return st.Throttling.Mode
}

// TestThreeReplicasShareOneLimitThroughRedis protects the shared limit:
// three gateways on one real redis-server, loaded concurrently for about
// one window, admit together what one exact counter would (the burst of
// 300 plus one request per 10 ms of the run) within ±5%, and never more
// than that plus batch × gateways (redis.go's overshoot bound).
func TestThreeReplicasShareOneLimitThroughRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: loads three gateways for seconds")
	}
	rs := redistest.Start(t)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer be.Close()
	gws, logs := startReplicas(t, replicas, be.URL, rs.URL())
	defer func() {
		if t.Failed() {
			for i, lb := range logs {
				t.Logf("gateway %d's log:\n%s", i, lb)
			}
		}
	}()
	var urls []string
	for _, gw := range gws {
		urls = append(urls, "http://"+gw.HTTPAddr.String()+"/petstore/v1/pet/1")
	}
	stop := make(chan struct{})
	timer := time.AfterFunc(sharedWindow, func() { close(stop) })
	defer timer.Stop()
	start := time.Now()
	codes := load(urls, stop, 50_000).get()
	elapsed := time.Since(start)
	// One exact GCRA for the cluster admits the burst and one request per
	// emission interval; elapsed is measured around the whole load, so
	// it is an upper bound of Redis's own.
	iv := sharedWindow / sharedCount
	exact := sharedCount + int(elapsed/iv)
	admitted := codes[200]
	t.Logf("3 gateways, %v: %d admitted, %d refused, %v; exact counter: %d; batch %d", elapsed.Round(time.Millisecond), admitted, codes[429], codes, exact, batch)
	if len(codes) != 2 || codes[429] == 0 {
		t.Fatalf("answers %v: want only 200 and 429, with the load above the limit", codes)
	}
	if d := float64(admitted-exact) / float64(exact); d < -0.05 || d > 0.05 {
		t.Errorf("admitted %d, exact counter %d: off by %.1f%%, want within ±5%%", admitted, exact, 100*d)
	}
	if bound := exact + batch*replicas; admitted > bound {
		t.Errorf("admitted %d, above the bound exact + batch × gateways = %d", admitted, bound)
	}
	for i, gw := range gws {
		if m := mode(t, gw); m != "redis" {
			t.Errorf("gateway %d: mode %q, want redis", i, m)
		}
	}
}

// TestReplicasKeepServingWhenRedisDiesAndShareAgainWhenBack protects the
// fallback: with Redis killed mid-load no request fails, each gateway
// counts alone with its share of the limit (300/3 per 3 s), /status says
// so, the switch is logged once; with Redis back they count together again.
func TestReplicasKeepServingWhenRedisDiesAndShareAgainWhenBack(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: loads three gateways for seconds")
	}
	rs := redistest.Start(t)
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { io.WriteString(w, "ok") }))
	defer be.Close()
	gws, logs := startReplicas(t, replicas, be.URL, rs.URL())
	var urls []string
	for _, gw := range gws {
		urls = append(urls, "http://"+gw.HTTPAddr.String()+"/petstore/v1/pet/1")
	}
	// Shared first: a few requests, all through Redis.
	if codes := load(urls, nil, 30).get(); codes[200] != 30 {
		t.Fatalf("before the kill: %v, want 30×200", codes)
	}

	rs.Stop()
	// Each gateway now has 100 per 3 s of its own: a burst of 100 each
	// (minus what its local counter spent meanwhile: nothing yet).
	start := time.Now()
	codes := load(urls, nil, 3*250).get()
	elapsed := time.Since(start)
	t.Logf("Redis down, 750 requests in %v: %v", elapsed.Round(time.Millisecond), codes)
	if len(codes) != 2 || codes[429] == 0 {
		t.Fatalf("Redis down: %v, want only 200 and 429 (no failed request, and still a limit)", codes)
	}
	// Each local share admits its burst of 100 and one per 30 ms, after
	// the tokens of its last batch from Redis.
	share := sharedCount / replicas
	low, high := replicas*share, replicas*(share+int(elapsed/(sharedWindow/time.Duration(share)))+1+batch)
	if codes[200] < low || codes[200] > high {
		t.Errorf("Redis down: %d admitted, want the local shares' bursts and refills: %d to %d", codes[200], low, high)
	}
	for i, gw := range gws {
		if m := mode(t, gw); m != "redis-unreachable" {
			t.Errorf("gateway %d: mode %q, want redis-unreachable", i, m)
		}
	}

	rs.Restart(t)
	// A gateway asks Redis again once its retry interval (1 s) is over:
	// keep a light load on until every /status says redis.
	deadline := time.Now().Add(15 * time.Second)
	for {
		back := 0
		for _, gw := range gws {
			if mode(t, gw) == "redis" {
				back++
			}
		}
		if back == len(gws) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("Redis restarted 15 s ago: %d of %d gateways count through it", back, len(gws))
		}
		if c := load(urls, nil, 3).get(); c[-1] != 0 || c[500] != 0 || c[502] != 0 {
			t.Fatalf("while Redis comes back: %v", c)
		}
	}
	for i, lb := range logs {
		s := lb.String()
		if n := countLines(s, "Redis does not answer"); n != 1 {
			t.Errorf("gateway %d logged the switch to local counting %d times, want once:\n%s", i, n, s)
		}
		if n := countLines(s, "Redis answers again"); n != 1 {
			t.Errorf("gateway %d logged the return to shared counting %d times, want once:\n%s", i, n, s)
		}
	}
}

func countLines(s, word string) int {
	n := 0
	for i := 0; i+len(word) <= len(s); i++ {
		if s[i:i+len(word)] == word {
			n++
		}
	}
	return n
}
