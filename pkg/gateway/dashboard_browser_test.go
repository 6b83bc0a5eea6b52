package gateway

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
	clientv3 "go.etcd.io/etcd/client/v3"

	"github.com/micro-gw/micro-gw/internal/devetcd"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// requireBrowser, when set (CI sets it and installs chromium), turns a
// missing browser into a failure instead of a skip.
const requireBrowser = "MICROGW_REQUIRE_BROWSER"

// findChromium returns the path of Debian's chromium, or skips the test
// (fails it when requireBrowser is set).
func findChromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	if os.Getenv(requireBrowser) != "" {
		t.Fatalf("chromium is not installed and %s is set: install it (apt-get install -y chromium)", requireBrowser)
	}
	t.Skipf("chromium is not installed: apt-get install -y chromium to run the browser test (set %s to make this a failure)", requireBrowser)
	return ""
}

// browser starts a headless chromium for the test and returns its context,
// bounded by timeout. Uncaught exceptions of the page are reported on
// errs.
func browser(t *testing.T, timeout time.Duration) (context.Context, <-chan string) {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(findChromium(t)),
		chromedp.UserDataDir(t.TempDir()),
		// Root in a container has no user namespace for chromium's sandbox.
		chromedp.NoSandbox,
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.WindowSize(1280, 1600),
	)
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelBrowser := chromedp.NewContext(actx)
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	t.Cleanup(func() {
		cancelTimeout()
		cancelBrowser()
		cancelAlloc()
	})
	errs := make(chan string, 16)
	err := chromedp.Listen(ctx, func(ev any) {
		if e, ok := ev.(*runtime.EventExceptionThrown); ok {
			select {
			case errs <- exceptionText(e.ExceptionDetails):
			default:
			}
		}
	})
	if err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	return ctx, errs
}

// TestDashboardShowsNewEtcdURLAndChangeWithoutReload: an operator watching
// the dashboard in a real browser sees an etcd key's new URL and the change
// in its history within a refresh, without reloading the page; the page's
// own script runs under its Content-Security-Policy and raises no error.
func TestDashboardShowsNewEtcdURLAndChangeWithoutReload(t *testing.T) {
	ctx, jsErrs := browser(t, 60*time.Second)

	e, err := devetcd.Start(context.Background(), devetcd.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.Close)
	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{e.ClientURL()}, DialTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cli.Close() })
	be := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {}))
	t.Cleanup(be.Close)

	oldURL, newURL := be.URL+"/v1", be.URL+"/v2"
	g := &spec.Gateway{Project: "dash", APIs: []spec.API{{
		Title: "Orders", Version: "2.0.0", File: "orders.yaml", BasePath: "/orders",
		Production: &spec.Endpoints{Type: spec.TypeHTTP, URLs: []spec.EndpointURL{{EtcdKey: "orders-svc", URL: oldURL}}},
		Resources:  []spec.Resource{{Path: "/{id}", Method: "GET", Security: &spec.Security{Disabled: true}}},
	}}}
	gw, _ := startTest(t, g, testConfig(t, "--etcdurl="+e.ClientURL(), "--etcdtimer=3600000"))
	page := "http://" + gw.AdminAddr.String() + "/"

	key := `#keys .key[data-key="orders-svc"]`
	if err := chromedp.Do(ctx, chromedp.Navigate(page), chromedp.WaitVisible(chromedp.CSS(key+" .cur"))); err != nil {
		t.Fatalf("load the dashboard: %v", err)
	}
	shown := text(t, ctx, key+" .cur")
	if state := text(t, ctx, "#etcd .etcd-state"); shown != oldURL || state != "connected" {
		t.Fatalf("dashboard shows %q with etcd %q, want the default %s and connected", shown, state, oldURL)
	}
	// A mark that a reload would wipe out.
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.notReloaded = true`)); err != nil {
		t.Fatal(err)
	}

	rev, err := cli.Put(ctx, "orders-svc", newURL)
	if err != nil {
		t.Fatal(err)
	}
	quote := func(s string) string { b, _ := json.Marshal(s); return string(b) }
	changed := fmt.Sprintf(`(() => {
		const k = document.querySelector(%s);
		if (!k) return false;
		const ch = k.querySelector(".history tr.change");
		return k.querySelector(".cur").textContent === %s && ch !== null &&
			ch.textContent.includes(%s) && ch.textContent.includes("watch");
	})()`, quote(key), quote(newURL), quote(oldURL+" → "+newURL))
	// Bounded by ctx's timeout: the page refreshes every few seconds.
	if _, err := chromedp.Run(ctx, chromedp.Poll[bool](changed, chromedp.WithPollingInterval(100*time.Millisecond),
		chromedp.WithPollingTimeout(30*time.Second))); err != nil {
		t.Fatalf("after putting %s at revision %d, the dashboard did not show it and the change (keys: %q): %v",
			newURL, rev.Header.Revision, text(t, ctx, "#keys"), err)
	}
	notReloaded, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.notReloaded === true`))
	if err != nil || !notReloaded {
		t.Fatalf("the page was reloaded (%v): the change must appear through the page's refresh", err)
	}

	png, err := chromedp.Run(ctx, chromedp.FullScreenshot(100)) // quality 100: PNG
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	shot := filepath.Join(os.TempDir(), fmt.Sprintf("microgw-dashboard-%d.png", time.Now().UnixNano()))
	if err := os.WriteFile(shot, png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("dashboard screenshot: %s", shot)

	select {
	case msg := <-jsErrs:
		t.Errorf("the page threw: %s", msg)
	default:
	}
}

// exceptionText describes an uncaught exception of the page.
func exceptionText(d *runtime.ExceptionDetails) string {
	msg := d.Text
	if d.Exception != nil && d.Exception.Description != "" {
		msg += " " + d.Exception.Description
	}
	return fmt.Sprintf("%s (line %d, column %d)", msg, d.LineNumber+1, d.ColumnNumber+1)
}

// text is the visible text of the first element matching the CSS selector.
func text(t *testing.T, ctx context.Context, css string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(css)))
	if err != nil {
		t.Fatalf("text of %s: %v", css, err)
	}
	return s
}
