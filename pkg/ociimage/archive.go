package ociimage

import (
	"archive/tar"
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"sort"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
)

// RefNameAnnotation names the image in an OCI layout's index.json; skopeo's
// oci-archive:<file>:<ref> and podman load read it.
const RefNameAnnotation = "org.opencontainers.image.ref.name"

// containerdNameAnnotation is the full name containerd's import reads.
const containerdNameAnnotation = "io.containerd.image.name"

// Index is the OCI image layout's index.json for img: one manifest, named
// by its reference.
func Index(img v1.Image, s *Spec) (v1.ImageIndex, error) {
	cf, err := img.ConfigFile()
	if err != nil {
		return nil, err
	}
	return mutate.AppendManifests(empty.Index, mutate.IndexAddendum{
		Add: img,
		Descriptor: v1.Descriptor{
			Annotations: map[string]string{RefNameAnnotation: s.Ref.String(), containerdNameAnnotation: s.Ref.Name()},
			Platform:    &v1.Platform{OS: cf.OS, Architecture: cf.Architecture},
		},
	}), nil
}

// WriteArchive writes img as an OCI image-layout tar at dest and returns the
// image's manifest digest. It writes a temporary file beside dest and
// renames it into place only once complete, so a failure leaves whatever
// dest held before and no partial archive.
func WriteArchive(dest string, img v1.Image, s *Spec) (v1.Hash, error) {
	digest, err := img.Digest()
	if err != nil {
		return v1.Hash{}, fmt.Errorf("compute the image digest: %w", err)
	}
	idx, err := Index(img, s)
	if err != nil {
		return v1.Hash{}, fmt.Errorf("index the image: %w", err)
	}
	err = writeAtomic(dest, 0o644, func(w io.Writer) error { return writeLayout(w, idx, img, s.Created) })
	if err != nil {
		return v1.Hash{}, err
	}
	return digest, nil
}

// writeAtomic writes dest through write into a temporary file in dest's
// folder, then renames it over dest, with mode.
func writeAtomic(dest string, mode os.FileMode, write func(io.Writer) error) error {
	tmp, err := os.CreateTemp(filepath.Dir(dest), "."+filepath.Base(dest)+".tmp-*")
	if err != nil {
		return fmt.Errorf("create %s: %w", dest, err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := write(tmp); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", dest, err)
	}
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("write %s: %w", dest, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("write %s: %w", dest, err)
	}
	if err := os.Rename(tmp.Name(), dest); err != nil {
		return fmt.Errorf("install %s: %w", dest, err)
	}
	return nil
}

// blob is one file under blobs/sha256/.
type blob struct {
	hash v1.Hash
	open func() (io.ReadCloser, error)
	size int64
}

// writeLayout writes the OCI image layout of idx (holding img) as a tar:
// oci-layout, index.json and blobs/sha256/<hex> for the manifest, the
// config and each layer, sorted by digest, every entry 0:0, 0644 or 0755,
// modified at created.
func writeLayout(w io.Writer, idx v1.ImageIndex, img v1.Image, created time.Time) error {
	rawIndex, err := idx.RawManifest()
	if err != nil {
		return err
	}
	blobs, err := imageBlobs(img)
	if err != nil {
		return err
	}
	created = created.UTC().Truncate(time.Second)
	tw := tar.NewWriter(w)
	header := func(name string, mode, size int64, typ byte) *tar.Header {
		return &tar.Header{Name: name, Mode: mode, Size: size, Typeflag: typ, ModTime: created, Format: tar.FormatPAX}
	}
	small := func(name string, data []byte) error {
		if err := tw.WriteHeader(header(name, 0o644, int64(len(data)), tar.TypeReg)); err != nil {
			return err
		}
		_, err := tw.Write(data)
		return err
	}
	if err := small("oci-layout", []byte(`{"imageLayoutVersion":"1.0.0"}`)); err != nil {
		return err
	}
	if err := small("index.json", rawIndex); err != nil {
		return err
	}
	for _, d := range []string{"blobs/", "blobs/sha256/"} {
		if err := tw.WriteHeader(header(d, 0o755, 0, tar.TypeDir)); err != nil {
			return err
		}
	}
	for _, b := range blobs {
		if err := writeBlob(tw, header("blobs/"+b.hash.Algorithm+"/"+b.hash.Hex, 0o644, b.size, tar.TypeReg), b); err != nil {
			return err
		}
	}
	return tw.Close()
}

// writeBlob copies one blob into the tar and checks that it was the size
// the manifest says.
func writeBlob(tw *tar.Writer, h *tar.Header, b blob) error {
	rc, err := b.open()
	if err != nil {
		return fmt.Errorf("read blob %s: %w", b.hash, err)
	}
	defer rc.Close()
	if err := tw.WriteHeader(h); err != nil {
		return err
	}
	n, err := io.Copy(tw, rc)
	if err != nil {
		return fmt.Errorf("read blob %s: %w", b.hash, err)
	}
	if n != b.size {
		return fmt.Errorf("blob %s has %d bytes, its descriptor says %d", b.hash, n, b.size)
	}
	return nil
}

// imageBlobs lists img's manifest, config and layers, sorted by digest.
func imageBlobs(img v1.Image) ([]blob, error) {
	rawManifest, err := img.RawManifest()
	if err != nil {
		return nil, err
	}
	rawConfig, err := img.RawConfigFile()
	if err != nil {
		return nil, err
	}
	mh, _, err := v1.SHA256(bytes.NewReader(rawManifest))
	if err != nil {
		return nil, err
	}
	ch, err := img.ConfigName()
	if err != nil {
		return nil, err
	}
	blobs := []blob{inMemory(mh, rawManifest), inMemory(ch, rawConfig)}
	layers, err := img.Layers()
	if err != nil {
		return nil, err
	}
	for _, l := range layers {
		h, err := l.Digest()
		if err != nil {
			return nil, err
		}
		size, err := l.Size()
		if err != nil {
			return nil, err
		}
		blobs = append(blobs, blob{hash: h, open: l.Compressed, size: size})
	}
	sort.Slice(blobs, func(i, j int) bool { return blobs[i].hash.String() < blobs[j].hash.String() })
	return dedup(blobs), nil
}

func inMemory(h v1.Hash, data []byte) blob {
	return blob{hash: h, size: int64(len(data)), open: func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(data)), nil }}
}

// dedup drops repeated blobs (two identical layers) from a sorted list.
func dedup(blobs []blob) []blob {
	out := blobs[:0]
	for i, b := range blobs {
		if i > 0 && b.hash == blobs[i-1].hash {
			continue
		}
		out = append(out, b)
	}
	return out
}
