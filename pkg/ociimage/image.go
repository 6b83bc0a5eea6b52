package ociimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path"
	"sort"
	"strconv"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/google/go-containerregistry/pkg/v1/types"
)

// The user the gateway runs as: not root, and the same uid and name as the
// distroless "nonroot" user, so that policies written for those images
// (runAsNonRoot, runAsUser: 65532) fit this one too.
const (
	UID      = 65532
	UserName = "nonroot"
	// User is the image config's User, numeric so that Kubernetes'
	// runAsNonRoot can check it without reading /etc/passwd.
	User = "65532:65532"
	// Home is the user's home folder and the image's working directory.
	Home = "/home/nonroot"
	// CACertsPath is where the CA bundle goes: the first place Go's
	// crypto/x509 looks on Linux, so no SSL_CERT_FILE is needed.
	CACertsPath = "/etc/ssl/certs/ca-certificates.crt"
	// BinDir holds the executable.
	BinDir = "/usr/local/bin"
)

// Spec is everything an image is made of. Equal specs give equal images.
type Spec struct {
	// Ref is the image's name and tag (--image), validated by ParseRef.
	Ref name.Tag
	// Project names the executable inside the image and is its title label.
	Project string
	// Executable is the static Linux executable micro-gw build wrote.
	Executable string
	// CACerts is the PEM CA bundle (see SystemCACerts).
	CACerts []byte
	// Ports are the TCP ports the gateway listens on (see ExposedPorts).
	Ports []int
	// Created is the only time in the image (see CreatedFromEnv).
	Created time.Time
}

// Entrypoint is the path of the executable inside the image.
func (s *Spec) Entrypoint() string { return path.Join(BinDir, s.Project) }

// Labels are the image's OCI annotations-as-labels: its title (the
// project) and its version (the tag).
func (s *Spec) Labels() map[string]string {
	return map[string]string{
		"org.opencontainers.image.title":   s.Project,
		"org.opencontainers.image.version": s.Ref.TagStr(),
	}
}

// file is one entry of a layer: a directory when data is nil and dir is set.
type file struct {
	name string // relative, slash-separated, no leading "/"
	mode int64
	dir  bool
	data []byte
}

// baseFiles are the operating-system files: /etc/passwd and /etc/group
// naming root and the non-root user, the CA bundle and the home folder.
// RootFS writes the same files for the Dockerfile.
func (s *Spec) baseFiles() []file {
	passwd := fmt.Sprintf("root:x:0:0:root:/root:/sbin/nologin\n%s:x:%d:%d:%s:%s:/sbin/nologin\n", UserName, UID, UID, UserName, Home)
	group := fmt.Sprintf("root:x:0:\n%s:x:%d:\n", UserName, UID)
	return withParents([]file{
		{name: "etc/passwd", mode: 0o644, data: []byte(passwd)},
		{name: "etc/group", mode: 0o644, data: []byte(group)},
		{name: CACertsPath[1:], mode: 0o644, data: s.CACerts},
		{name: Home[1:], mode: 0o755, dir: true},
	})
}

// withParents adds the parent directories of files (mode 0755) and sorts
// the result by name, so that a layer lists every directory before what it
// holds and always in the same order.
func withParents(files []file) []file {
	seen := map[string]bool{}
	for _, f := range files {
		seen[f.name] = true
	}
	all := files
	for _, f := range files {
		for d := path.Dir(f.name); d != "." && !seen[d]; d = path.Dir(d) {
			seen[d] = true
			all = append(all, file{name: d, mode: 0o755, dir: true})
		}
	}
	sort.Slice(all, func(i, j int) bool { return all[i].name < all[j].name })
	return all
}

// layerTar writes files as an uncompressed layer: owner 0:0, the given
// modes, every time Created, no user or group names, in files' order.
func layerTar(files []file, created time.Time) ([]byte, error) {
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, f := range files {
		h := &tar.Header{Name: f.name, Mode: f.mode, ModTime: created, Format: tar.FormatPAX}
		if f.dir {
			h.Typeflag, h.Name = tar.TypeDir, f.name+"/"
		} else {
			h.Typeflag, h.Size = tar.TypeReg, int64(len(f.data))
		}
		if err := tw.WriteHeader(h); err != nil {
			return nil, err
		}
		if _, err := tw.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// layer makes a gzip-compressed OCI layer of files. The compressed bytes are
// cached: the digest and the archive read them more than once, and gzip of
// the executable is the slow part.
func layer(files []file, created time.Time) (v1.Layer, error) {
	data, err := layerTar(files, created)
	if err != nil {
		return nil, err
	}
	open := func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }
	return tarball.LayerFromOpener(open, tarball.WithMediaType(types.OCILayer), tarball.WithCompressedCaching)
}

// Build assembles the image: two layers, the base files and the
// executable, so that registries share the first between projects, and a
// config that runs the executable as the non-root user.
func Build(s *Spec) (v1.Image, error) {
	arch, err := CheckStatic(s.Executable)
	if err != nil {
		return nil, err
	}
	exe, err := os.ReadFile(s.Executable)
	if err != nil {
		return nil, fmt.Errorf("read the executable for the image: %w", err)
	}
	created := s.Created.UTC().Truncate(time.Second)
	base, err := layer(s.baseFiles(), created)
	if err != nil {
		return nil, fmt.Errorf("build the image's base layer: %w", err)
	}
	app, err := layer(withParents([]file{{name: s.Entrypoint()[1:], mode: 0o755, data: exe}}), created)
	if err != nil {
		return nil, fmt.Errorf("build the image's executable layer: %w", err)
	}
	img := mutate.MediaType(empty.Image, types.OCIManifestSchema1)
	img = mutate.ConfigMediaType(img, types.OCIConfigJSON)
	img, err = mutate.Append(img,
		mutate.Addendum{Layer: base, MediaType: types.OCILayer, History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "micro-gw build --image: /etc/passwd, /etc/group, " + CACertsPath + ", " + Home, Comment: "base files"}},
		mutate.Addendum{Layer: app, MediaType: types.OCILayer, History: v1.History{Created: v1.Time{Time: created}, CreatedBy: "micro-gw build --image: " + s.Entrypoint(), Comment: "gateway executable"}},
	)
	if err != nil {
		return nil, fmt.Errorf("assemble the image: %w", err)
	}
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, fmt.Errorf("assemble the image: %w", err)
	}
	cf = cf.DeepCopy()
	cf.Architecture, cf.OS, cf.Created = arch, "linux", v1.Time{Time: created}
	cf.Config = v1.Config{
		Entrypoint:   []string{s.Entrypoint()},
		User:         User,
		WorkingDir:   Home,
		ExposedPorts: exposed(s.Ports),
		Labels:       s.Labels(),
	}
	img, err = mutate.ConfigFile(img, cf)
	if err != nil {
		return nil, fmt.Errorf("assemble the image: %w", err)
	}
	return img, nil
}

// exposed turns ports into the config's ExposedPorts set ("9090/tcp").
func exposed(ports []int) map[string]struct{} {
	if len(ports) == 0 {
		return nil
	}
	m := make(map[string]struct{}, len(ports))
	for _, p := range ports {
		m[strconv.Itoa(p)+"/tcp"] = struct{}{}
	}
	return m
}
