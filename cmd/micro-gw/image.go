package main

import (
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strconv"

	"github.com/micro-gw/micro-gw/pkg/gateway"
	"github.com/micro-gw/micro-gw/pkg/ociimage"
	"github.com/micro-gw/micro-gw/pkg/project"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// imagePlan is what --image needs besides the executable, gathered before
// the compile so that a missing CA bundle or a bad SOURCE_DATE_EPOCH fails
// the build before it spends a minute compiling.
type imagePlan struct {
	spec   ociimage.Spec
	caFrom string // where the CA bundle came from, for the output
}

// planImage checks --image's value and reads the CA bundle and the
// creation time from the environment.
func planImage(ref string, lookupEnv func(string) (string, bool)) (*imagePlan, error) {
	tag, err := ociimage.ParseRef(ref)
	if err != nil {
		return nil, usageError{err}
	}
	created, err := ociimage.CreatedFromEnv(lookupEnv)
	if err != nil {
		return nil, err
	}
	certs, from, err := ociimage.SystemCACerts(lookupEnv)
	if err != nil {
		return nil, err
	}
	return &imagePlan{spec: ociimage.Spec{Ref: tag, CACerts: certs, Created: created}, caFrom: from}, nil
}

// imageResult is what writeImage wrote.
type imageResult struct {
	archive, dockerfile string
	digest              string
	size                int64
}

// writeImage packages the executable as target/<project>.oci.tar and
// writes target/Dockerfile (with rootfs/ and .dockerignore) describing the
// same image. The ports are those the gateway listens on with the
// project's settings; warn receives what makes the image unreachable.
func writeImage(plan *imagePlan, p *project.Project, g *spec.Gateway, exe string, warn io.Writer) (*imageResult, error) {
	s := plan.spec
	s.Project, s.Executable = p.Name, exe
	ports, err := exposedPorts(g.Settings, warn)
	if err != nil {
		return nil, err
	}
	s.Ports = ports
	img, err := ociimage.Build(&s)
	if err != nil {
		return nil, err
	}
	archive := filepath.Join(p.TargetPath(), p.Name+".oci.tar")
	digest, err := ociimage.WriteArchive(archive, img, &s)
	if err != nil {
		return nil, err
	}
	if err := ociimage.WriteDockerContext(p.TargetPath(), &s); err != nil {
		return nil, fmt.Errorf("write the Dockerfile in %s: %w", p.TargetPath(), err)
	}
	fi, err := os.Stat(archive)
	if err != nil {
		return nil, err
	}
	return &imageResult{archive: archive, dockerfile: filepath.Join(p.TargetPath(), "Dockerfile"), digest: digest.String(), size: fi.Size()}, nil
}

// exposedPorts are the TCP ports the image exposes: the HTTP and HTTPS
// listeners' ports with the project's settings (9090 and 9095 unless
// conf/gateway.conf changes them), and the admin port only when
// admin-bind is not loopback (by default it is: run with
// -e admin-bind=0.0.0.0 to reach /health from outside). An HTTP or HTTPS
// listener bound to loopback cannot be reached from outside a container,
// so that gets a warning; its port is exposed for when -e bind= is set.
func exposedPorts(settings map[string]string, warn io.Writer) ([]int, error) {
	noEnv := func(string) (string, bool) { return "", false }
	cfg, err := gateway.ParseConfig(settings, nil, noEnv, io.Discard)
	if err != nil {
		return nil, err
	}
	var ports []int
	for _, l := range []struct{ name, addr string }{{"http", cfg.HTTPAddr}, {"https", cfg.HTTPSAddr}, {"admin", cfg.AdminAddr}} {
		if l.addr == "" {
			continue
		}
		host, port, err := net.SplitHostPort(l.addr)
		if err != nil {
			return nil, err
		}
		n, err := strconv.Atoi(port)
		if err != nil {
			return nil, err
		}
		loopback := host == "localhost" || net.ParseIP(host).IsLoopback()
		switch {
		case l.name == "admin" && loopback:
			continue // the default: the admin listener stays inside the container
		case loopback:
			fmt.Fprintf(warn, "warning: the %s listener binds %s (conf/gateway.conf bind), unreachable from outside a container; run the image with -e bind= to listen on all interfaces\n", l.name, host)
		}
		ports = append(ports, n)
	}
	return ports, nil
}

// roundSize formats a byte count in MB for the output.
func roundSize(n int64) string { return fmt.Sprintf("%.1f MB", float64(n)/(1<<20)) }
