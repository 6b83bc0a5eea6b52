package endpoint

import (
	"strings"
	"testing"
)

// TestParseRejectsImpossiblePorts: url.Parse takes any digits as a port;
// Parse, the one rule of the build and of etcd values, accepts 1 to 65535.
func TestParseRejectsImpossiblePorts(t *testing.T) {
	for bad, want := range map[string]string{
		"http://127.0.0.1:99999/v2": `port "99999"`,
		"http://127.0.0.1:0/v2":     `port "0"`,
		"http://127.0.0.1:65536/v2": `port "65536"`,
		"https://backend:00000/":    `port "00000"`,
		"http://127.0.0.1:/v2":      `port ""`,
		"http://[::1]:70000/v2":     `port "70000"`,
		"http://:8080/v2":           "no host",
	} {
		_, err := Parse(bad)
		if err == nil || !strings.Contains(err.Error(), want) || !strings.Contains(err.Error(), bad) {
			t.Errorf("Parse(%q): error %v, want one naming the URL and %s", bad, err, want)
		}
	}
	for _, good := range []string{
		"http://127.0.0.1:1/v2",
		"http://127.0.0.1:65535/v2",
		"http://127.0.0.1/v2",
		"https://[::1]:8443",
		"http://backend:08080/v2",
	} {
		if _, err := Parse(good); err != nil {
			t.Errorf("Parse(%q): %v", good, err)
		}
	}
}

// TestParseErrorsNeverShowPassword: a URL carrying a password is refused
// with an error that names the URL without the password, whatever else is
// wrong with it.
func TestParseErrorsNeverShowPassword(t *testing.T) {
	for _, bad := range []string{
		"http://u:secret@backend/v2",
		"http://u:secret@backend:99999/v2",
		"ftp://u:secret@backend/v2",
		"http://u:secret@back end/v2",
		"http://u:secret@backend/v2?q=1",
		"http://secret@backend/v2",
	} {
		_, err := Parse(bad)
		if err == nil {
			t.Fatalf("Parse(%q) accepted it", bad)
		}
		if strings.Contains(err.Error(), "secret") || !strings.Contains(err.Error(), "xxxxx@") {
			t.Errorf("Parse(%q): error %q shows the password or no redacted URL", bad, err)
		}
	}
}

func TestRedact(t *testing.T) {
	for in, want := range map[string]string{
		"http://u:p@backend/v2":          "http://u:xxxxx@backend/v2",
		"http://u:p@backend":             "http://u:xxxxx@backend",
		"https://u:p:q@h:1/x?y=@z":       "https://u:xxxxx@h:1/x?y=@z",
		"http://token@backend/v2":        "http://xxxxx@backend/v2",
		"http://u:p@ba ck/v2":            "http://u:xxxxx@ba ck/v2",
		"http://a@b:p@h/":                "http://a@b:xxxxx@h/",
		"http://backend/v2?email=a@b":    "http://backend/v2?email=a@b",
		"http://backend/v2":              "http://backend/v2",
		"not a url":                      "not a url",
		"etcd(k, http://u:p@backend/v2)": "etcd(k, http://u:xxxxx@backend/v2)",
	} {
		if got := Redact(in); got != want {
			t.Errorf("Redact(%q) = %q, want %q", in, got, want)
		}
	}
}

// TestCredentialsNeverShownForMalformedURLs: values a careless operator
// writes with a password, without a scheme or with an unescaped '/', '?'
// or '#' in the password, are not URLs a parser splits where the password
// ends; neither Redact nor Parse's error may show the password.
func TestCredentialsNeverShownForMalformedURLs(t *testing.T) {
	for _, tt := range []struct{ in, secret, want string }{
		{"admin:hunter2@127.0.0.1:2379", "hunter2", "admin:xxxxx@127.0.0.1:2379"},
		{"admin:hunter2@backend/v2", "hunter2", "admin:xxxxx@backend/v2"},
		{"http://admin:hun/ter2@backend:8080/v2", "hun", "http://admin:xxxxx@backend:8080/v2"},
		{"https://svc:AbC/dE+f==@backend/v2", "AbC", "https://svc:xxxxx@backend/v2"},
		{"http://u:s3Q?zz@backend/v2", "s3Q", "http://u:xxxxx@backend/v2"},
		{"http://u:s3Q#zz@backend/v2", "s3Q", "http://u:xxxxx@backend/v2"},
		{`malformed etcd entry "etcd(k, admin:hunter2@backend)"`, "hunter2", `malformed etcd entry "etcd(k, admin:xxxxx@backend)"`},
	} {
		if got := Redact(tt.in); got != tt.want || strings.Contains(got, tt.secret) {
			t.Errorf("Redact(%q) = %q, want %q", tt.in, got, tt.want)
		}
		if _, err := Parse(tt.in); err == nil || strings.Contains(err.Error(), tt.secret) {
			t.Errorf("Parse(%q): error %v, want one that does not show %q", tt.in, err, tt.secret)
		}
	}
	// Valid URLs with an '@' or a port outside the user information are
	// left as they are.
	for _, s := range []string{"http://backend:8080/v2?email=a@b", "http://backend/a@b", "http://backend:8080/a@b"} {
		if got := Redact(s); got != s {
			t.Errorf("Redact(%q) = %q, want it unchanged", s, got)
		}
	}
}
