// Package ociimage packages a compiled gateway as an OCI container image,
// written as an OCI image-layout archive (target/<project>.oci.tar) that
// skopeo, podman load and docker load read, with no container engine or
// daemon involved: the image is assembled with go-containerregistry, as ko
// does.
//
// The image is the static executable on an empty base (scratch) plus the
// few files a static Go program needs from an operating system: the CA
// certificate bundle (for https:// backends, etcd and JWKS URLs) and an
// /etc/passwd naming the non-root user it runs as (uid 65532, "nonroot", as
// the distroless images). The entrypoint is the executable, so settings
// come from environment variables (-e etcdurl=...) exactly as in micro-gw
// 3.x's docker run line.
//
// The archive is reproducible: the same executable, CA bundle, reference and
// creation time give the same bytes and so the same image digest. Every
// time in it is Spec.Created (SOURCE_DATE_EPOCH, or the Unix epoch), tar
// entries are sorted and owned by 0:0 with fixed modes, and nothing random
// (no ids, no host names, no host file times) enters it.
//
// Dockerfile and RootFS describe the same image for teams that build their
// own: FROM scratch, the same files, user, ports and entrypoint.
package ociimage
