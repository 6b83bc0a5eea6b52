package gateway

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"

	"github.com/micro-gw/micro-gw/pkg/spec"
)

// hostile is text that would run as script, break out of an attribute or
// of the script element if it reached the page unescaped.
const hostile = `</script><script>alert("x")</script>'"><img src=x onerror=alert(1)>`

// hostileRoutes is an API whose title, version, file and etcd key carry
// markup, and whose etcd default URL does too (a valid URL all the same).
func hostileRoutes() *spec.Gateway {
	eps := &spec.Endpoints{Type: spec.TypeHTTP, URLs: []spec.EndpointURL{{
		EtcdKey: "svc" + hostile, URL: `http://127.0.0.1:1/"><script>alert("u")</script>`}}}
	return &spec.Gateway{Project: "p", APIs: []spec.API{{
		Title: "T" + hostile, Version: "V" + hostile, File: "F" + hostile, BasePath: "/h", Production: eps,
		Resources: []spec.Resource{{Path: "/x", Method: "GET", Security: &spec.Security{Disabled: true}}},
	}}}
}

// getDashboard fetches GET / from the admin listener of gw.
func getDashboard(t *testing.T, gw *Server) (*http.Response, string) {
	t.Helper()
	resp, err := http.Get("http://" + gw.AdminAddr.String() + "/")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 {
		t.Fatalf("GET /: %d %s", resp.StatusCode, b)
	}
	return resp, string(b)
}

// TestDashboardEscapesValuesFromDefinitionsAndEtcd: titles, versions, file
// names, etcd keys and URLs are data: markup in them shows as text and
// never becomes an element, an attribute or script.
func TestDashboardEscapesValuesFromDefinitionsAndEtcd(t *testing.T) {
	gw, _ := startTest(t, hostileRoutes(), testConfig(t))
	_, body := getDashboard(t, gw)
	for _, raw := range []string{`<script>alert("x")`, `<script>alert("u")`, `<img src=x`, `onerror=alert(1)>`} {
		if strings.Contains(body, raw) {
			t.Errorf("page holds %q unescaped", raw)
		}
	}
	if n := strings.Count(body, "<script"); n != 1 {
		t.Errorf("page has %d <script elements, want only its own", n)
	}
	// Each value is on the page, as text.
	texts := pageText(t, body)
	for _, want := range []string{"T" + hostile, "V" + hostile, "F" + hostile, "svc" + hostile, `http://127.0.0.1:1/"><script>alert("u")</script>`} {
		if !strings.Contains(texts, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
	// As an attribute value (data-key), the key is one attribute, intact.
	if !strings.Contains(attrs(t, body, "section", "data-key"), "svc"+hostile) {
		t.Errorf("data-key attribute does not hold the key as given")
	}
}

// TestDashboardLoadsNothingExternalUnderStrictCSP: the page needs no
// network but the admin listener: no external script, style, image, font
// or frame; its one script and style carry the nonce of a policy that
// allows nothing else, and the nonce changes with every response.
func TestDashboardLoadsNothingExternalUnderStrictCSP(t *testing.T) {
	gw, _ := startTest(t, routesFor("http://127.0.0.1:1"), testConfig(t))
	resp, body := getDashboard(t, gw)
	csp := resp.Header.Get("Content-Security-Policy")
	m := regexp.MustCompile(`script-src 'nonce-([A-Za-z0-9+/=]{20,})'`).FindStringSubmatch(csp)
	if m == nil || !strings.Contains(csp, "default-src 'none'") || !strings.Contains(csp, "style-src 'nonce-"+m[1]+"'") ||
		!strings.Contains(csp, "connect-src 'self'") || strings.Contains(csp, "unsafe") || strings.Contains(csp, "http") {
		t.Fatalf("Content-Security-Policy %q: want default-src 'none', nonced script and style, connect-src 'self', nothing unsafe or remote", csp)
	}
	nonce := m[1]
	if resp2, _ := getDashboard(t, gw); strings.Contains(resp2.Header.Get("Content-Security-Policy"), nonce) {
		t.Error("two responses share a nonce")
	}
	if got := resp.Header.Get("Content-Type"); got != "text/html; charset=utf-8" || resp.Header.Get("X-Content-Type-Options") != "nosniff" {
		t.Errorf("Content-Type %q, X-Content-Type-Options %q", got, resp.Header.Get("X-Content-Type-Options"))
	}

	z := html.NewTokenizer(strings.NewReader(body))
	scripts := 0
	for {
		tt := z.Next()
		if tt == html.ErrorToken {
			if z.Err() != io.EOF {
				t.Fatal(z.Err())
			}
			break
		}
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			if tt == html.TextToken && (strings.Contains(string(z.Text()), "url(") || strings.Contains(string(z.Text()), "@import")) {
				t.Errorf("style or text loads a resource: %q", z.Text())
			}
			continue
		}
		name, _ := z.TagName()
		tag := string(name)
		a := map[string]string{}
		for {
			k, v, more := z.TagAttr()
			a[string(k)] = string(v)
			if !more {
				break
			}
		}
		switch tag {
		case "link", "img", "iframe", "frame", "object", "embed", "base", "form", "audio", "video", "source", "track", "image", "use", "foreignobject":
			t.Errorf("page has a <%s> element %v", tag, a)
		case "script", "style":
			if a["nonce"] != nonce {
				t.Errorf("<%s> with nonce %q, want the policy's %q", tag, a["nonce"], nonce)
			}
			if tag == "script" {
				scripts++
			}
		}
		for k, v := range a {
			switch {
			case k == "src" || k == "srcset" || k == "action" || k == "formaction" || k == "xlink:href" || k == "poster" || k == "background":
				t.Errorf("<%s %s=%q> loads a resource", tag, k, v)
			case k == "href" && (!strings.HasPrefix(v, "/") || strings.HasPrefix(v, "//")):
				t.Errorf("<%s href=%q> leaves the admin listener", tag, v)
			case k == "style" || strings.HasPrefix(k, "on"):
				t.Errorf("<%s %s=%q>: inline style and handlers are blocked by the policy", tag, k, v)
			}
		}
	}
	if scripts != 1 {
		t.Errorf("%d scripts, want 1", scripts)
	}
}

// pageText is the text of body's elements, unescaped, without tags.
func pageText(t *testing.T, body string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for n := range doc.Descendants() {
		if n.Type == html.TextNode && (n.Parent == nil || n.Parent.Data != "script") {
			b.WriteString(n.Data)
		}
	}
	return b.String()
}

// attrs is the values of attribute key on the elements named tag in body.
func attrs(t *testing.T, body, tag, key string) string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == tag {
			for _, a := range n.Attr {
				if a.Key == key {
					out = append(out, a.Val)
				}
			}
		}
	}
	return strings.Join(out, "\n")
}
