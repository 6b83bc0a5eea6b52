package golden

import "testing"

func TestFirstDifferentLine(t *testing.T) {
	tests := []struct {
		a, b string
		want int
	}{
		{"a\nb\nc", "a\nx\nc", 2},
		{"a\nb", "a\nb\nc", 3},
		{"x", "a", 1},
	}
	for _, tt := range tests {
		if got := firstDifferentLine([]byte(tt.a), []byte(tt.b)); got != tt.want {
			t.Errorf("firstDifferentLine(%q, %q) = %d, want %d", tt.a, tt.b, got, tt.want)
		}
	}
}
