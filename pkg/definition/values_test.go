package definition

import (
	"testing"
)

func TestNearest(t *testing.T) {
	tests := []struct{ in, want string }{
		{"x-wso2-basepath", extBasePath},
		{"x-wso2-production-endpoint", extProduction},
		{"x-wso2-sandbox-endpoint", extSandbox},
		{"x-wso2-cors-config", extCORS},
		{"x-wso2-disable-securty", "x-wso2-disable-security"},
	}
	for _, tt := range tests {
		if got := nearest(tt.in, extensionNames()); got != tt.want {
			t.Errorf("nearest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if d := editDistance("kitten", "sitting"); d != 3 {
		t.Errorf("editDistance = %d, want 3", d)
	}
}
