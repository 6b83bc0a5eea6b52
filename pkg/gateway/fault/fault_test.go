package fault

import "testing"

// The bodies micro-gw's users and their clients already parse.
func TestMicroGWBodies(t *testing.T) {
	for f, want := range map[*Fault]string{
		NotFound:           `{"fault":{"code":404,"message":"Not Found","description":"No matching resource found for given API Request"}}`,
		BackendUnreachable: `{"fault":{"code":101503,"message":"Runtime Error","description":"Error connecting to the back end"}}`,
		BackendTimeout:     `{"fault":{"code":101504,"message":"Runtime Error","description":"Connection timed out"}}`,
	} {
		if string(f.Body) != want {
			t.Errorf("got %s, want %s", f.Body, want)
		}
	}
	if f := New(418, 1, `say "hi"`, "a\nb"); string(f.Body) != `{"fault":{"code":1,"message":"say \"hi\"","description":"a\nb"}}` {
		t.Errorf("New does not escape: %s", f.Body)
	}
}
