package proxy

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"

	"github.com/micro-gw/micro-gw/pkg/gateway/auth"
	"github.com/micro-gw/micro-gw/pkg/gateway/auth/jwt"
	"github.com/micro-gw/micro-gw/pkg/gateway/throttle"
	"github.com/micro-gw/micro-gw/pkg/spec"
	"github.com/valyala/fasthttp"
)

// The throttling tests send real requests to a started proxy whose limiter
// runs on an injected clock: time moves only when the test says, so every
// count and header value is exact.

// thrClock is the limiter's injected clock.
type thrClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *thrClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *thrClock) advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// thrPolicies are the policies of these tests: small limits per minute.
func thrPolicies() spec.Policies {
	perMin := func(name string, n int64) spec.Policy {
		return spec.Policy{Name: name, Count: n, UnitTime: 1, TimeUnit: "min"}
	}
	return spec.Policies{
		Resource:     []spec.Policy{perMin("2PerMin", 2), perMin("3PerMin", 3), perMin("5PerMin", 5)},
		Application:  []spec.Policy{perMin("App3", 3)},
		Subscription: []spec.Policy{perMin("Sub2", 2), perMin("Unauthenticated", 4), perMin("Big", 1000)},
	}
}

// counted is a backend counting the requests that reach it.
type counted struct {
	*httptest.Server
	hits atomic.Int64
}

func countedBackend(t *testing.T) *counted {
	c := &counted{}
	c.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.hits.Add(1)
		io.WriteString(w, "ok")
	}))
	t.Cleanup(c.Close)
	return c
}

// thrGateway starts g on a proxy whose limiter uses clk, with auth's
// verifiers v (nil: none).
func thrGateway(t *testing.T, g *spec.Gateway, clk *thrClock, v *auth.Verifiers) *gateway {
	t.Helper()
	l, err := throttle.New(throttle.Config{Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	ps, err := throttle.CompilePolicies(thrPolicies())
	if err != nil {
		t.Fatal(err)
	}
	return startGateway(t, g, Options{Throttle: l, Policies: ps, Auth: v})
}

// thrAPI is an API named title under base on backend; resources without
// security are served open.
func thrAPI(title, base, backend, tier string, res ...spec.Resource) spec.API {
	return spec.API{Title: title, Version: "1.0.0", BasePath: base, ThrottlingTier: tier,
		Production: &spec.Endpoints{Type: spec.TypeHTTP, URLs: []spec.EndpointURL{{URL: backend}}},
		Resources:  res}
}

// limitAnswer is what a test looks at in one response.
type limitAnswer struct {
	status                              int
	code                                int // the fault's code; 0 on a 200
	limit, remaining, reset, retryAfter string
}

func (a limitAnswer) String() string {
	return fmt.Sprintf("%d code=%d limit=%s remaining=%s reset=%s retry-after=%s", a.status, a.code, a.limit, a.remaining, a.reset, a.retryAfter)
}

// do sends method url with headers through c (nil: a new client) and
// reads the answer.
func do(t *testing.T, c *http.Client, method, url string, headers ...string) (limitAnswer, http.Header) {
	t.Helper()
	req := newReq(t, method, url, nil)
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	if c == nil {
		c = &http.Client{}
	}
	resp, body := get(t, c, req)
	a := limitAnswer{status: resp.StatusCode, limit: resp.Header.Get("RateLimit-Limit"), remaining: resp.Header.Get("RateLimit-Remaining"),
		reset: resp.Header.Get("RateLimit-Reset"), retryAfter: resp.Header.Get("Retry-After")}
	if resp.StatusCode != 200 {
		var f struct {
			Fault struct {
				Code int `json:"code"`
			} `json:"fault"`
		}
		if err := json.Unmarshal([]byte(body), &f); err != nil {
			t.Fatalf("%s %s: %d with body %q, not a fault: %v", method, url, resp.StatusCode, body, err)
		}
		a.code = f.Fault.Code
	}
	return a, resp.Header
}

func expect(t *testing.T, what string, got limitAnswer, want limitAnswer) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %v, want %v", what, got, want)
	}
}

func ok(limit, remaining, reset int) limitAnswer {
	return limitAnswer{status: 200, limit: strconv.Itoa(limit), remaining: strconv.Itoa(remaining), reset: strconv.Itoa(reset)}
}

func refused(code, limit, reset, retryAfter int) limitAnswer {
	return limitAnswer{status: 429, code: code, limit: strconv.Itoa(limit), remaining: "0", reset: strconv.Itoa(reset), retryAfter: strconv.Itoa(retryAfter)}
}

// openSec serves a resource open; bearerSec requires a token (micro-gw 3.x's
// default, written out: startGateway serves resources without security open).
var openSec, bearerSec = &spec.Security{Disabled: true}, spec.DefaultSecurity()

// TestResourceTierRefusesWith900802AndHeaders protects the operation's
// x-wso2-throttling-tier: 3 per minute shared by every caller, exact
// RateLimit headers on each 200, a 429 with 900802 and Retry-After that
// never reaches the backend, and one more request once a third of the
// minute has passed.
func TestResourceTierRefusesWith900802AndHeaders(t *testing.T) {
	be := countedBackend(t)
	clk := &thrClock{t: time.Unix(1_800_000_000, 0)}
	gw := thrGateway(t, &spec.Gateway{APIs: []spec.API{thrAPI("shop", "/shop", be.URL, "",
		spec.Resource{Path: "/a", Method: "GET", ThrottlingTier: "3PerMin", Security: openSec},
		spec.Resource{Path: "/b", Method: "GET", Security: openSec})}}, clk, nil)
	u := gw.url + "/shop/a"
	// The Unauthenticated tier (4 per minute per IP) is looser: the
	// resource's 3 is the tightest, so its numbers are the headers.
	for i, want := range []limitAnswer{ok(3, 2, 20), ok(3, 1, 40), ok(3, 0, 60)} {
		got, _ := do(t, nil, "GET", u)
		expect(t, fmt.Sprintf("request %d", i+1), got, want)
	}
	got, _ := do(t, nil, "GET", u)
	expect(t, "request 4", got, refused(900802, 3, 60, 20))
	if n := be.hits.Load(); n != 3 {
		t.Errorf("backend hits = %d, want 3: a refused request must not reach it", n)
	}
	clk.advance(20 * time.Second)
	got, _ = do(t, nil, "GET", u)
	expect(t, "after 20 s", got, ok(3, 0, 60))
	got, _ = do(t, nil, "GET", u)
	expect(t, "again", got, refused(900802, 3, 60, 20))
	if n := be.hits.Load(); n != 4 {
		t.Errorf("backend hits = %d, want 4", n)
	}
}

// TestAPITierSharedByResourcesWith900800 protects the API-level tier: one
// count for all the API's operations.
func TestAPITierSharedByResourcesWith900800(t *testing.T) {
	be := countedBackend(t)
	clk := &thrClock{t: time.Unix(1_800_000_000, 0)}
	gw := thrGateway(t, &spec.Gateway{APIs: []spec.API{
		thrAPI("shop", "/shop", be.URL, "3PerMin",
			spec.Resource{Path: "/a", Method: "GET", Security: openSec},
			spec.Resource{Path: "/b", Method: "GET", Security: openSec}),
		thrAPI("other", "/other", be.URL, "3PerMin", spec.Resource{Path: "/a", Method: "GET", Security: openSec}),
	}}, clk, nil)
	for i, p := range []string{"/shop/a", "/shop/b", "/shop/a"} {
		got, _ := do(t, nil, "GET", gw.url+p)
		if got.status != 200 {
			t.Fatalf("request %d to %s: %v, want 200", i+1, p, got)
		}
	}
	got, _ := do(t, nil, "GET", gw.url+"/shop/b")
	expect(t, "4th request to the API", got, refused(900800, 3, 60, 20))
	// Another API with the same tier has a count of its own.
	got, _ = do(t, nil, "GET", gw.url+"/other/a")
	expect(t, "another API", got, ok(3, 2, 20))
	if n := be.hits.Load(); n != 4 {
		t.Errorf("backend hits = %d, want 4", n)
	}
}

// TestTiersCheckedInOrderAndRefusalGivesBack protects the order resource
// (900802) before API (900800), and that a request the resource tier
// refuses does not use up the API's count.
func TestTiersCheckedInOrderAndRefusalGivesBack(t *testing.T) {
	be := countedBackend(t)
	clk := &thrClock{t: time.Unix(1_800_000_000, 0)}
	gw := thrGateway(t, &spec.Gateway{APIs: []spec.API{thrAPI("shop", "/shop", be.URL, "3PerMin",
		spec.Resource{Path: "/a", Method: "GET", ThrottlingTier: "2PerMin", Security: openSec},
		spec.Resource{Path: "/b", Method: "GET", Security: openSec})}}, clk, nil)
	a, b := gw.url+"/shop/a", gw.url+"/shop/b"
	expect(t, "a 1", first(do(t, nil, "GET", a)), ok(2, 1, 30))
	expect(t, "a 2", first(do(t, nil, "GET", a)), ok(2, 0, 60))
	// The resource tier is checked first.
	expect(t, "a 3", first(do(t, nil, "GET", a)), refused(900802, 2, 60, 30))
	expect(t, "a 4", first(do(t, nil, "GET", a)), refused(900802, 2, 60, 30))
	// The refusals gave the API's count back: one is left for /b.
	expect(t, "b 1", first(do(t, nil, "GET", b)), ok(3, 0, 60))
	expect(t, "b 2", first(do(t, nil, "GET", b)), refused(900800, 3, 60, 20))
	if n := be.hits.Load(); n != 3 {
		t.Errorf("backend hits = %d, want 3", n)
	}
}

func first(a limitAnswer, _ http.Header) limitAnswer { return a }

// clientFrom is an HTTP client whose connections come from the loopback
// address ip (any 127.x.y.z is local on Linux).
func clientFrom(ip string) *http.Client {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Transport: &http.Transport{DialContext: d.DialContext}}
}

// TestOpenRouteLimitedPerClientIPWith900804 protects micro-gw 3.x's rule
// for unauthenticated APIs: the Unauthenticated subscription tier counted
// per client address.
func TestOpenRouteLimitedPerClientIPWith900804(t *testing.T) {
	be := countedBackend(t)
	clk := &thrClock{t: time.Unix(1_800_000_000, 0)}
	gw := thrGateway(t, &spec.Gateway{APIs: []spec.API{thrAPI("shop", "/shop", be.URL, "",
		spec.Resource{Path: "/a", Method: "GET", Security: openSec},
		spec.Resource{Path: "/b", Method: "GET", Security: openSec})}}, clk, nil)
	one, two := clientFrom("127.0.0.1"), clientFrom("127.0.0.2")
	for i := range 4 {
		got, _ := do(t, one, "GET", gw.url+"/shop/"+"ab"[i%2:i%2+1])
		expect(t, fmt.Sprintf("127.0.0.1 request %d", i+1), got, ok(4, 3-i, 15*(i+1)))
	}
	got, _ := do(t, one, "GET", gw.url+"/shop/a")
	expect(t, "127.0.0.1 request 5", got, refused(900804, 4, 60, 15))
	got, _ = do(t, two, "GET", gw.url+"/shop/a")
	expect(t, "127.0.0.2 request 1", got, ok(4, 3, 15))
	if n := be.hits.Load(); n != 5 {
		t.Errorf("backend hits = %d, want 5", n)
	}
}

// issuer mints tokens the proxy's real JWT verifier accepts (HS256 with a
// shared secret in a file, as --jwt-issuers-file configures it).
type issuer struct {
	secret []byte
	name   string
}

func newIssuer(t *testing.T) (*issuer, *auth.Verifiers) {
	t.Helper()
	is := &issuer{secret: []byte("throttle-test-secret-0123456789abcdef"), name: "https://idp.test/token"}
	file := filepath.Join(t.TempDir(), "hs.secret")
	if err := os.WriteFile(file, is.secret, 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	v, err := jwt.New(ctx, jwt.Options{Issuers: []jwt.Issuer{{Issuer: is.name, HMACSecretFile: file}}})
	if err != nil {
		t.Fatal(err)
	}
	return is, &auth.Verifiers{Tokens: v}
}

// token is a bearer header value for application app of tier appTier,
// subscribed to each API title in subs with its tier.
func (is *issuer) token(t *testing.T, app, appTier string, subs map[string]string) string {
	t.Helper()
	var list []any
	for api, tier := range subs {
		list = append(list, map[string]any{"name": api, "version": "1.0.0", "context": "/" + api, "subscriptionTier": tier})
	}
	c := jwtlib.MapClaims{"iss": is.name, "sub": "user-of-" + app, "exp": time.Now().Add(time.Hour).Unix(), "jti": app + appTier + fmt.Sprint(len(subs)),
		"application": map[string]any{"id": app, "name": app, "owner": "o", "tier": appTier}, "subscribedAPIs": list}
	s, err := jwtlib.NewWithClaims(jwtlib.SigningMethodHS256, c).SignedString(is.secret)
	if err != nil {
		t.Fatal(err)
	}
	return "Bearer " + s
}

// TestSubscriptionTierPerApplicationPerAPIWith900804 protects the tier
// from the token's subscribedAPIs[].subscriptionTier: counted per
// application and per API.
func TestSubscriptionTierPerApplicationPerAPIWith900804(t *testing.T) {
	be := countedBackend(t)
	clk := &thrClock{t: time.Unix(1_800_000_000, 0)}
	is, v := newIssuer(t)
	gw := thrGateway(t, &spec.Gateway{APIs: []spec.API{
		thrAPI("shop", "/shop", be.URL, "", spec.Resource{Path: "/a", Method: "GET", Security: bearerSec}, spec.Resource{Path: "/b", Method: "GET", Security: bearerSec}),
		thrAPI("other", "/other", be.URL, "", spec.Resource{Path: "/a", Method: "GET", Security: bearerSec}),
	}}, clk, v)
	alice := is.token(t, "alice", "Unlimited", map[string]string{"shop": "Sub2", "other": "Sub2"})
	bob := is.token(t, "bob", "Unlimited", map[string]string{"shop": "Sub2"})
	expect(t, "alice 1", first(do(t, nil, "GET", gw.url+"/shop/a", "Authorization", alice)), ok(2, 1, 30))
	expect(t, "alice 2", first(do(t, nil, "GET", gw.url+"/shop/b", "Authorization", alice)), ok(2, 0, 60))
	expect(t, "alice 3", first(do(t, nil, "GET", gw.url+"/shop/a", "Authorization", alice)), refused(900804, 2, 60, 30))
	expect(t, "alice, other API", first(do(t, nil, "GET", gw.url+"/other/a", "Authorization", alice)), ok(2, 1, 30))
	expect(t, "bob", first(do(t, nil, "GET", gw.url+"/shop/a", "Authorization", bob)), ok(2, 1, 30))
	if n := be.hits.Load(); n != 4 {
		t.Errorf("backend hits = %d, want 4", n)
	}
}

// TestApplicationTierAcrossAPIsWith900803 protects the tier from the
// token's application.tier: one count per application over all APIs,
// checked after the subscription tier.
func TestApplicationTierAcrossAPIsWith900803(t *testing.T) {
	be := countedBackend(t)
	clk := &thrClock{t: time.Unix(1_800_000_000, 0)}
	is, v := newIssuer(t)
	gw := thrGateway(t, &spec.Gateway{APIs: []spec.API{
		thrAPI("shop", "/shop", be.URL, "", spec.Resource{Path: "/a", Method: "GET", Security: bearerSec}),
		thrAPI("other", "/other", be.URL, "", spec.Resource{Path: "/a", Method: "GET", Security: bearerSec}),
	}}, clk, v)
	alice := is.token(t, "alice", "App3", map[string]string{"shop": "Sub2", "other": "Big"})
	bob := is.token(t, "bob", "App3", map[string]string{"shop": "Big"})
	expect(t, "alice shop 1", first(do(t, nil, "GET", gw.url+"/shop/a", "Authorization", alice)), ok(2, 1, 30))
	expect(t, "alice other 1", first(do(t, nil, "GET", gw.url+"/other/a", "Authorization", alice)), ok(3, 1, 40))
	expect(t, "alice shop 2", first(do(t, nil, "GET", gw.url+"/shop/a", "Authorization", alice)), ok(2, 0, 60))
	// The subscription (2 per minute on shop) is checked first.
	expect(t, "alice shop 3", first(do(t, nil, "GET", gw.url+"/shop/a", "Authorization", alice)), refused(900804, 2, 60, 30))
	// other's subscription (1000) admits; the application's 3 are spent.
	expect(t, "alice other 2", first(do(t, nil, "GET", gw.url+"/other/a", "Authorization", alice)), refused(900803, 3, 60, 20))
	expect(t, "bob shop 1", first(do(t, nil, "GET", gw.url+"/shop/a", "Authorization", bob)), ok(3, 2, 20))
	if n := be.hits.Load(); n != 4 {
		t.Errorf("backend hits = %d, want 4", n)
	}
	// Refused requests took nothing from the application's count: after
	// 20 s alice has exactly one again.
	clk.advance(20 * time.Second)
	expect(t, "alice other 3", first(do(t, nil, "GET", gw.url+"/other/a", "Authorization", alice)), ok(3, 0, 60))
}

// TestCORSHeadersOnThrottled429 protects a browser's view of a 429: the
// API's CORS headers are on it.
func TestCORSHeadersOnThrottled429(t *testing.T) {
	be := countedBackend(t)
	clk := &thrClock{t: time.Unix(1_800_000_000, 0)}
	api := thrAPI("shop", "/shop", be.URL, "", spec.Resource{Path: "/a", Method: "GET", ThrottlingTier: "2PerMin", Security: openSec})
	api.CORS = &spec.CORS{Enabled: true, AllowOrigins: []string{"https://app.example"}}
	gw := thrGateway(t, &spec.Gateway{APIs: []spec.API{api}}, clk, nil)
	for range 2 {
		do(t, nil, "GET", gw.url+"/shop/a", "Origin", "https://app.example")
	}
	got, h := do(t, nil, "GET", gw.url+"/shop/a", "Origin", "https://app.example")
	expect(t, "3rd request", got, refused(900802, 2, 60, 30))
	if o := h.Get("Access-Control-Allow-Origin"); o != "https://app.example" {
		t.Errorf("429 Access-Control-Allow-Origin = %q, want https://app.example", o)
	}
}

// TestConcurrentBurstAdmitsExactlyTheLimit protects exactness on one
// gateway: 200 concurrent requests against 10 per second, at one instant
// of the injected clock, admit exactly 10; the backend sees exactly those.
func TestConcurrentBurstAdmitsExactlyTheLimit(t *testing.T) {
	be := countedBackend(t)
	clk := &thrClock{t: time.Unix(1_800_000_000, 0)}
	l, err := throttle.New(throttle.Config{Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := throttle.CompilePolicies(spec.Policies{Resource: []spec.Policy{{Name: "10PerSec", Count: 10, UnitTime: 1, TimeUnit: "sec"}}})
	if err != nil {
		t.Fatal(err)
	}
	gw := startGateway(t, &spec.Gateway{APIs: []spec.API{thrAPI("shop", "/shop", be.URL, "10PerSec",
		spec.Resource{Path: "/a", Method: "GET", Security: openSec})}}, Options{Throttle: l, Policies: ps})
	burst := func() map[int]int {
		var mu sync.Mutex
		codes := map[int]int{}
		var wg sync.WaitGroup
		for range 200 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				resp, err := http.Get(gw.url + "/shop/a")
				mu.Lock()
				defer mu.Unlock()
				if err != nil {
					codes[-1]++
					return
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				codes[resp.StatusCode]++
			}()
		}
		wg.Wait()
		return codes
	}
	if codes := burst(); codes[200] != 10 || codes[429] != 190 {
		t.Errorf("first second: %v, want exactly 10×200 and 190×429", codes)
	}
	clk.advance(time.Second)
	if codes := burst(); codes[200] != 10 || codes[429] != 190 {
		t.Errorf("next second: %v, want exactly 10×200 and 190×429", codes)
	}
	if n := be.hits.Load(); n != 20 {
		t.Errorf("backend hits = %d, want 20", n)
	}
}

// TestThrottledRouteAllocatesNothing protects the hot path: a request on a
// limited route, counted and refused with its headers, allocates nothing
// (the caller the plan counts for stays on the stack).
func TestThrottledRouteAllocatesNothing(t *testing.T) {
	clk := &thrClock{t: time.Unix(1_800_000_000, 0)}
	l, err := throttle.New(throttle.Config{Clock: clk.now})
	if err != nil {
		t.Fatal(err)
	}
	ps, err := throttle.CompilePolicies(thrPolicies())
	if err != nil {
		t.Fatal(err)
	}
	g := &spec.Gateway{APIs: []spec.API{thrAPI("shop", "/shop", "http://127.0.0.1:1", "",
		spec.Resource{Path: "/a", Method: "GET", ThrottlingTier: "2PerMin", Security: openSec})}}
	p, err := New(g, staticBind, Options{Throttle: l, Policies: ps})
	if err != nil {
		t.Fatal(err)
	}
	var ctx fasthttp.RequestCtx
	var req fasthttp.Request
	req.SetRequestURI("/shop/a")
	req.Header.SetHost("gw.test")
	ctx.Init(&req, &net.TCPAddr{IP: net.IPv4(127, 0, 0, 9), Port: 5000}, nil)
	// Two requests spend the limit (they fail at the backend, which is
	// not there); every one after is refused at the same instant.
	serve := func() {
		// The exchange rewrites the URI for the backend.
		ctx.Request.SetRequestURI("/shop/a")
		ctx.Response.Reset()
		p.Handler(&ctx)
	}
	for range 3 {
		serve()
	}
	if ctx.Response.StatusCode() != 429 {
		t.Fatalf("status %d %s (path %q %q), want 429", ctx.Response.StatusCode(), ctx.Response.Body(), ctx.Request.URI().PathOriginal(), ctx.Method())
	}
	n := testing.AllocsPerRun(200, serve)
	if ctx.Response.StatusCode() != 429 || len(ctx.Response.Header.Peek("Retry-After")) == 0 {
		t.Fatalf("status %d, Retry-After %q: want a 429 with Retry-After", ctx.Response.StatusCode(), ctx.Response.Header.Peek("Retry-After"))
	}
	if n != 0 {
		t.Errorf("a throttled request allocates %.1f times, want 0", n)
	}
}

// TestOptionalRouteCalledAnonymouslyLimitedPerClientIP protects optional
// security (x-wso2-application-security optional: true) from being a way
// around the per-address limit: a request without a credential falls
// under Unauthenticated per client IP, as on an open route.
func TestOptionalRouteCalledAnonymouslyLimitedPerClientIP(t *testing.T) {
	be := countedBackend(t)
	clk := &thrClock{t: time.Unix(1_800_000_000, 0)}
	_, v := newIssuer(t)
	optional := &spec.Security{Optional: true, Alternatives: [][]spec.Requirement{{{Scheme: "oauth", Kind: spec.KindOAuth2}}}}
	gw := thrGateway(t, &spec.Gateway{APIs: []spec.API{thrAPI("shop", "/shop", be.URL, "",
		spec.Resource{Path: "/a", Method: "GET", Security: optional})}}, clk, v)
	one := clientFrom("127.0.0.1")
	for i := range 4 {
		got, _ := do(t, one, "GET", gw.url+"/shop/a")
		expect(t, fmt.Sprintf("anonymous request %d", i+1), got, ok(4, 3-i, 15*(i+1)))
	}
	got, _ := do(t, one, "GET", gw.url+"/shop/a")
	expect(t, "anonymous request 5", got, refused(900804, 4, 60, 15))
}

// TestHTTP10AnswerOfUnknownLengthCarriesRateLimitHeaders protects the
// RateLimit headers of an answer written on the hijacked connection (an
// HTTP/1.0 client, a backend answer without Content-Length): it is written
// from the backend's response, not ctx.Response, so it must carry them
// itself, as every other answer of a limited route does.
func TestHTTP10AnswerOfUnknownLengthCarriesRateLimitHeaders(t *testing.T) {
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		io.WriteString(w, "part ")
		w.(http.Flusher).Flush() // no Content-Length: chunked to the gateway
		io.WriteString(w, "done")
	}))
	t.Cleanup(be.Close)
	clk := &thrClock{t: time.Unix(1_800_000_000, 0)}
	gw := thrGateway(t, &spec.Gateway{APIs: []spec.API{thrAPI("shop", "/shop", be.URL, "",
		spec.Resource{Path: "/a", Method: "GET", ThrottlingTier: "3PerMin", Security: openSec})}}, clk, nil)
	resp := rawRoundTrip(t, gw.url, "GET /shop/a HTTP/1.0\r\n\r\n")
	head, body, _ := strings.Cut(resp, "\r\n\r\n")
	if !strings.Contains(head, " 200 ") || body != "part done" {
		t.Fatalf("HTTP/1.0 client got %q", resp)
	}
	for _, h := range []string{"Ratelimit-Limit: 3", "Ratelimit-Remaining: 2", "X-Request-Id: "} {
		if !strings.Contains(head, h) {
			t.Errorf("the answer's head lacks %q:\n%s", h, head)
		}
	}
}
