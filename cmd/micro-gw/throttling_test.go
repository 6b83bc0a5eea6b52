package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/internal/gwproc"
)

// throttledDef is a micro-gw 3.x-style definition with
// x-wso2-throttling-tier at API level (20PerMin) and on one operation
// (10PerMin), served open; BACKEND is the backend's URL.
const throttledDef = `openapi: 3.0.0
info: {title: Throttled, version: 1.0.0}
x-wso2-basePath: /throttled/v1
x-wso2-production-endpoints:
  urls: [BACKEND]
x-wso2-throttling-tier: 20PerMin
x-wso2-disable-security: true
paths:
  /pet/{petId}:
    get:
      x-wso2-throttling-tier: 10PerMin
      parameters:
        - {name: petId, in: path, required: true, schema: {type: integer}}
      responses: {'200': {description: ok}}
  /pet:
    get:
      responses: {'200': {description: ok}}
`

// throttledPolicies is a policies.yaml in micro-gw 3.x's format with small
// limits, so that the test runs in a second.
const throttledPolicies = `resourcePolicies:
  - 20PerMin: {count: 20, unitTime: 1, timeUnit: min}
  - 10PerMin: {count: 10, unitTime: 1, timeUnit: min}
applicationPolicies:
  - 10PerMin: {count: 10, unitTime: 1, timeUnit: min}
subscriptionPolicies:
  - Unauthenticated: {count: 500, unitTime: 1, timeUnit: min}
`

// TestThrottlingSampleEnforcedByCompiledGateway protects micro-gw 3.x's
// throttling samples end to end: the definition and policies.yaml built by
// the CLI into an executable, run as its own process, enforce the
// operation tier (the 11th request in the minute gets 429 with 900802)
// and then the API tier (the 21st on the API, 900800), with the
// RateLimit headers and Retry-After, and refused requests never reach
// the backend.
func TestThrottlingSampleEnforcedByCompiledGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles a gateway")
	}
	var hits atomic.Int64
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		io.WriteString(w, "ok")
	}))
	defer be.Close()
	dir := t.TempDir()
	proj := filepath.Join(dir, "throttled")
	var out, errs bytes.Buffer
	t.Chdir(dir) // init takes a plain name in the current folder
	if code := run([]string{"init", "throttled"}, nil, &out, &errs); code != 0 {
		t.Fatalf("micro-gw init: exit %d\n%s%s", code, out.String(), errs.String())
	}
	write := func(name, data string) {
		if err := os.WriteFile(filepath.Join(proj, name), []byte(data), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write("api_definitions/throttled.yaml", strings.Replace(throttledDef, "BACKEND", be.URL+"/v1", 1))
	write("policies.yaml", throttledPolicies)
	if code := run([]string{"build", "-q", proj}, nil, &out, &errs); code != 0 {
		t.Fatalf("micro-gw build: exit %d\n%s%s", code, out.String(), errs.String())
	}
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	gw, err := gwproc.Start(ctx, filepath.Join(proj, "target", "throttled"), gwproc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer gw.Stop(10 * time.Second)

	type answer struct {
		status                              int
		code                                int
		limit, remaining, reset, retryAfter string
	}
	call := func(path string) answer {
		t.Helper()
		resp, err := http.Get(gw.HTTP + "/throttled/v1" + path)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		a := answer{status: resp.StatusCode, limit: resp.Header.Get("RateLimit-Limit"), remaining: resp.Header.Get("RateLimit-Remaining"),
			reset: resp.Header.Get("RateLimit-Reset"), retryAfter: resp.Header.Get("Retry-After")}
		if resp.StatusCode != 200 {
			var f struct {
				Fault struct{ Code int } `json:"fault"`
			}
			if err := json.Unmarshal(body, &f); err != nil {
				t.Fatalf("%s: %d %q is not a fault", path, resp.StatusCode, body)
			}
			a.code = f.Fault.Code
		}
		return a
	}
	itoa := func(n int) string { return fmt.Sprint(n) }
	// 10 per minute is one request per 6 s: request i leaves 10-i and
	// the full limit back in 6·i s. The whole run takes well under a second.
	for i := 1; i <= 10; i++ {
		want := answer{status: 200, limit: "10", remaining: itoa(10 - i), reset: itoa(6 * i)}
		if got := call("/pet/1"); got != want {
			t.Fatalf("request %d: %+v, want %+v", i, got, want)
		}
	}
	want := answer{status: 429, code: 900802, limit: "10", remaining: "0", reset: "60", retryAfter: "6"}
	if got := call("/pet/1"); got != want {
		t.Fatalf("11th request in the minute: %+v, want %+v", got, want)
	}
	// The API's 20 per minute (one per 3 s) counted the 10 admitted only.
	for i := 11; i <= 20; i++ {
		want := answer{status: 200, limit: "20", remaining: itoa(20 - i), reset: itoa(3 * i)}
		if got := call("/pet"); got != want {
			t.Fatalf("API request %d: %+v, want %+v", i, got, want)
		}
	}
	want = answer{status: 429, code: 900800, limit: "20", remaining: "0", reset: "60", retryAfter: "3"}
	if got := call("/pet"); got != want {
		t.Fatalf("21st request to the API: %+v, want %+v", got, want)
	}
	if n := hits.Load(); n != 20 {
		t.Errorf("backend hits = %d, want 20", n)
	}
}
