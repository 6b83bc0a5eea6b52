package proxy

import (
	"net/http"
	"strings"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// corsAPI is one API under /api with GET /item/{id}, DELETE /item/{key}
// and a declared OPTIONS /opt, on backend, with CORS set to c.
func corsAPI(backend string, c *spec.CORS) *spec.Gateway {
	return &spec.Gateway{APIs: []spec.API{{
		Title: "cors", BasePath: "/api", CORS: c,
		Production: &spec.Endpoints{Type: spec.TypeHTTP, URLs: []spec.EndpointURL{{URL: backend}}},
		Resources: []spec.Resource{
			{Path: "/item/{id}", Method: "GET"},
			{Path: "/item/{key}", Method: "DELETE"},
			{Path: "/opt", Method: "OPTIONS"},
		},
	}}}
}

// corsBackend answers with its own CORS header, which the gateway must
// replace when CORS is on.
func corsBackend(t *testing.T) *backend {
	return startBackend(t, "be", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Access-Control-Allow-Origin", "https://backend.example")
		w.Header().Set("X-Total", "7")
		w.Write([]byte(r.Method))
	})
}

func send(t *testing.T, method, url string, headers map[string]string) (*http.Response, string) {
	t.Helper()
	req := newReq(t, method, url, nil)
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	return get(t, nil, req)
}

// corsHeaders returns the response's Access-Control-* and Vary headers.
func corsHeaders(h http.Header) map[string]string {
	out := map[string]string{}
	for k, v := range h {
		if strings.HasPrefix(k, "Access-Control-") || k == "Vary" {
			out[k] = strings.Join(v, ",")
		}
	}
	return out
}

func sameHeaders(got, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func TestCORSPreflight(t *testing.T) {
	be := corsBackend(t)
	gw := startGateway(t, corsAPI(be.URL(), &spec.CORS{
		Enabled:          true,
		AllowOrigins:     []string{"https://app.example", "https://other.example"},
		AllowCredentials: true,
		AllowHeaders:     []string{"Authorization", "Content-Type"},
		AllowMethods:     []string{"GET", "DELETE"},
		ExposeHeaders:    []string{"X-Total"},
	}), Options{})
	allowed := map[string]string{
		"Access-Control-Allow-Origin":      "https://app.example",
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Allow-Methods":     "GET, DELETE",
		"Access-Control-Allow-Headers":     "Authorization, Content-Type",
		"Vary":                             "Origin",
	}
	refused := map[string]string{"Vary": "Origin"}
	for _, tt := range []struct {
		name, path string
		headers    map[string]string
		want       map[string]string
	}{
		{"allowed", "/api/item/1", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "DELETE", "Access-Control-Request-Headers": "content-type, authorization"}, allowed},
		{"origin case", "/api/item/1", map[string]string{"Origin": "HTTPS://APP.example", "Access-Control-Request-Method": "GET"},
			map[string]string{"Access-Control-Allow-Origin": "HTTPS://APP.example", "Access-Control-Allow-Credentials": "true", "Access-Control-Allow-Methods": "GET, DELETE", "Access-Control-Allow-Headers": "Authorization, Content-Type", "Vary": "Origin"}},
		{"declared OPTIONS path", "/api/opt", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}, allowed},
		{"origin not allowed", "/api/item/1", map[string]string{"Origin": "https://evil.example", "Access-Control-Request-Method": "GET"}, refused},
		{"method not allowed", "/api/item/1", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "PUT"}, refused},
		{"header not allowed", "/api/item/1", map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "GET", "Access-Control-Request-Headers": "X-Secret"}, refused},
	} {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := send(t, "OPTIONS", gw.url+tt.path, tt.headers)
			if resp.StatusCode != 200 || body != "" {
				t.Errorf("preflight answered %d %q, want 200 and no body", resp.StatusCode, body)
			}
			if got := corsHeaders(resp.Header); !sameHeaders(got, tt.want) {
				t.Errorf("headers %v, want %v", got, tt.want)
			}
		})
	}
	if n := be.hits.Load(); n != 0 {
		t.Errorf("backend got %d preflights; the gateway must answer them", n)
	}

	// Not a preflight: a declared OPTIONS is proxied, an undeclared one is 405.
	if resp, body := send(t, "OPTIONS", gw.url+"/api/opt", nil); resp.StatusCode != 200 || body != "OPTIONS" {
		t.Errorf("plain OPTIONS on a declared operation: %d %q, want it proxied", resp.StatusCode, body)
	}
	resp, body := send(t, "OPTIONS", gw.url+"/api/item/1", map[string]string{"Origin": "https://app.example"})
	if resp.StatusCode != 405 || withoutID(body) != string(fault.MethodNotAllowed.Body) || resp.Header.Get("Allow") != "DELETE, GET" {
		t.Errorf("plain OPTIONS on an undeclared operation: %d %q Allow %q", resp.StatusCode, body, resp.Header.Get("Allow"))
	}
}

func TestCORSActualResponses(t *testing.T) {
	be := corsBackend(t)
	gw := startGateway(t, corsAPI(be.URL(), &spec.CORS{
		Enabled:          true,
		AllowOrigins:     []string{"https://app.example"},
		AllowCredentials: true,
		ExposeHeaders:    []string{"X-Total", "X-Page"},
	}), Options{})
	url := gw.url + "/api/item/1"

	resp, body := send(t, "GET", url, map[string]string{"Origin": "https://app.example"})
	want := map[string]string{
		"Access-Control-Allow-Origin":      "https://app.example",
		"Access-Control-Allow-Credentials": "true",
		"Access-Control-Expose-Headers":    "X-Total, X-Page",
		"Vary":                             "Origin",
	}
	if got := corsHeaders(resp.Header); resp.StatusCode != 200 || body != "GET" || !sameHeaders(got, want) {
		t.Errorf("allowed origin: %d %q %v, want %v", resp.StatusCode, body, got, want)
	}
	resp, _ = send(t, "GET", url, map[string]string{"Origin": "https://evil.example"})
	if got := corsHeaders(resp.Header); !sameHeaders(got, map[string]string{"Vary": "Origin"}) {
		t.Errorf("origin not allowed: %v, want no CORS headers (the backend's dropped)", got)
	}
	resp, _ = send(t, "GET", url, nil)
	if got := corsHeaders(resp.Header); len(got) != 0 {
		t.Errorf("no Origin: %v, want no CORS headers", got)
	}

	// Faults carry them too, so that a browser can read the error.
	down := refusedURL(t)
	gw = startGateway(t, corsAPI(down, &spec.CORS{Enabled: true, AllowOrigins: []string{"*"}}), Options{})
	resp, body = send(t, "GET", gw.url+"/api/item/1", map[string]string{"Origin": "https://any.example"})
	if got := corsHeaders(resp.Header); resp.StatusCode != 502 || !sameHeaders(got, map[string]string{"Access-Control-Allow-Origin": "*"}) {
		t.Errorf("fault with origins *: %d %q %v, want 502 with Access-Control-Allow-Origin: *", resp.StatusCode, body, got)
	}
}

func TestCORSWildcard(t *testing.T) {
	be := corsBackend(t)
	preflight := map[string]string{"Origin": "https://x.example", "Access-Control-Request-Method": "PATCH", "Access-Control-Request-Headers": "X-Any"}
	for _, tt := range []struct {
		name string
		c    *spec.CORS
		want map[string]string
	}{
		{"any origin, no credentials", &spec.CORS{Enabled: true, AllowOrigins: []string{"*"}},
			map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PATCH", "Access-Control-Allow-Headers": "X-Any"}},
		// Reflecting any origin with credentials would let every website
		// read the API as the user: "*" never carries credentials.
		{"any origin with credentials drops the credentials", &spec.CORS{Enabled: true, AllowOrigins: []string{"*"}, AllowCredentials: true, AllowMethods: []string{"*"}, AllowHeaders: []string{"*"}},
			map[string]string{"Access-Control-Allow-Origin": "*", "Access-Control-Allow-Methods": "PATCH", "Access-Control-Allow-Headers": "X-Any"}},
		{"no origins listed", &spec.CORS{Enabled: true}, map[string]string{"Vary": "Origin"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			gw := startGateway(t, corsAPI(be.URL(), tt.c), Options{})
			resp, _ := send(t, "OPTIONS", gw.url+"/api/item/1", preflight)
			if got := corsHeaders(resp.Header); resp.StatusCode != 200 || !sameHeaders(got, tt.want) {
				t.Errorf("preflight: %d %v, want 200 %v", resp.StatusCode, got, tt.want)
			}
		})
	}
}

func TestCORSOff(t *testing.T) {
	be := corsBackend(t)
	preflight := map[string]string{"Origin": "https://app.example", "Access-Control-Request-Method": "GET"}
	for name, c := range map[string]*spec.CORS{
		"absent":   nil,
		"disabled": {Enabled: false, AllowOrigins: []string{"*"}},
	} {
		t.Run(name, func(t *testing.T) {
			gw := startGateway(t, corsAPI(be.URL(), c), Options{})
			resp, _ := send(t, "OPTIONS", gw.url+"/api/item/1", preflight)
			if resp.StatusCode != 405 || resp.Header.Get("Allow") != "DELETE, GET" {
				t.Errorf("preflight on an undeclared OPTIONS: %d Allow %q, want 405 as without CORS", resp.StatusCode, resp.Header.Get("Allow"))
			}
			if resp, body := send(t, "OPTIONS", gw.url+"/api/opt", preflight); resp.StatusCode != 200 || body != "OPTIONS" {
				t.Errorf("preflight on a declared OPTIONS: %d %q, want it proxied", resp.StatusCode, body)
			}
			resp, _ = send(t, "GET", gw.url+"/api/item/1", map[string]string{"Origin": "https://app.example"})
			if got := corsHeaders(resp.Header); !sameHeaders(got, map[string]string{"Access-Control-Allow-Origin": "https://backend.example"}) {
				t.Errorf("actual response: %v, want the backend's headers untouched", got)
			}
		})
	}
}

func TestTemplateKey(t *testing.T) {
	for in, want := range map[string]string{
		"/a/{id}/b/{x}.json": "/a/{}/b/{}.json",
		"/plain":             "/plain",
		"/{a}{b}":            "/{}{}",
	} {
		if got := templateKey(in); got != want {
			t.Errorf("templateKey(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCORSVaryOnce: a backend that already varies on Origin does not get a
// second Vary: Origin.
func TestCORSVaryOnce(t *testing.T) {
	be := startBackend(t, "be", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Vary", "Accept-Encoding, origin")
	})
	gw := startGateway(t, corsAPI(be.URL(), &spec.CORS{Enabled: true, AllowOrigins: []string{"https://x.example"}}), Options{})
	resp, _ := send(t, "GET", gw.url+"/api/item/1", map[string]string{"Origin": "https://x.example"})
	if got := resp.Header.Values("Vary"); len(got) != 1 || got[0] != "Accept-Encoding, origin" {
		t.Errorf("Vary = %q, want the backend's one value", got)
	}
	if got := resp.Header.Get("Access-Control-Allow-Origin"); got != "https://x.example" {
		t.Errorf("Access-Control-Allow-Origin = %q", got)
	}
}
