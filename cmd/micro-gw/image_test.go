package main

import (
	"archive/tar"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"

	"github.com/micro-gw/micro-gw/internal/devetcd"
	"github.com/micro-gw/micro-gw/internal/gwproc"
)

// openAPI is a small definition served without authentication, its
// backend found in etcd under "backend".
const openAPI = `openapi: 3.0.3
info: {title: Shop, version: 1.0.0}
x-wso2-basePath: /shop/v1
x-wso2-disable-security: true
x-wso2-production-endpoints:
  urls:
    - etcd(backend, http://127.0.0.1:1/default)
paths:
  /items:
    get:
      responses:
        "200": {description: ok}
`

// needSkopeo returns the skopeo command, or skips the test when it is
// missing and MICROGW_REQUIRE_SKOPEO is unset (CI sets it and installs
// skopeo, so there the test cannot silently not run).
func needSkopeo(t *testing.T) string {
	t.Helper()
	p, err := exec.LookPath("skopeo")
	if err == nil {
		return p
	}
	if os.Getenv("MICROGW_REQUIRE_SKOPEO") != "" {
		t.Fatalf("MICROGW_REQUIRE_SKOPEO is set and skopeo is not on PATH (%v); install it: apt-get install -y skopeo", err)
	}
	t.Skip("skopeo not on PATH (apt-get install -y skopeo); set MICROGW_REQUIRE_SKOPEO=1 to make this a failure")
	return ""
}

// TestImageArchiveRunsTheGateway builds a project with --image, as a user
// would, and checks the archive with Debian's skopeo (entrypoint, user,
// ports), then runs the executable extracted from the image's layers with
// settings from the environment only, as a container's -e etcdurl=... gives
// them: it starts, answers /health and routes through the etcd it was
// pointed at. A second build gives the same digest.
func TestImageArchiveRunsTheGateway(t *testing.T) {
	if testing.Short() {
		t.Skip("-short: compiles a gateway")
	}
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH")
	}
	skopeo := needSkopeo(t)

	dir := t.TempDir()
	defs := filepath.Join(dir, "shop", "api_definitions")
	if err := os.MkdirAll(defs, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(defs, "shop.yaml"), []byte(openAPI), 0o644); err != nil {
		t.Fatal(err)
	}
	archive := filepath.Join(dir, "shop", "target", "shop.oci.tar")
	build := func() {
		t.Helper()
		var out, errs bytes.Buffer
		if code := run([]string{"build", "-q", filepath.Join(dir, "shop"), "--image", "shop:1.0"}, nil, &out, &errs); code != 0 {
			t.Fatalf("micro-gw build --image: exit %d\n%s%s", code, out.String(), errs.String())
		}
	}
	build()

	var cfg struct {
		Architecture, OS string
		Config           struct {
			User         string
			Entrypoint   []string
			Cmd          []string
			ExposedPorts map[string]struct{}
			WorkingDir   string
		}
	}
	skopeoJSON(t, skopeo, &cfg, "inspect", "--config", "oci-archive:"+archive)
	c := cfg.Config
	if !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/shop"}) || len(c.Cmd) != 0 {
		t.Errorf("entrypoint %q, cmd %q; want the executable alone", c.Entrypoint, c.Cmd)
	}
	if c.User != "65532:65532" {
		t.Errorf("user %q, want 65532:65532", c.User)
	}
	ports := slices.Sorted(maps.Keys(c.ExposedPorts))
	if !slices.Equal(ports, []string{"9090/tcp", "9095/tcp"}) {
		t.Errorf("exposed ports %q, want 9090/tcp and 9095/tcp", ports)
	}
	if cfg.OS != "linux" || c.WorkingDir != "/home/nonroot" {
		t.Errorf("os %q, workdir %q", cfg.OS, c.WorkingDir)
	}

	var first struct{ Digest string }
	skopeoJSON(t, skopeo, &first, "inspect", "oci-archive:"+archive)
	build()
	var second struct{ Digest string }
	skopeoJSON(t, skopeo, &second, "inspect", "oci-archive:"+archive)
	if first.Digest == "" || first.Digest != second.Digest {
		t.Errorf("two builds of the same project gave digests %q and %q", first.Digest, second.Digest)
	}

	files := extractImage(t, archive, dir)
	if !strings.Contains(string(files["etc/passwd"]), "nonroot:x:65532:65532:") {
		t.Errorf("/etc/passwd = %q", files["etc/passwd"])
	}
	if len(files["etc/ssl/certs/ca-certificates.crt"]) == 0 {
		t.Error("no CA bundle at /etc/ssl/certs/ca-certificates.crt")
	}
	exe := filepath.Join(dir, "from-image")
	if err := os.WriteFile(exe, files["usr/local/bin/shop"], 0o755); err != nil {
		t.Fatal(err)
	}
	runFromEnv(t, exe)
}

// skopeoJSON runs skopeo with args and decodes its JSON output into v.
func skopeoJSON(t *testing.T, skopeo string, v any, args ...string) {
	t.Helper()
	cmd := exec.Command(skopeo, args...)
	var errs bytes.Buffer
	cmd.Stderr = &errs
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("skopeo %s: %v\n%s", strings.Join(args, " "), err, errs.String())
	}
	if err := json.Unmarshal(out, v); err != nil {
		t.Fatalf("skopeo %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// extractImage reads the archive as an OCI layout (unpacked into dir) and
// returns the regular files of the image's flattened file system.
func extractImage(t *testing.T, archive, dir string) map[string][]byte {
	t.Helper()
	lp := filepath.Join(dir, "layout")
	untarFiles(t, archive, lp)
	idx, err := layout.ImageIndexFromPath(lp)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil || len(im.Manifests) != 1 {
		t.Fatalf("index: %v, %d manifests", err, len(im.Manifests))
	}
	img, err := idx.Image(im.Manifests[0].Digest)
	if err != nil {
		t.Fatal(err)
	}
	rc := mutate.Extract(img)
	defer rc.Close()
	files := map[string][]byte{}
	tr := tar.NewReader(rc)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return files
		}
		if err != nil {
			t.Fatal(err)
		}
		if h.Typeflag == tar.TypeReg {
			data, err := io.ReadAll(tr)
			if err != nil {
				t.Fatal(err)
			}
			files[strings.TrimPrefix(h.Name, "/")] = data
		}
	}
}

// untarFiles unpacks a tar of folders and regular files into dir.
func untarFiles(t *testing.T, archive, dir string) {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if !strings.HasPrefix(p, dir+string(filepath.Separator)) {
			t.Fatalf("archive entry %q leaves the folder", h.Name)
		}
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
		}
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(tr)
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
}

// runFromEnv starts exe with etcdurl and etcdtimer in its environment only
// (what podman run -e etcdurl=... -e etcdtimer=... gives the entrypoint),
// etcd holding the backend's URL, and checks /health and one request.
func runFromEnv(t *testing.T, exe string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	etcd, err := devetcd.Start(ctx, devetcd.Config{Dir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(etcd.Close)

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	backend := &http.Server{Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprintf(w, "backend:%s", r.URL.Path)
	})}
	go backend.Serve(ln)
	t.Cleanup(func() { backend.Close() })

	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{etcd.ClientURL()}, DialTimeout: 5 * time.Second, Logger: zap.NewNop()})
	if err != nil {
		t.Fatal(err)
	}
	defer cli.Close()
	if _, err := cli.Put(ctx, "backend", "http://"+ln.Addr().String()+"/api"); err != nil {
		t.Fatal(err)
	}

	// The child inherits the test's environment: these reach it as -e would.
	t.Setenv("etcdurl", etcd.ClientURL())
	t.Setenv("etcdtimer", "1000")
	gw, err := gwproc.Start(ctx, exe, gwproc.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { gw.Stop(10 * time.Second) })

	if body := httpGet(t, gw.Admin+"/health"); !strings.Contains(body, `"healthy"`) {
		t.Errorf("/health = %s", body)
	}
	if body := httpGet(t, gw.HTTP+"/shop/v1/items"); body != "backend:/api/items" {
		t.Errorf("GET /shop/v1/items = %q; want the backend etcd names (etcdurl from the environment)\n%s", body, gw.Log)
	}
}

func httpGet(t *testing.T, u string) string {
	t.Helper()
	c := &http.Client{Timeout: 5 * time.Second}
	resp, err := c.Get(u)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("GET %s: %v", u, err)
	}
	return string(b)
}
