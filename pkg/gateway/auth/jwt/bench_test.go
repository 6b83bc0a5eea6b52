package jwt

import (
	"testing"

	jwtlib "github.com/golang-jwt/jwt/v5"
)

// benchHarness trusts an RS256 issuer through a certificate file.
func benchHarness(b testing.TB) *harness {
	genKeys(b)
	cert := writeFile(b, "pub.pem", pemPublic(b, &rsaA.PublicKey))
	return newHarness(b, Options{Issuers: []Issuer{{Issuer: testIssuer, CertFile: cert}}})
}

// BenchmarkVerifyCached is the request path for a token seen before: a
// hash, a shard lookup, a clock read. It must allocate nothing.
func BenchmarkVerifyCached(b *testing.B) {
	h := benchHarness(b)
	tok := sign(b, jwtlib.SigningMethodRS256, rsaA, "", claims("scope", "read write", "keytype", "PRODUCTION"))
	if _, f := h.v.Verify(tok); f != nil {
		b.Fatal(f.Message)
	}
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, f := h.v.Verify(tok); f != nil {
				b.Error(f.Message)
				return
			}
		}
	})
}

// BenchmarkVerifyUncached is a first sight of an RS256 token: parse,
// signature check, claims.
func BenchmarkVerifyUncached(b *testing.B) {
	h := benchHarness(b)
	toks := make([][]byte, 256)
	for i := range toks {
		toks[i] = sign(b, jwtlib.SigningMethodRS256, rsaA, "", claims("scope", "read write", "keytype", "PRODUCTION"))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		p, f := h.v.verify(toks[i%len(toks)], &[32]byte{})
		if f != nil || p == nil {
			b.Fatal("refused")
		}
	}
}

// TestCachedVerifyAllocatesNothing keeps the cache hit allocation-free in
// every test run, not only when benchmarks are run.
func TestCachedVerifyAllocatesNothing(t *testing.T) {
	h := benchHarness(t)
	tok := sign(t, jwtlib.SigningMethodRS256, rsaA, "", claims())
	h.accept(t, tok)
	if n := testing.AllocsPerRun(100, func() { h.v.Verify(tok) }); n != 0 {
		t.Fatalf("a cached Verify allocates %v times", n)
	}
}
