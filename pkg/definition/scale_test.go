package definition

import (
	"fmt"
	"runtime"
	"strings"
	"testing"

	"github.com/micro-gw/micro-gw/pkg/definition/defgen"
)

// work is what Parse allocates to load data, in allocations and
// bytes: a measure of its work that, unlike time, does not depend on the
// machine or its load.
type work struct{ allocs, bytes uint64 }

func workOf(t *testing.T, data []byte) work {
	t.Helper()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	api, _, err := Parse("gen.json", data)
	runtime.ReadMemStats(&after)
	if err != nil {
		t.Fatal(err)
	}
	if len(api.Resources) == 0 {
		t.Fatal("no resources loaded")
	}
	return work{after.Mallocs - before.Mallocs, after.TotalAlloc - before.TotalAlloc}
}

// wantLinear loads the definitions small and large (about four times the
// size) and fails when the work per input byte grows by more than half:
// linear work keeps it about the same, quadratic work multiplies it by 4.
func wantLinear(t *testing.T, small, large []byte) {
	t.Helper()
	workOf(t, small) // once-per-process caches
	a, b := workOf(t, small), workOf(t, large)
	grow := float64(len(large)) / float64(len(small))
	perByte := func(a, b uint64) float64 { return float64(b) / float64(a) / grow }
	t.Logf("%d bytes: %d allocations, %d bytes allocated; %d bytes (%.1fx): %d allocations (%.2fx per input byte), %d bytes allocated (%.2fx per input byte)",
		len(small), a.allocs, a.bytes, len(large), grow, b.allocs, perByte(a.allocs, b.allocs), b.bytes, perByte(a.bytes, b.bytes))
	if r := perByte(a.allocs, b.allocs); r > 1.5 {
		t.Errorf("loading makes %.2fx as many allocations per input byte for an input %.1fx as large; want about as many (linear)", r, grow)
	}
	if r := perByte(a.bytes, b.bytes); r > 1.5 {
		t.Errorf("loading allocates %.2fx as many bytes per input byte for an input %.1fx as large; want about as many (linear)", r, grow)
	}
}

// TestLoadWorkGrowsLinearlyWithOperations protects against work per
// operation that grows with the number of operations, such as kin-openapi
// validating the connected schema graph again from every entry point.
func TestLoadWorkGrowsLinearlyWithOperations(t *testing.T) {
	wantLinear(t, defgen.Generate(defgen.Options{Ops: 300, Props: 1}), defgen.Generate(defgen.Options{Ops: 1200, Props: 1}))
}

// TestLoadWorkGrowsLinearlyWithSwaggerOperations is the same through the
// Swagger 2.0 conversion.
func TestLoadWorkGrowsLinearlyWithSwaggerOperations(t *testing.T) {
	wantLinear(t, defgen.Generate(defgen.Options{Ops: 300, Props: 1, Swagger: true}), defgen.Generate(defgen.Options{Ops: 1200, Props: 1, Swagger: true}))
}

// TestLoadWorkGrowsLinearlyWithRefChainLength protects against kin-openapi's
// loader resolving a chain of $ref-only schemas once per link.
func TestLoadWorkGrowsLinearlyWithRefChainLength(t *testing.T) {
	wantLinear(t, defgen.Generate(defgen.Options{Chain: 500}), defgen.Generate(defgen.Options{Chain: 2000}))
	wantLinear(t, defgen.Generate(defgen.Options{Chain: 500, Swagger: true}), defgen.Generate(defgen.Options{Chain: 2000, Swagger: true}))
}

// TestLoadWorkGrowsLinearlyWithPaths protects the route building against
// looking each path up by scanning all of them, which many small paths
// (33,000 in a 5 MB file) make quadratic.
func TestLoadWorkGrowsLinearlyWithPaths(t *testing.T) {
	wantLinear(t, barePaths(1500), barePaths(6000))
}

// barePaths returns a definition of n paths with one small operation each.
func barePaths(n int) []byte {
	var b strings.Builder
	b.WriteString("openapi: 3.0.3\ninfo: {title: paths, version: '1'}\nx-wso2-production-endpoints: {urls: ['http://127.0.0.1:8080']}\npaths:\n")
	for i := range n {
		fmt.Fprintf(&b, "  /p%d: {get: {responses: {'200': {description: ok}}}}\n", i)
	}
	return []byte(b.String())
}

// BenchmarkParse loads generated definitions of growing size; the
// time and bytes per op should grow linearly with ops and chain.
func BenchmarkParse(b *testing.B) {
	cases := []defgen.Options{
		{Ops: 1000, Props: 1}, {Ops: 10000, Props: 1}, {Ops: 10000, Props: 1, Swagger: true},
		{Ops: 460, Props: 53}, {Chain: 1000}, {Chain: 10000},
	}
	for _, o := range cases {
		data := defgen.Generate(o)
		name := fmt.Sprintf("ops=%d/props=%d/chain=%d/swagger=%v", o.Ops, o.Props, o.Chain, o.Swagger)
		b.Run(name, func(b *testing.B) {
			b.SetBytes(int64(len(data)))
			b.ReportAllocs()
			for b.Loop() {
				if _, _, err := Parse("gen.json", data); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
