package validate_test

import (
	"github.com/micro-gw/micro-gw/pkg/gateway/validate"

	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/valyala/fasthttp"

	"github.com/micro-gw/micro-gw/pkg/definition"
	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// petsDef is a definition with request and response validation on, read by
// the build's own loader, so that the tests validate what a build produces.
const petsDef = `openapi: 3.0.3
info: {title: pets, version: "1"}
x-wso2-basePath: /shop
x-wso2-production-endpoints: {urls: ["http://127.0.0.1:1"]}
x-wso2-disable-security: true
x-wso2-request-validation: true
x-wso2-response-validation: true
paths:
  /pets/{id}:
    parameters:
      - {name: id, in: path, required: true, schema: {type: integer}}
    post:
      parameters:
        - {name: limit, in: query, required: true, schema: {type: integer, maximum: 100}}
        - {name: kind, in: query, schema: {type: string, enum: [cat, dog]}}
        - {name: X-Trace, in: header, required: true, schema: {type: string}}
      requestBody:
        required: true
        content:
          application/json: {schema: {$ref: '#/components/schemas/Pet'}}
      responses:
        "200":
          description: ok
          content:
            application/json: {schema: {$ref: '#/components/schemas/Pet'}}
  /files/{name}.json:
    get:
      parameters:
        - {name: name, in: path, required: true, schema: {type: string, maxLength: 5}}
      responses: {"200": {description: ok}}
components:
  schemas:
    Pet:
      type: object
      required: [name]
      properties:
        name: {type: string, pattern: "^[a-z]+$"}
        age: {type: integer}
        parent: {$ref: '#/components/schemas/Pet'}
`

// maxBody is the tests' max-validated-body-bytes: small, so that oversize
// bodies stay small.
const maxBody = 256

// lockedBuffer is a log sink safe for the server's goroutines.
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

// manualClock is a clock the test moves.
type manualClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *manualClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *manualClock) add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// compile loads def with the build's loader and compiles its validators.
func compile(t testing.TB, def string, opts validate.Options) (*spec.API, []*validate.Validator) {
	t.Helper()
	api, _, err := definition.Parse("pets.yaml", []byte(def))
	if err != nil {
		t.Fatalf("the definition does not build: %v", err)
	}
	// Through JSON, as the executable reads the route table.
	data, err := json.Marshal(api)
	if err != nil {
		t.Fatal(err)
	}
	var back spec.API
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	vs, err := validate.ForAPI(&back, opts)
	if err != nil {
		t.Fatalf("validate.ForAPI: %v", err)
	}
	return &back, vs
}

// harness is a gateway-like server in front of a real backend, both on
// loopback: it validates each request with its route's validator, sends
// the very request on to the backend, and validates the answer.
type harness struct {
	gw      string
	log     *lockedBuffer
	clock   *manualClock
	streams chan bool // whether each request reached the handler streamed
}

// backend answers with the body of the X-Reply header (status
// X-Reply-Status) when there is one, else echoes the request's body, with
// the Content-Length it received in X-Got-Length.
func backend(ctx *fasthttp.RequestCtx) {
	if reply := ctx.Request.Header.Peek("X-Reply"); len(reply) > 0 {
		if s, err := strconv.Atoi(string(ctx.Request.Header.Peek("X-Reply-Status"))); err == nil {
			ctx.SetStatusCode(s)
		}
		ctx.SetContentType("application/json")
		ctx.SetBody(reply)
		return
	}
	ctx.Response.Header.Set("X-Got-Length", strconv.Itoa(ctx.Request.Header.ContentLength()))
	ctx.Response.Header.Set("X-Got-Chunked", strconv.FormatBool(bytes.Contains(ctx.Request.Header.Peek("Transfer-Encoding"), []byte("chunked"))))
	ctx.SetContentType("application/json")
	ctx.SetBody(ctx.Request.Body())
}

func serve(t *testing.T, h fasthttp.RequestHandler, stream bool) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := &fasthttp.Server{Handler: h, StreamRequestBody: stream}
	go s.Serve(ln)                     //nolint:errcheck // ends with Shutdown
	t.Cleanup(func() { s.Shutdown() }) //nolint:errcheck
	return ln.Addr().String()
}

func newHarness(t *testing.T) *harness {
	h := &harness{log: &lockedBuffer{}, clock: &manualClock{now: time.Unix(1e9, 0)}, streams: make(chan bool, 64)}
	opts := validate.Options{MaxBody: maxBody, Log: slog.New(slog.NewTextHandler(h.log, nil)), Now: h.clock.Now, LogInterval: time.Minute}
	api, vs := compile(t, petsDef, opts)
	route := func(path []byte) *validate.Validator {
		for i, r := range api.Resources {
			if bytes.HasPrefix(path, []byte("/shop"+r.Path[:strings.IndexByte(r.Path[1:], '/')+2])) {
				return vs[i]
			}
		}
		return nil
	}
	up := &fasthttp.HostClient{Addr: serve(t, backend, false), StreamResponseBody: true}
	h.gw = serve(t, func(ctx *fasthttp.RequestCtx) {
		select {
		case h.streams <- ctx.Request.IsBodyStream():
		default:
		}
		v := route(ctx.Path())
		if v == nil {
			ctx.SetStatusCode(404)
			return
		}
		if f := v.ValidateRequest(ctx); f != nil {
			answer(ctx, f)
			return
		}
		ctx.Request.Header.Del("Transfer-Encoding") // as the proxy's hop-by-hop filter does
		ctx.Request.SetHost(up.Addr)
		if err := up.Do(&ctx.Request, &ctx.Response); err != nil {
			ctx.Error(err.Error(), 502)
			return
		}
		if f := v.ValidateResponse(ctx, &ctx.Response); f != nil {
			ctx.Response.Reset()
			answer(ctx, f)
		}
	}, true)
	return h
}

func answer(ctx *fasthttp.RequestCtx, f *fault.Fault) {
	ctx.SetStatusCode(f.Status)
	ctx.SetContentType(fault.ContentType)
	ctx.SetBody(f.Body)
}

// call sends a raw HTTP/1.1 request and returns the parsed response.
func (h *harness) call(t *testing.T, raw string) *fasthttp.Response {
	t.Helper()
	c, err := net.Dial("tcp", h.gw)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.SetDeadline(time.Now().Add(10 * time.Second)); err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(c, raw); err != nil {
		t.Fatal(err)
	}
	resp := &fasthttp.Response{}
	if err := resp.Read(bufioReader(c)); err != nil {
		t.Fatalf("reading the answer to %q: %v", raw, err)
	}
	return resp
}

// post renders a request to /shop/pets/{id} with a JSON body.
func post(target, trace, contentType, body string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "POST %s HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n", target)
	if trace != "" {
		fmt.Fprintf(&b, "X-Trace: %s\r\n", trace)
	}
	fmt.Fprintf(&b, "Content-Type: %s\r\nContent-Length: %d\r\n\r\n%s", contentType, len(body), body)
	return b.String()
}

// faultOf decodes a fault body.
func faultOf(t *testing.T, resp *fasthttp.Response) (code int, desc string) {
	t.Helper()
	var f struct {
		Fault struct {
			Code        int    `json:"code"`
			Description string `json:"description"`
		} `json:"fault"`
	}
	if err := json.Unmarshal(resp.Body(), &f); err != nil {
		t.Fatalf("answer %d is not a fault: %s", resp.StatusCode(), resp.Body())
	}
	return f.Fault.Code, f.Fault.Description
}

const goodPet = `{"name":"rex","age":3,"parent":{"name":"max","age":9}}`

func TestValidRequestReachesTheBackendWithItsBodyIntact(t *testing.T) {
	h := newHarness(t)
	resp := h.call(t, post("/shop/pets/7?limit=10&kind=dog", "abc", "application/json", goodPet))
	if resp.StatusCode() != 200 || string(resp.Body()) != goodPet {
		t.Fatalf("answer %d %q; want 200 echoing %q", resp.StatusCode(), resp.Body(), goodPet)
	}
	if got := string(resp.Header.Peek("X-Got-Length")); got != strconv.Itoa(len(goodPet)) {
		t.Errorf("backend got Content-Length %s; want %d", got, len(goodPet))
	}
	if !<-h.streams {
		t.Errorf("the request body was not streamed: the test does not exercise the streamed path")
	}
}

func TestChunkedRequestIsValidatedAndForwardedWithItsLength(t *testing.T) {
	h := newHarness(t)
	half := len(goodPet) / 2
	raw := fmt.Sprintf("POST /shop/pets/7?limit=1 HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nX-Trace: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n",
		half, goodPet[:half], len(goodPet)-half, goodPet[half:])
	resp := h.call(t, raw)
	if resp.StatusCode() != 200 || string(resp.Body()) != goodPet {
		t.Fatalf("answer %d %q; want 200 echoing the whole body", resp.StatusCode(), resp.Body())
	}
	if got := string(resp.Header.Peek("X-Got-Length")); got != strconv.Itoa(len(goodPet)) {
		t.Errorf("backend got Content-Length %s; want %d", got, len(goodPet))
	}
	if got := string(resp.Header.Peek("X-Got-Chunked")); got != "false" {
		t.Errorf("backend got a chunked body after validation read it whole")
	}
}

func TestInvalidRequestsGet400NamingTheField(t *testing.T) {
	h := newHarness(t)
	for _, c := range []struct {
		name, raw, want string
	}{
		{"path parameter type", post("/shop/pets/abc?limit=1", "t", "application/json", goodPet), `path parameter "id"`},
		{"missing required query", post("/shop/pets/7", "t", "application/json", goodPet), `query parameter "limit"`},
		{"query above maximum", post("/shop/pets/7?limit=500", "t", "application/json", goodPet), `query parameter "limit": number must be at most 100`},
		{"query not in enum", post("/shop/pets/7?limit=1&kind=bird", "t", "application/json", goodPet), `query parameter "kind"`},
		{"missing required header", post("/shop/pets/7?limit=1", "", "application/json", goodPet), `header parameter "X-Trace"`},
		{"missing required property", post("/shop/pets/7?limit=1", "t", "application/json", `{"age":3}`), `property "name" is missing`},
		{"property type", post("/shop/pets/7?limit=1", "t", "application/json", `{"name":"a","age":"old"}`), `request body field "/age"`},
		{"nested recursive property", post("/shop/pets/7?limit=1", "t", "application/json", `{"name":"a","parent":{"name":"b","age":"x"}}`), `request body field "/parent/age"`},
		{"content type", post("/shop/pets/7?limit=1", "t", "text/plain", goodPet), `request body`},
		{"not JSON", post("/shop/pets/7?limit=1", "t", "application/json", `{"name":`), `request body`},
		{"empty required body", post("/shop/pets/7?limit=1", "t", "application/json", ``), `request body`},
		{"path parameter in a mixed segment", "GET /shop/files/toolongname.json HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n", `path parameter "name"`},
	} {
		t.Run(c.name, func(t *testing.T) {
			resp := h.call(t, c.raw)
			code, desc := faultOf(t, resp)
			if resp.StatusCode() != 400 || code != 900915 || !strings.Contains(desc, c.want) {
				t.Errorf("answer %d, fault %d %q; want 400, 900915 naming %q", resp.StatusCode(), code, desc, c.want)
			}
		})
	}
	if resp := h.call(t, "GET /shop/files/ab.json HTTP/1.1\r\nHost: gw\r\nConnection: close\r\n\r\n"); resp.StatusCode() != 200 {
		t.Errorf("GET /shop/files/ab.json: %d %s; want 200", resp.StatusCode(), resp.Body())
	}
}

func TestFaultDescriptionDoesNotEchoLongInput(t *testing.T) {
	h := newHarness(t)
	long := strings.Repeat("x", 1500)
	resp := h.call(t, post("/shop/pets/7?limit="+long, "t", "application/json", goodPet))
	_, desc := faultOf(t, resp)
	if resp.StatusCode() != 400 || len(desc) > validate.MaxDescription || !strings.Contains(desc, `query parameter "limit"`) {
		t.Errorf("answer %d, description of %d bytes %q; want 400 naming limit within %d bytes", resp.StatusCode(), len(desc), desc, validate.MaxDescription)
	}
}

func TestOversizeBodyGets413(t *testing.T) {
	h := newHarness(t)
	big := `{"name":"` + strings.Repeat("a", maxBody) + `"}`
	resp := h.call(t, post("/shop/pets/7?limit=1", "t", "application/json", big))
	if code, _ := faultOf(t, resp); resp.StatusCode() != 413 || code != 413 {
		t.Errorf("Content-Length above the limit: %d (%d); want 413", resp.StatusCode(), code)
	}
	raw := fmt.Sprintf("POST /shop/pets/7?limit=1 HTTP/1.1\r\nHost: gw\r\nX-Trace: t\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n%x\r\n%s\r\n%x\r\n%s\r\n0\r\n\r\n",
		maxBody/2, big[:maxBody/2], len(big)-maxBody/2, big[maxBody/2:])
	resp = h.call(t, raw)
	if resp.StatusCode() != 413 || !resp.ConnectionClose() {
		t.Errorf("chunked body above the limit: %d, close %v; want 413 and the connection closed", resp.StatusCode(), resp.ConnectionClose())
	}
}

func TestResponseValidation(t *testing.T) {
	h := newHarness(t)
	reply := func(status int, body string) *fasthttp.Response {
		raw := fmt.Sprintf("POST /shop/pets/7?limit=1 HTTP/1.1\r\nHost: gw\r\nConnection: close\r\nX-Trace: t\r\nX-Reply-Status: %d\r\nX-Reply: %s\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
			status, body, len(goodPet), goodPet)
		return h.call(t, raw)
	}
	if resp := reply(200, goodPet); resp.StatusCode() != 200 || string(resp.Body()) != goodPet {
		t.Errorf("valid response: %d %q; want it passed on intact", resp.StatusCode(), resp.Body())
	}
	if resp := reply(404, `{"anything":1}`); resp.StatusCode() != 404 {
		t.Errorf("undocumented status: %d; want it passed on", resp.StatusCode())
	}
	resp := reply(200, `{"name":"rex","age":"three"}`)
	if code, _ := faultOf(t, resp); resp.StatusCode() != 500 || code != 900916 {
		t.Fatalf("invalid response: %d (%d); want 500, 900916", resp.StatusCode(), code)
	}
	if log := h.log.String(); !strings.Contains(log, "backend response failed validation") || !strings.Contains(log, `/age`) || !strings.Contains(log, "POST /shop/pets/{id}") {
		t.Errorf("log = %q; want a warning naming the route and /age", log)
	}
	// A second failure within the interval is counted, not logged.
	reply(200, `{"age":1}`)
	if n := strings.Count(h.log.String(), "failed validation"); n != 1 {
		t.Errorf("%d warnings within the interval; want 1", n)
	}
	h.clock.add(time.Minute)
	reply(200, `{"age":1}`)
	if log := h.log.String(); strings.Count(log, "failed validation") != 2 || !strings.Contains(log, "suppressed=1") {
		t.Errorf("log = %q; want a second warning counting one suppressed", log)
	}
	big := `{"name":"` + strings.Repeat("a", maxBody) + `"}`
	if resp := reply(200, big); resp.StatusCode() != 500 {
		t.Errorf("response above the limit: %d; want 500", resp.StatusCode())
	}
}

func TestRouteWithoutValidationHasNoValidator(t *testing.T) {
	def := strings.Replace(strings.Replace(petsDef, "x-wso2-request-validation: true", "x-wso2-request-validation: false", 1), "x-wso2-response-validation: true", "x-wso2-response-validation: false", 1)
	_, vs := compile(t, def, validate.Options{MaxBody: maxBody})
	for i, v := range vs {
		if v != nil {
			t.Errorf("resource %d has a validator with validation off", i)
		}
	}
	var none *validate.Validator
	ctx := &fasthttp.RequestCtx{}
	if none.ValidateRequest(ctx) != nil || none.ValidateResponse(ctx, &ctx.Response) != nil {
		t.Errorf("a nil validator refused something")
	}
}

// BenchmarkValidateRequest measures a small JSON body's validation against
// no validation (the nil validator of a route without it).
func BenchmarkValidateRequest(b *testing.B) {
	_, vs := compile(b, petsDef, validate.Options{MaxBody: 1 << 20})
	var v *validate.Validator
	for _, x := range vs {
		if x != nil && x.ReadsBody() {
			v = x
		}
	}
	for _, c := range []struct {
		name string
		v    *validate.Validator
	}{{"off", nil}, {"on", v}} {
		b.Run(c.name, func(b *testing.B) {
			ctx := &fasthttp.RequestCtx{}
			ctx.Request.Header.SetMethod("POST")
			ctx.Request.SetRequestURI("/shop/pets/7?limit=10")
			ctx.Request.Header.Set("X-Trace", "t")
			ctx.Request.Header.SetContentType("application/json")
			ctx.Request.SetBodyString(goodPet)
			b.ReportAllocs()
			for b.Loop() {
				if f := c.v.ValidateRequest(ctx); f != nil {
					b.Fatal(string(f.Body))
				}
			}
		})
	}
}

func bufioReader(r io.Reader) *bufio.Reader { return bufio.NewReader(r) }

func TestOneValidatorServesConcurrentRequests(t *testing.T) {
	_, vs := compile(t, petsDef, validate.Options{MaxBody: maxBody})
	var v *validate.Validator
	for _, x := range vs {
		if x != nil && x.ReadsBody() {
			v = x
		}
	}
	const workers, each = 4, 25
	errs := make(chan string, workers*each)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				ctx := &fasthttp.RequestCtx{}
				ctx.Request.Header.SetMethod("POST")
				ctx.Request.SetRequestURI("/shop/pets/7?limit=10")
				ctx.Request.Header.Set("X-Trace", "t")
				ctx.Request.Header.SetContentType("application/json")
				name, valid := "abc", (w+i)%2 == 0
				if !valid {
					name = "ABC"
				}
				ctx.Request.SetBodyString(`{"name":"` + name + `"}`)
				if f := v.ValidateRequest(ctx); (f == nil) != valid {
					errs <- fmt.Sprintf("name %q: fault %v", name, f)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}
