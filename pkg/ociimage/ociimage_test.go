package ociimage

import (
	"archive/tar"
	"bytes"
	"errors"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/layout"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

func TestMain(m *testing.M) {
	code := m.Run()
	if exeDir != "" {
		os.RemoveAll(exeDir)
	}
	os.Exit(code)
}

// exeDir holds staticExe's executable, removed after the tests.
var exeDir string

// staticExe compiles, once, a small static Go program (CGO_ENABLED=0, as
// micro-gw build compiles gateways) for the image to hold.
var staticExe = sync.OnceValues(func() (string, error) {
	dir, err := os.MkdirTemp("", "ociimage-test-")
	if err != nil {
		return "", err
	}
	exeDir = dir
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nfunc main() { println(\"hello\") }\n"), 0o644); err != nil {
		return "", err
	}
	exe := filepath.Join(dir, "shop")
	cmd := exec.Command("go", "build", "-trimpath", "-o", exe, src)
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0", "GOWORK=off", "GO111MODULE=off")
	if out, err := cmd.CombinedOutput(); err != nil {
		return "", errors.New(string(out))
	}
	return exe, nil
})

func testSpec(t *testing.T) *Spec {
	t.Helper()
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("go not on PATH: cannot compile the test executable")
	}
	exe, err := staticExe()
	if err != nil {
		t.Fatalf("compile the test executable: %v", err)
	}
	ref, err := ParseRef("registry.example.com/team/shop:1.0")
	if err != nil {
		t.Fatal(err)
	}
	return &Spec{
		Ref: ref, Project: "shop", Executable: exe,
		CACerts: []byte("-----BEGIN CERTIFICATE-----\nnot parsed here\n-----END CERTIFICATE-----\n"),
		Ports:   []int{9095, 9090}, Created: time.Unix(1700000000, 0),
	}
}

func writeArchive(t *testing.T, s *Spec) (string, v1.Hash) {
	t.Helper()
	img, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(t.TempDir(), "shop.oci.tar")
	h, err := WriteArchive(dest, img, s)
	if err != nil {
		t.Fatal(err)
	}
	return dest, h
}

// TestSameInputsGiveTheSameImage protects reproducibility: two builds from
// the same inputs give byte-identical archives and the same digest, and
// the creation time is the only time in them.
func TestSameInputsGiveTheSameImage(t *testing.T) {
	s := testSpec(t)
	a, ha := writeArchive(t, s)
	b, hb := writeArchive(t, s)
	if ha != hb {
		t.Fatalf("digests differ: %s, %s", ha, hb)
	}
	da, _ := os.ReadFile(a)
	db, _ := os.ReadFile(b)
	if !bytes.Equal(da, db) {
		t.Fatal("same digest but the archives' bytes differ")
	}
	s.Created = s.Created.Add(time.Second)
	if _, hc := writeArchive(t, s); hc == ha {
		t.Fatal("another SOURCE_DATE_EPOCH gave the same digest: the time does not reach the image")
	}
}

// TestArchiveIsAnOCILayout reads the archive back with go-containerregistry's
// layout reader: one image, named by its reference, with the digest
// WriteArchive returned.
func TestArchiveIsAnOCILayout(t *testing.T) {
	s := testSpec(t)
	dest, h := writeArchive(t, s)
	dir := untar(t, dest)
	idx, err := layout.ImageIndexFromPath(dir)
	if err != nil {
		t.Fatal(err)
	}
	im, err := idx.IndexManifest()
	if err != nil {
		t.Fatal(err)
	}
	if len(im.Manifests) != 1 {
		t.Fatalf("index has %d manifests, want 1", len(im.Manifests))
	}
	d := im.Manifests[0]
	if d.Digest != h || d.MediaType != types.OCIManifestSchema1 {
		t.Errorf("index names %s %s, want %s %s", d.MediaType, d.Digest, types.OCIManifestSchema1, h)
	}
	if got := d.Annotations[RefNameAnnotation]; got != "registry.example.com/team/shop:1.0" {
		t.Errorf("ref.name = %q", got)
	}
	img, err := idx.Image(h)
	if err != nil {
		t.Fatal(err)
	}
	if err := validateLayers(img); err != nil {
		t.Fatal(err)
	}
}

// validateLayers reads every layer of img and checks its digests.
func validateLayers(img v1.Image) error {
	layers, err := img.Layers()
	if err != nil {
		return err
	}
	for _, l := range layers {
		rc, err := l.Compressed()
		if err != nil {
			return err
		}
		h, _, err := v1.SHA256(rc)
		rc.Close()
		if err != nil {
			return err
		}
		if want, _ := l.Digest(); h != want {
			return errors.New("layer " + want.String() + " holds bytes with digest " + h.String())
		}
	}
	return nil
}

// untar extracts a tar of plain files and folders into a new folder.
func untar(t *testing.T, archive string) string {
	t.Helper()
	f, err := os.Open(archive)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	dir := t.TempDir()
	tr := tar.NewReader(f)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return dir
		}
		if err != nil {
			t.Fatal(err)
		}
		p := filepath.Join(dir, filepath.FromSlash(h.Name))
		if h.Typeflag == tar.TypeDir {
			if err := os.MkdirAll(p, 0o755); err != nil {
				t.Fatal(err)
			}
			continue
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

// entry is a tar entry as the tests compare them.
type entry struct {
	name     string
	mode     int64
	uid, gid int
	mtime    time.Time
	data     string
}

func tarEntries(t *testing.T, r io.Reader) []entry {
	t.Helper()
	var out []entry
	tr := tar.NewReader(r)
	for {
		h, err := tr.Next()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		data, _ := io.ReadAll(tr)
		out = append(out, entry{h.Name, h.Mode, h.Uid, h.Gid, h.ModTime, string(data)})
	}
}

// TestImageRunsTheExecutableAsNonRoot protects the image's contract: the
// entrypoint is the executable, the user is 65532:65532 (named in
// /etc/passwd), the ports are exposed, the CA bundle is where Go looks, and
// every layer entry is owned by 0:0, sorted, and dated Created.
func TestImageRunsTheExecutableAsNonRoot(t *testing.T) {
	s := testSpec(t)
	img, err := Build(s)
	if err != nil {
		t.Fatal(err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		t.Fatal(err)
	}
	c := cf.Config
	if !slices.Equal(c.Entrypoint, []string{"/usr/local/bin/shop"}) || c.User != "65532:65532" || c.WorkingDir != "/home/nonroot" || len(c.Cmd) != 0 {
		t.Errorf("config: entrypoint %q, cmd %q, user %q, workdir %q", c.Entrypoint, c.Cmd, c.User, c.WorkingDir)
	}
	if _, ok := c.ExposedPorts["9090/tcp"]; !ok || len(c.ExposedPorts) != 2 {
		t.Errorf("exposed ports %v, want 9090/tcp and 9095/tcp", c.ExposedPorts)
	}
	if c.Labels["org.opencontainers.image.title"] != "shop" || c.Labels["org.opencontainers.image.version"] != "1.0" {
		t.Errorf("labels %v", c.Labels)
	}
	if cf.OS != "linux" || cf.Architecture == "" || !cf.Created.Time.Equal(s.Created) {
		t.Errorf("os %q, architecture %q, created %v", cf.OS, cf.Architecture, cf.Created)
	}

	files := map[string]entry{}
	layers, err := img.Layers()
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range layers {
		rc, err := l.Uncompressed()
		if err != nil {
			t.Fatal(err)
		}
		es := tarEntries(t, rc)
		rc.Close()
		var names []string
		for _, e := range es {
			names = append(names, e.name)
			files[strings.TrimSuffix(e.name, "/")] = e
			if e.uid != 0 || e.gid != 0 || !e.mtime.Equal(s.Created) {
				t.Errorf("%s: owner %d:%d, time %v; want 0:0 and %v", e.name, e.uid, e.gid, e.mtime, s.Created)
			}
		}
		if !slices.IsSorted(names) {
			t.Errorf("layer entries not sorted: %q", names)
		}
	}
	exe, _ := os.ReadFile(s.Executable)
	if e := files["usr/local/bin/shop"]; e.data != string(exe) || e.mode != 0o755 {
		t.Errorf("executable: mode %o, %d bytes; want 0755 and %d bytes", e.mode, len(e.data), len(exe))
	}
	if e := files["etc/ssl/certs/ca-certificates.crt"]; e.data != string(s.CACerts) {
		t.Errorf("CA bundle = %q", e.data)
	}
	if e := files["etc/passwd"]; !strings.Contains(e.data, "\nnonroot:x:65532:65532:nonroot:/home/nonroot:") {
		t.Errorf("/etc/passwd = %q", e.data)
	}
	if _, ok := files["home/nonroot"]; !ok {
		t.Error("no /home/nonroot")
	}
}

// TestDockerfileDescribesTheSameImage keeps the Dockerfile and rootfs/ in
// step with the archive: the same user, working directory, ports, labels
// and entrypoint, and rootfs/ holds the base layer's files with its modes.
func TestDockerfileDescribesTheSameImage(t *testing.T) {
	s := testSpec(t)
	dir := t.TempDir()
	if err := WriteDockerContext(dir, s); err != nil {
		t.Fatal(err)
	}
	df, err := os.ReadFile(filepath.Join(dir, "Dockerfile"))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"\nFROM scratch\n", "\nCOPY rootfs/ /\n", "\nCOPY --chmod=0755 shop /usr/local/bin/shop\n",
		"\nUSER 65532:65532\n", "\nWORKDIR /home/nonroot\n", "\nEXPOSE 9090/tcp 9095/tcp\n",
		"\nLABEL org.opencontainers.image.title=\"shop\"\n", "\nLABEL org.opencontainers.image.version=\"1.0\"\n",
		"\nENTRYPOINT [\"/usr/local/bin/shop\"]\n",
	} {
		if !strings.Contains(string(df), want) {
			t.Errorf("Dockerfile lacks %q:\n%s", want, df)
		}
	}
	base := s.baseFiles()
	var got []string
	root := filepath.Join(dir, RootFSDir)
	err = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil || p == root {
			return err
		}
		rel, _ := filepath.Rel(root, p)
		got = append(got, filepath.ToSlash(rel))
		fi, err := d.Info()
		if err != nil {
			return err
		}
		i := slices.IndexFunc(base, func(f file) bool { return f.name == filepath.ToSlash(rel) })
		if i < 0 {
			return nil
		}
		if fi.Mode().Perm() != fs.FileMode(base[i].mode) {
			t.Errorf("rootfs/%s: mode %v, the image has %o", rel, fi.Mode().Perm(), base[i].mode)
		}
		if !d.IsDir() {
			data, _ := os.ReadFile(p)
			if !bytes.Equal(data, base[i].data) {
				t.Errorf("rootfs/%s differs from the image's", rel)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var want []string
	for _, f := range base {
		want = append(want, f.name)
	}
	if !slices.Equal(got, want) {
		t.Errorf("rootfs holds %q, the base layer %q", got, want)
	}
	ignore, _ := os.ReadFile(filepath.Join(dir, ".dockerignore"))
	if !strings.Contains(string(ignore), "\n*\n") || !strings.Contains(string(ignore), "\n!shop\n") {
		t.Errorf(".dockerignore = %q", ignore)
	}
}

// TestFailedWriteKeepsThePreviousArchive protects the atomic write: an
// image whose layer cannot be read halfway through leaves the previous
// archive as it was and no temporary file.
func TestFailedWriteKeepsThePreviousArchive(t *testing.T) {
	s := testSpec(t)
	dest, _ := writeArchive(t, s)
	before, _ := os.ReadFile(dest)

	// A layer whose content fails after 1 MB: what a disk error or the
	// executable vanishing mid-read looks like to the writer.
	broken := &failingLayer{size: 4 << 20}
	img, err := mutate.AppendLayers(mutate.MediaType(empty.Image, types.OCIManifestSchema1), broken)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := WriteArchive(dest, img, s); err == nil || !strings.Contains(err.Error(), dest) {
		t.Fatalf("WriteArchive with a failing layer: %v; want an error naming %s", err, dest)
	}
	after, _ := os.ReadFile(dest)
	if !bytes.Equal(before, after) {
		t.Error("the failed write changed the previous archive")
	}
	entries, _ := os.ReadDir(filepath.Dir(dest))
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Errorf("folder holds %q after the failed write; want only the archive", names)
	}
}

// failingLayer is a layer whose descriptor is fine and whose content
// fails after 1 MB.
type failingLayer struct{ size int64 }

func (l *failingLayer) Digest() (v1.Hash, error) {
	return v1.NewHash("sha256:" + strings.Repeat("ab", 32))
}
func (l *failingLayer) DiffID() (v1.Hash, error)             { return l.Digest() }
func (l *failingLayer) Size() (int64, error)                 { return l.size, nil }
func (l *failingLayer) MediaType() (types.MediaType, error)  { return types.OCILayer, nil }
func (l *failingLayer) Uncompressed() (io.ReadCloser, error) { return l.Compressed() }
func (l *failingLayer) Compressed() (io.ReadCloser, error) {
	return io.NopCloser(io.MultiReader(io.LimitReader(zeros{}, 1<<20), errReader{})), nil
}

type zeros struct{}

func (zeros) Read(p []byte) (int, error) { clear(p); return len(p), nil }

type errReader struct{}

func (errReader) Read([]byte) (int, error) { return 0, errors.New("input/output error") }

// TestBadImageReferenceNamesTheFlag protects --image's checks: every
// rejected value is named with --image and the form to write.
func TestBadImageReferenceNamesTheFlag(t *testing.T) {
	for _, ok := range []string{"shop:1.0", "registry.example.com/team/shop:v1.2.3", "localhost:5000/shop:latest"} {
		if _, err := ParseRef(ok); err != nil {
			t.Errorf("ParseRef(%q): %v", ok, err)
		}
	}
	for bad, why := range map[string]string{
		"":                    "is empty",
		"Shop:1.0":            "is not an image name",
		"shop":                "has no tag",
		"localhost:5000/shop": "has no tag",
		"shop:":               "is not an image name",
		"shop:1.0@sha256:" + strings.Repeat("a", 64): "has a digest",
		"shop:bad tag": "is not an image name",
	} {
		_, err := ParseRef(bad)
		if err == nil || !strings.Contains(err.Error(), "--image") || !strings.Contains(err.Error(), why) || !strings.Contains(err.Error(), "name:tag") {
			t.Errorf("ParseRef(%q) = %v; want an error naming --image, %q and name:tag", bad, err, why)
		}
	}
}

// TestCreatedFromEnvReadsSourceDateEpoch protects the one time in the
// image: SOURCE_DATE_EPOCH when set, the epoch otherwise, and a clear
// error for a value that is not seconds.
func TestCreatedFromEnvReadsSourceDateEpoch(t *testing.T) {
	env := func(v string, ok bool) func(string) (string, bool) {
		return func(k string) (string, bool) {
			if k != "SOURCE_DATE_EPOCH" {
				return "", false
			}
			return v, ok
		}
	}
	if got, err := CreatedFromEnv(env("", false)); err != nil || !got.Equal(time.Unix(0, 0)) {
		t.Errorf("unset: %v, %v", got, err)
	}
	if got, err := CreatedFromEnv(env("1700000000", true)); err != nil || !got.Equal(time.Unix(1700000000, 0)) {
		t.Errorf("1700000000: %v, %v", got, err)
	}
	if _, err := CreatedFromEnv(env("yesterday", true)); err == nil || !strings.Contains(err.Error(), "SOURCE_DATE_EPOCH") {
		t.Errorf("yesterday: %v", err)
	}
}

// TestMissingCABundleNamesThePackage protects the CA bundle's error: with
// no system bundle the message says what to install, and a file that holds
// no certificate is refused with its name.
func TestMissingCABundleNamesThePackage(t *testing.T) {
	noEnv := func(string) (string, bool) { return "", false }
	saved := caBundles
	t.Cleanup(func() { caBundles = saved })
	caBundles = []string{filepath.Join(t.TempDir(), "none.crt")}
	if _, _, err := SystemCACerts(noEnv); err == nil || !strings.Contains(err.Error(), "install the ca-certificates package") {
		t.Errorf("no bundle: %v", err)
	}
	notPEM := filepath.Join(t.TempDir(), "bundle.crt")
	os.WriteFile(notPEM, []byte("hello"), 0o644)
	env := func(k string) (string, bool) { return notPEM, k == "SSL_CERT_FILE" }
	if _, _, err := SystemCACerts(env); err == nil || !strings.Contains(err.Error(), "SSL_CERT_FILE="+notPEM) || !strings.Contains(err.Error(), "no PEM certificate") {
		t.Errorf("SSL_CERT_FILE without certificates: %v", err)
	}
}

// TestDynamicExecutableIsRefused protects the empty base: an executable
// that needs a C library, or that is not Linux's, is refused with what to
// do rather than packaged into an image where it cannot start.
func TestDynamicExecutableIsRefused(t *testing.T) {
	dyn := "/bin/ls"
	if _, err := os.Stat(dyn); err != nil {
		t.Skip("no /bin/ls, a dynamically linked executable, on this machine")
	}
	if _, err := CheckStatic(dyn); err == nil || !strings.Contains(err.Error(), "CGO_ENABLED=0") {
		t.Errorf("CheckStatic(%s) = %v; want an error naming CGO_ENABLED=0", dyn, err)
	}
	script := filepath.Join(t.TempDir(), "gateway")
	os.WriteFile(script, []byte("#!/bin/sh\n"), 0o755)
	if _, err := CheckStatic(script); err == nil || !strings.Contains(err.Error(), "not a Linux executable") {
		t.Errorf("CheckStatic(script) = %v", err)
	}
}
