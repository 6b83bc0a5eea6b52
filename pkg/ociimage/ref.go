package ociimage

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/google/go-containerregistry/pkg/name"
)

// ParseRef checks --image's value: a repository and an explicit tag
// ("shop:1.0", "registry.example.com/team/shop:1.0"), by the registries'
// grammar (go-containerregistry's name.NewTag). The tag is required: an
// image silently tagged "latest" is one nobody can tell apart from the next.
func ParseRef(s string) (name.Tag, error) {
	const want = "write it as name:tag, e.g. --image shop:1.0 or --image registry.example.com/team/shop:1.0"
	if s == "" {
		return name.Tag{}, fmt.Errorf("--image is empty; %s", want)
	}
	if strings.Contains(s, "@") {
		return name.Tag{}, fmt.Errorf("--image %q has a digest; the digest is the image's own result, not an input: %s", s, want)
	}
	t, err := name.NewTag(s)
	if err != nil {
		return name.Tag{}, fmt.Errorf("--image %q is not an image name: %v; %s (lower-case repository)", s, err, want)
	}
	if !hasTag(s) {
		return name.Tag{}, fmt.Errorf("--image %q has no tag; %s", s, want)
	}
	return t, nil
}

// hasTag reports whether s ends in ":tag" (a colon in the last path
// element; one in the first is a registry port).
func hasTag(s string) bool {
	last := s[strings.LastIndex(s, "/")+1:]
	return strings.Contains(last, ":")
}

// CreatedFromEnv is the image's creation time: SOURCE_DATE_EPOCH (seconds
// since the Unix epoch, the reproducible-builds.org convention) when set,
// else the epoch itself, so that the time of the build never makes two
// images differ.
func CreatedFromEnv(lookupEnv func(string) (string, bool)) (time.Time, error) {
	v, ok := lookupEnv("SOURCE_DATE_EPOCH")
	if !ok || v == "" {
		return time.Unix(0, 0).UTC(), nil
	}
	sec, err := strconv.ParseInt(v, 10, 64)
	if err != nil || sec < 0 {
		return time.Time{}, fmt.Errorf("environment variable SOURCE_DATE_EPOCH=%q is not a number of seconds since 1970-01-01; set it to e.g. $(git log -1 --format=%%ct) or unset it", v)
	}
	return time.Unix(sec, 0).UTC(), nil
}
