package metrics

import (
	"encoding/json"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"

	"github.com/micro-gw/micro-gw/pkg/gateway/discovery"
	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
)

// dashboardFile is docs/grafana-dashboard.json, from this package's folder.
const dashboardFile = "../../../docs/grafana-dashboard.json"

// TestDashboardQueriesNameRegisteredMetrics protects the shipped Grafana
// dashboard from drifting away from the metrics: every identifier in
// every query that is not a PromQL function, keyword or label must be a
// series name the registry exposes (histograms' _bucket, _sum and _count
// included), every function must be a PromQL function, and every
// microgw_ metric must be shown somewhere.
func TestDashboardQueriesNameRegisteredMetrics(t *testing.T) {
	names := exposedNames(t)
	exprs := dashboardQueries(t)
	if len(exprs) < 10 {
		t.Fatalf("found %d queries in %s; is the file a Grafana dashboard?", len(exprs), dashboardFile)
	}
	used := map[string]bool{}
	for _, e := range exprs {
		idents, funcs := promqlIdentifiers(e)
		for _, f := range funcs {
			if !promqlFunctions[f] {
				t.Errorf("query %q calls %s(), which is not a PromQL function", e, f)
			}
		}
		for _, id := range idents {
			if !names[id] {
				t.Errorf("query %q names %s, which the registry does not expose", e, id)
			}
			used[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(id, "_bucket"), "_sum"), "_count")] = true
		}
	}
	for n := range names {
		if strings.HasPrefix(n, namespace+"_") && !used[n] && !used[strings.TrimSuffix(strings.TrimSuffix(strings.TrimSuffix(n, "_bucket"), "_sum"), "_count")] {
			t.Errorf("metric %s is on no panel of the dashboard", n)
		}
	}
}

// TestQueryCheckCatchesUnknownNames makes sure the check above can fail:
// a misspelt metric, a histogram suffix on a counter and an unknown
// function are caught, and labels, strings and variables are not taken
// for metric names.
func TestQueryCheckCatchesUnknownNames(t *testing.T) {
	names := exposedNames(t)
	for expr, bad := range map[string]string{
		`sum(rate(microgw_request_total{api=~"$api"}[5m]))`:                                       "microgw_request_total",
		`rate(microgw_requests_total_bucket[5m])`:                                                 "microgw_requests_total_bucket",
		`histogram_quantile(0.9, sum by (le) (rate(microgw_request_gateway_seconds_bucket[1m])))`: "microgw_request_gateway_seconds_bucket",
		`rate(microgw_requests_total[5m]) > on(api) group_left(foo_bar) up_down_metric`:           "up_down_metric",
	} {
		idents, _ := promqlIdentifiers(expr)
		if !slices.Contains(idents, bad) || names[bad] {
			t.Errorf("%q: identifiers %v; want %s among them and unknown", expr, idents, bad)
		}
	}
	idents, funcs := promqlIdentifiers(`sum without (le_x) (rate(microgw_requests_total{class="5xx",api=~"${api}_x"}[$__rate_interval] offset 1h)) / ignoring(class) microgw_etcd_connected`)
	if want := []string{"microgw_requests_total", "microgw_etcd_connected"}; !slices.Equal(idents, want) {
		t.Errorf("identifiers %v, want %v", idents, want)
	}
	if _, fs := promqlIdentifiers("made_up_fn(microgw_etcd_connected)"); promqlFunctions[fs[0]] {
		t.Error("made_up_fn taken for a PromQL function")
	}
	if !slices.Equal(funcs, []string{"sum", "rate"}) {
		t.Errorf("functions %v", funcs)
	}
}

// exposedNames gathers a registry with every metric populated (a route, a
// backend, each fault kind, discovery and proxy state) and returns every
// series name it exposes. It fails if the registry describes a metric the
// gather did not show, so no name is missed for want of a sample.
func exposedNames(t *testing.T) map[string]bool {
	t.Helper()
	m := New()
	r := m.Route("PetStore", "/pet/{petId}", "GET")
	r.Done(200, time.Millisecond, time.Microsecond, 1, 1)
	r.AuthFailed(fault.TokenExpired)
	r.Throttled(fault.APIThrottled)
	b := m.Backend("http://127.0.0.1:1/")
	b.Attempt()
	b.Failed(ConnectError)
	b.Retry()
	o := m.DiscoveryObserver()
	o.KeyChanged("petstore", discovery.SourceWatch)
	o.ValueRejected("petstore")
	o.WatchRestarted(false)
	m.ObserveDiscovery(func() discovery.Status {
		return discovery.Status{Etcd: discovery.EtcdStatus{Enabled: true, Connected: true, LastContact: time.Now()},
			Keys: []discovery.KeyStatus{{Key: "petstore", URL: "http://127.0.0.1:1/", Source: discovery.SourceWatch}}}
	})
	m.ObserveProxy(fixedProxy{})
	fams, err := m.reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, f := range fams {
		n := f.GetName()
		names[n] = true
		switch f.GetType() {
		case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
			names[n+"_bucket"], names[n+"_sum"], names[n+"_count"] = true, true, true
		case dto.MetricType_SUMMARY:
			names[n+"_sum"], names[n+"_count"] = true, true
		}
	}
	descs := make(chan *prometheus.Desc, 1024)
	m.reg.Describe(descs)
	close(descs)
	fq := regexp.MustCompile(`fqName: "([^"]+)"`)
	for d := range descs {
		if s := fq.FindStringSubmatch(d.String()); s != nil && !names[s[1]] {
			t.Errorf("the registry describes %s but the populated gather did not expose it; populate it in exposedNames", s[1])
		}
	}
	return names
}

type fixedProxy struct{}

func (fixedProxy) Backends(f func(string, int)) { f("http://127.0.0.1:1/", 1) }
func (fixedProxy) Breakers(f func(string, int)) { f("http://127.0.0.1:1/", 0) }

// dashboardQueries returns every PromQL query of the dashboard: panel
// targets' expr, and query variables' queries.
func dashboardQueries(t *testing.T) []string {
	t.Helper()
	b, err := os.ReadFile(dashboardFile)
	if err != nil {
		t.Fatal(err)
	}
	var doc any
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("%s: %v", dashboardFile, err)
	}
	var out []string
	var walk func(v any, variable bool)
	walk = func(v any, variable bool) {
		switch v := v.(type) {
		case map[string]any:
			variable = variable || v["type"] == "query"
			for k, x := range v {
				if s, ok := x.(string); ok && (k == "expr" || variable && (k == "query" || k == "definition")) {
					out = append(out, s)
					continue
				}
				walk(x, variable && k == "query")
			}
		case []any:
			for _, x := range v {
				walk(x, false)
			}
		}
	}
	d := doc.(map[string]any)
	walk(d["panels"], false)
	walk(d["templating"], false)
	return out
}

var (
	grafanaVar   = regexp.MustCompile(`\$\{[^}]*\}|\$\w+`)
	quoted       = regexp.MustCompile(`"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`")
	matchers     = regexp.MustCompile(`\{[^}]*\}`)
	ranges       = regexp.MustCompile(`\[[^\]]*\]`)
	labelLists   = regexp.MustCompile(`\b(by|without|on|ignoring|group_left|group_right)\s*\([^)]*\)`)
	labelValues  = regexp.MustCompile(`\blabel_values\(\s*([^,)]*)(?:,\s*[A-Za-z_]\w*)?\s*\)`)
	durations    = regexp.MustCompile(`\b\d+(?:ms|[smhdwy])\b`)
	identifier   = regexp.MustCompile(`[A-Za-z_:][A-Za-z0-9_:]*(\s*\()?`)
	promqlKwords = map[string]bool{"by": true, "without": true, "on": true, "ignoring": true, "group_left": true, "group_right": true,
		"bool": true, "offset": true, "and": true, "or": true, "unless": true, "inf": true, "nan": true, "Inf": true, "NaN": true}
)

// promqlIdentifiers returns the series names an expression refers to and
// the functions it calls, after removing what holds label names or text:
// Grafana variables, strings, label matchers, ranges, label lists of
// by/without/on/ignoring/group_*, and label_values' label argument.
func promqlIdentifiers(expr string) (idents, funcs []string) {
	s := grafanaVar.ReplaceAllString(expr, " ")
	s = quoted.ReplaceAllString(s, " ")
	s = matchers.ReplaceAllString(s, " ")
	s = ranges.ReplaceAllString(s, " ")
	s = labelLists.ReplaceAllString(s, " ")
	s = labelValues.ReplaceAllString(s, "label_values($1)")
	s = durations.ReplaceAllString(s, " ")
	for _, m := range identifier.FindAllStringSubmatch(s, -1) {
		name := strings.TrimRight(m[0], " \t\n(")
		switch {
		case m[1] != "":
			funcs = append(funcs, name)
		case promqlKwords[name]:
		default:
			idents = append(idents, name)
		}
	}
	return idents, funcs
}

// promqlFunctions are PromQL's functions and aggregation operators, and
// Grafana's label_values.
var promqlFunctions = func() map[string]bool {
	m := map[string]bool{}
	for _, f := range strings.Fields(`abs absent absent_over_time ceil changes clamp clamp_max clamp_min day_of_month day_of_week
		day_of_year days_in_month delta deriv exp floor histogram_avg histogram_count histogram_fraction histogram_quantile
		histogram_stddev histogram_stdvar histogram_sum holt_winters hour idelta increase irate label_join label_replace ln log2
		log10 minute month predict_linear rate resets round scalar sgn sort sort_desc sqrt time timestamp vector year
		avg_over_time min_over_time max_over_time sum_over_time count_over_time quantile_over_time stddev_over_time
		stdvar_over_time last_over_time present_over_time sum min max avg group stddev stdvar count count_values bottomk topk
		quantile label_values`) {
		m[f] = true
	}
	return m
}()
