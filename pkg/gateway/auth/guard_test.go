package auth

import (
	"testing"

	"github.com/valyala/fasthttp"

	"github.com/micro-gw/micro-gw/pkg/gateway/fault"
	"github.com/micro-gw/micro-gw/pkg/spec"
)

// TestOpenOperationStillNeedsMandatoryClientCertificate protects
// x-wso2-mutual-ssl: mandatory on an API whose operation is served without
// credentials (x-wso2-disable-security): the client certificate is still
// required, as it is a condition of the connection, not a credential.
func TestOpenOperationStillNeedsMandatoryClientCertificate(t *testing.T) {
	api := &spec.API{Title: "t"}
	g := Compile(&spec.Security{Disabled: true, MutualSSL: spec.MutualSSLMandatory}, api, nil)
	if g.Open() {
		t.Fatal("the guard lets every request through without a client certificate")
	}
	var ctx fasthttp.RequestCtx // plain HTTP: no certificate
	if _, f := g.Check(&ctx); f != fault.ClientCertRequired {
		t.Fatalf("Check = %v, want ClientCertRequired", f)
	}
	if !Compile(&spec.Security{Disabled: true, MutualSSL: spec.MutualSSLOptional}, api, nil).Open() {
		t.Error("optional mutual TLS on an open operation should let requests through")
	}
}

// TestOpaqueKeyWithoutAKeyStoreIsInvalid protects the answer to an opaque
// API key on a gateway without etcd (API keys only as JWTs): the key
// cannot be valid there (900901), not "no signing keys yet" (900900).
func TestOpaqueKeyWithoutAKeyStoreIsInvalid(t *testing.T) {
	sec := &spec.Security{Alternatives: [][]spec.Requirement{{{Scheme: "k", Kind: spec.KindAPIKey, In: spec.InHeader, Name: "X-API-Key"}}}}
	g := Compile(sec, &spec.API{Title: "t"}, &Verifiers{})
	var ctx fasthttp.RequestCtx
	ctx.Request.Header.Set("X-API-Key", "mgw_not-a-jwt")
	if _, f := g.Check(&ctx); f != fault.InvalidCredentials {
		t.Fatalf("Check = %v, want InvalidCredentials", f)
	}
}
