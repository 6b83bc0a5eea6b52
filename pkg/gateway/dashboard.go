package gateway

import (
	"bytes"
	"crypto/rand"
	_ "embed"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"html/template"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/micro-gw/micro-gw/pkg/gateway/discovery"
	"github.com/micro-gw/micro-gw/pkg/gateway/proxy"
	"github.com/micro-gw/micro-gw/pkg/gateway/traffic"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// The admin dashboard, GET / on the admin listener: one server-rendered
// page whose few lines of script refresh it from GET /status and GET
// /traffic. Everything it shows comes from definitions and etcd, which
// anyone able to write a key or a definition controls, so it is data,
// never markup: html/template escapes it on the server, and the script
// sets it with textContent. The Content-Security-Policy lets only the
// page's own script and style (by a per-response nonce) run, and lets it
// fetch only from the admin listener itself.

//go:embed dashboard.html
var dashboardHTML string

var dashboardPage = template.Must(template.New("dashboard").Funcs(template.FuncMap{"when": when}).Parse(dashboardHTML))

// dashboardRefresh is how often the page fetches /status and /traffic.
const dashboardRefresh = 3 * time.Second

// dashboard serves the page and the traffic JSON.
type dashboard struct {
	base     Status
	apis     []dashAPI // what the definitions say; charts are filled per response
	st       adminState
	interval time.Duration
}

// dashAPI is one API as the page shows it.
type dashAPI struct {
	Title, Version, BasePath, File string
	Resources                      []dashResource
	Chart                          dashChart
}

// dashResource is one resource: its route, effective security and
// endpoints.
type dashResource struct {
	Method, Path, Security, Production, Sandbox string
}

// dashChart is an API's traffic chart: SVG polyline points (numbers only)
// and a one-line summary.
type dashChart struct {
	Requests, Errors, Summary string
}

// TrafficStatus is the JSON document of GET /traffic on the admin listener.
type TrafficStatus struct {
	// Counting is false when the gateway counts no requests per API.
	Counting bool         `json:"counting"`
	APIs     []APITraffic `json:"apis"`
}

// APITraffic is one API's requests and 5xx answers over the last five
// minutes, by ten-second bucket.
type APITraffic struct {
	Title    string         `json:"title"`
	Version  string         `json:"version"`
	BasePath string         `json:"base_path"`
	Series   traffic.Series `json:"series"`
	// Summary is the rates over the window, as the page shows them.
	Summary string `json:"summary"`
}

func newDashboard(base Status, g *spec.Gateway, st adminState) *dashboard {
	d := &dashboard{base: base, st: st, interval: dashboardRefresh}
	for i := range g.APIs {
		a := &g.APIs[i]
		da := dashAPI{Title: a.Title, Version: a.Version, BasePath: a.BasePath, File: a.File}
		for j := range a.Resources {
			r := &a.Resources[j]
			da.Resources = append(da.Resources, dashResource{Method: r.Method, Path: spec.JoinPath(a.BasePath, r.Path),
				Security: r.EffectiveSecurity().String(), Production: endpointsText(r.EffectiveProduction(a)), Sandbox: endpointsText(r.EffectiveSandbox(a))})
		}
		d.apis = append(d.apis, da)
	}
	return d
}

// endpointsText lists an endpoint list's entries as written in the
// definition (etcd(key, default) or the URL), with its type.
func endpointsText(eps *spec.Endpoints) string {
	if eps == nil || len(eps.URLs) == 0 {
		return "none"
	}
	var s []string
	for _, u := range eps.Active() {
		s = append(s, u.String())
	}
	text := strings.Join(s, ", ")
	if len(s) > 1 {
		text = eps.Type + ": " + text
	}
	return text
}

// register adds the dashboard's routes to mux.
func (d *dashboard) register(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", d.page)
	mux.HandleFunc("GET /traffic", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, d.traffic(time.Now()))
	})
}

// traffic is the per-API traffic at now.
func (d *dashboard) traffic(now time.Time) TrafficStatus {
	reg := d.registry()
	t := TrafficStatus{Counting: reg != nil, APIs: make([]APITraffic, len(d.apis))}
	for i, a := range d.apis {
		s := reg.API(i).Snapshot(now)
		t.APIs[i] = APITraffic{Title: a.Title, Version: a.Version, BasePath: a.BasePath, Series: s, Summary: summary(s, reg != nil)}
	}
	return t
}

func (d *dashboard) registry() *traffic.Registry {
	if d.st.proxy == nil {
		return nil
	}
	return d.st.proxy.Traffic()
}

// summary is the request and error rates of s over its window.
func summary(s traffic.Series, counting bool) string {
	if !counting {
		return "requests are not counted"
	}
	var req, errs uint64
	for i := range s.Requests {
		req, errs = req+s.Requests[i], errs+s.Errors[i]
	}
	window := float64(len(s.Requests) * s.BucketSeconds)
	share := 0.0
	if req > 0 {
		share = 100 * float64(errs) / float64(req)
	}
	return fmt.Sprintf("%d requests (%.2f/s), %d 5xx (%.1f%%) in 5 min", req, float64(req)/window, errs, share)
}

// chartPoints are the SVG points of a series on the page's 300×60 chart,
// scaled to the busiest bucket; the page's script uses the same scale.
func chartPoints(xs, scale []uint64) string {
	top := uint64(1)
	for _, v := range scale {
		top = max(top, v)
	}
	var b []byte
	for i, v := range xs {
		if i > 0 {
			b = append(b, ' ')
		}
		b = strconv.AppendInt(b, int64(i*10+5), 10)
		b = append(b, ',')
		b = strconv.AppendFloat(b, 58-56*float64(v)/float64(top), 'f', 1, 64)
	}
	return string(b)
}

// dashView is what the page template renders.
type dashView struct {
	Nonce, Project, Version, StartedAt, Now string
	RefreshSeconds, RefreshMillis           int64
	APIs                                    []dashAPI
	Etcd                                    *discovery.EtcdStatus
	Keys                                    []discovery.KeyStatus
	Endpoints                               []proxy.EndpointStatus
}

// page renders the dashboard. It is rendered into a buffer first, so that
// a template error is a 500 and not half a page.
func (d *dashboard) page(w http.ResponseWriter, r *http.Request) {
	nonce, err := newNonce()
	if err != nil {
		http.Error(w, "cannot make a nonce for the page's script: "+err.Error(), http.StatusInternalServerError)
		return
	}
	now := time.Now()
	v := dashView{Nonce: nonce, Project: d.base.Project, Version: d.base.MicroGWVersion, StartedAt: when(d.base.StartedAt),
		Now: when(now), RefreshSeconds: int64(d.interval / time.Second), RefreshMillis: d.interval.Milliseconds()}
	t := d.traffic(now)
	for i, a := range d.apis {
		s := t.APIs[i].Series
		a.Chart = dashChart{Requests: chartPoints(s.Requests, s.Requests), Errors: chartPoints(s.Errors, s.Requests), Summary: t.APIs[i].Summary}
		v.APIs = append(v.APIs, a)
	}
	if d.st.resolver != nil {
		s := d.st.resolver.Status()
		v.Etcd, v.Keys = &s.Etcd, s.Keys
	}
	if d.st.proxy != nil {
		v.Endpoints = d.st.proxy.Endpoints()
	}
	var buf bytes.Buffer
	if err := dashboardPage.Execute(&buf, v); err != nil {
		http.Error(w, "render the dashboard: "+err.Error(), http.StatusInternalServerError)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", contentSecurityPolicy(nonce))
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	w.Write(buf.Bytes()) //nolint:errcheck // the client went away
}

// contentSecurityPolicy allows nothing but the page's own nonced script
// and style, fetches from the admin listener itself, and no framing: a
// value that slipped through escaping still could not run or load.
func contentSecurityPolicy(nonce string) string {
	return "default-src 'none'; script-src 'nonce-" + nonce + "'; style-src 'nonce-" + nonce + "'; " +
		"connect-src 'self'; img-src 'none'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
}

// newNonce returns 16 random bytes in base64, fresh for each response.
func newNonce() (string, error) {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		return "", err
	}
	return base64.StdEncoding.EncodeToString(b[:]), nil
}

// when formats a time for the page, in UTC to the second; the script uses
// the same format.
func when(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	return t.UTC().Format("2006-01-02 15:04:05") + "Z"
}

// writeJSON answers with v as indented JSON.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.Encode(v) //nolint:errcheck // the client went away
}
