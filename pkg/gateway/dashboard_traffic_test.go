package gateway

import (
	"encoding/json"
	"net/http"
	"testing"
)

// TestTrafficCountsRequestsAndErrorsPerAPI: GET /traffic counts each
// request to an API in the current bucket, and its 5xx answers as errors
// (here 502: the backend refuses connections). Needs the request-path hook
// (proxy.route: defer rt.traffic.Done(ctx)).
func TestTrafficCountsRequestsAndErrorsPerAPI(t *testing.T) {
	gw, _ := startTest(t, routesFor("http://127.0.0.1:1"), testConfig(t))
	for range 3 {
		resp, err := http.Get("http://" + gw.HTTPAddr.String() + "/petstore/v1/pet/1")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 502 {
			t.Fatalf("got %d, want 502 from a refused backend", resp.StatusCode)
		}
	}
	// Not an API's route: counted nowhere.
	if resp, err := http.Get("http://" + gw.HTTPAddr.String() + "/nowhere"); err == nil {
		resp.Body.Close()
	}
	resp, err := http.Get("http://" + gw.AdminAddr.String() + "/traffic")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var tr TrafficStatus
	if err := json.NewDecoder(resp.Body).Decode(&tr); err != nil {
		t.Fatal(err)
	}
	if !tr.Counting || len(tr.APIs) != 1 {
		t.Fatalf("/traffic: %+v, want counting for 1 API", tr)
	}
	var req, errs uint64
	for i := range tr.APIs[0].Series.Requests {
		req, errs = req+tr.APIs[0].Series.Requests[i], errs+tr.APIs[0].Series.Errors[i]
	}
	if req != 3 || errs != 3 {
		t.Errorf("counted %d requests and %d errors, want 3 and 3 (summary %q)", req, errs, tr.APIs[0].Summary)
	}
}
