package validate

import "testing"

// TestPathParamsAreWhatTheRouterRouted protects request validation of a
// segment with two parameters: the router routes /f/.x.y to /f/{a}.{b}
// with a=".x" and b="y" (each parameter at least one byte, the literal at
// its first occurrence after that), and the validator must check those
// values, not a="" and b="x.y".
func TestPathParamsAreWhatTheRouterRouted(t *testing.T) {
	v := &Validator{segments: splitTemplate("/f/{a}.{b}")}
	got, ok := v.pathParams([]byte("/f/.x.y"))
	if !ok || got["a"] != ".x" || got["b"] != "y" {
		t.Errorf("pathParams(/f/.x.y) = %q, %v; want a=.x, b=y", got, ok)
	}
	got, ok = v.pathParams([]byte("/f/1.2"))
	if !ok || got["a"] != "1" || got["b"] != "2" {
		t.Errorf("pathParams(/f/1.2) = %q, %v; want a=1, b=2", got, ok)
	}
}
