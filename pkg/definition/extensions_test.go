package definition

import (
	"strings"
	"testing"
)

// TestWarnings covers the warnings a definition can earn, each with its line.
func TestWarnings(t *testing.T) {
	const def = `openapi: 3.0.3
info: {title: t, version: "1"}
x-wso2-production-endpoints:
  urls: [http://a]
  advanceEndpointConfig:
    timeoutInMilis: 5
  securityConfig: {type: basic}
x-wso2-cors:
  accessControlAllowOrigins: ["*"]
x-wso2-transports: [http]
x-wso2-mutual-ssl: optional
x-wso2-productionendpoints: {}
paths:
  /x:
    x-wso2-cors: {}
    get:
      x-wso2-basePath: /nope
      x-wso2-throttling-tier: Gold
      x-wso2-sandbox-endpoints: {urls: [http://s]}
      responses:
        "200": {description: ok}
components:
  schemas:
    S:
      type: object
      x-wso2-production-endpoints: {urls: [http://b]}
`
	api, ws, err := Parse("w.yaml", []byte(def))
	if err != nil {
		t.Fatal(err)
	}
	if api.Resources[0].ThrottlingTier != "Gold" || api.Resources[0].Security.MutualSSL != "optional" {
		t.Errorf("GET /x: tier %q, security %+v", api.Resources[0].ThrottlingTier, api.Resources[0].Security)
	}
	if api.BasePath != "/" || api.CORS == nil || !api.CORS.Enabled || strings.Join(api.Transports, ",") != "http" {
		t.Errorf("base path %q, cors %+v, transports %v", api.BasePath, api.CORS, api.Transports)
	}
	want := []string{
		`w.yaml: no x-wso2-basePath, and no path in servers[0] (basePath in Swagger 2.0): the API is served at /`,
		`w.yaml:6: API level: advanceEndpointConfig: unknown key "timeoutInMilis" is ignored; did you mean timeoutInMillis?`,
		`w.yaml:7: API level: endpoint securityConfig (credentials for the backend) is not supported yet, so ignored`,
		`w.yaml:12: unknown extension x-wso2-productionendpoints is ignored; did you mean x-wso2-production-endpoints?`,
		`w.yaml:15: x-wso2-cors is read at API level only; ignored here`,
		`w.yaml:17: x-wso2-basePath is read at API level only; ignored here`,
		`w.yaml:26: x-wso2-production-endpoints is read at API level and in operations only; ignored here`,
	}
	wantWarnings(t, ws, want...)
	if len(ws) != len(want) {
		t.Errorf("got %d warnings, want %d:\n%v", len(ws), len(want), ws)
	}
}

// TestUnknownKeySuggestsEveryKeyRead protects the tables of keys: an
// unknown key of an extension object is compared with every key read
// there, so a misspelt securityConfig is pointed at securityConfig (and
// then at its "not supported yet" warning), and a misspelt key of each
// nested object at the keys of that object.
func TestUnknownKeySuggestsEveryKeyRead(t *testing.T) {
	const def = `openapi: 3.0.3
info: {title: t, version: "1"}
x-wso2-basePath: /t
x-wso2-production-endpoints:
  urls: [http://a]
  securityConfg: {type: basic}
  advanceEndpointConfig:
    retryConfig: {cont: 1}
    circuitBreaker: {rollingWindow: {timeWindowInMilis: 10}}
x-wso2-cors: {access-control-allow-orgins: ["*"]}
paths:
  /x:
    get:
      responses:
        "200": {description: ok}
`
	_, ws, err := Parse("k.yaml", []byte(def))
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, w := range ws {
		got = append(got, w.String())
	}
	wantExactly(t, got,
		`k.yaml:6: API level: unknown key "securityConfg" is ignored; did you mean securityConfig?`,
		`k.yaml:8: API level: retryConfig: unknown key "cont" is ignored; did you mean count?`,
		`k.yaml:9: API level: rollingWindow: unknown key "timeWindowInMilis" is ignored; did you mean timeWindowInMillis?`,
		`k.yaml:10: x-wso2-cors: unknown key "access-control-allow-orgins" is ignored; did you mean accessControlAllowOrigins?`,
	)
}
