package definition

import (
	"fmt"
	"math"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/micro-gw/micro-gw/pkg/definition/defgen"
)

// work is what Parse allocates to load data, in allocations and
// bytes: a measure of its work that, unlike time, does not depend on the
// machine or its load.
type work struct{ allocs, bytes uint64 }

// workOf returns the work of loading data. The speculative load is off
// while counting (speculate): a dropped one's allocations depend on when it
// was stopped. The load is then the same code, after the tree's parse
// instead of beside it.
func workOf(t *testing.T, data []byte) work {
	t.Helper()
	speculate = false
	defer func() { speculate = true }()
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

// manySchemas returns a JSON definition of one operation and n component
// schemas, which nothing refers to.
func manySchemas(n int) []byte {
	var b strings.Builder
	b.WriteString(`{"openapi": "3.0.3", "info": {"title": "schemas", "version": "1"},` + "\n")
	b.WriteString(`"x-wso2-production-endpoints": {"urls": ["http://127.0.0.1:8080"]},` + "\n")
	b.WriteString(`"paths": {"/a": {"get": {"responses": {"200": {"description": "ok"}}}}},` + "\n")
	b.WriteString(`"components": {"schemas": {` + "\n")
	for i := range n {
		if i > 0 {
			b.WriteString(",\n")
		}
		fmt.Fprintf(&b, `"Schema%d": {"type": "string"}`, i)
	}
	b.WriteString("}}}\n")
	return []byte(b.String())
}

// parseCPU returns the least CPU time of three loads of data (named file),
// counted over the whole process, since the load runs on more than one
// goroutine: unlike the time on the clock, it hardly depends on the other
// work on the machine.
func parseCPU(t *testing.T, file string, data []byte) time.Duration {
	t.Helper()
	best := time.Duration(math.MaxInt64)
	for range 3 {
		runtime.GC() // the last load's garbage is not this one's work
		t0 := processCPU(t)
		if _, _, err := Parse(file, data); err != nil {
			t.Fatal(err)
		}
		best = min(best, processCPU(t)-t0)
	}
	return best
}

// processCPU returns the CPU time the process has used, all threads.
func processCPU(t *testing.T) time.Duration {
	t.Helper()
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		t.Fatalf("getrusage: %v", err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// TestLoadTimeGrowsLinearlyWithComponentSchemas protects against decoding
// the document with go.yaml.in/yaml/v4 into kin-openapi's types, which
// compares every pair of keys of components.schemas (n²/2 comparisons: most
// of the time of a 30,000-schema load). That step allocates nothing, so only
// time shows it: the CPU time of the loading thread, the least of three
// loads. Quadratic growth makes the time per schema about 8 times as long
// for 8 times the schemas, linear about the same.
func TestLoadTimeGrowsLinearlyWithComponentSchemas(t *testing.T) {
	wantLinearTime(t, "gen.json", 16000, manySchemas)
}

// TestLoadTimeGrowsLinearlyWithComponentSchemasInYAML is the same for a
// YAML definition, which the fast load reads as the JSON its tree spells
// (yamlAsJSON); the exact load decodes it with the pairwise key comparison.
func TestLoadTimeGrowsLinearlyWithComponentSchemasInYAML(t *testing.T) {
	wantLinearTime(t, "gen.yaml", 32000, func(n int) []byte {
		data, err := defgen.ToYAML(manySchemas(n))
		if err != nil {
			t.Fatal(err)
		}
		return data
	})
}

// wantLinearTime fails when loading gen(large) takes more than 3 times as
// long per schema as loading gen(2000). large is where a pairwise step,
// linear per schema, is well past 3 times as long.
func wantLinearTime(t *testing.T, file string, large int, gen func(n int) []byte) {
	if testing.Short() {
		t.Skip("loads thousands of schemas")
	}
	const small = 2000
	parseCPU(t, file, gen(small)) // once-per-process caches
	a, b := parseCPU(t, file, gen(small)), parseCPU(t, file, gen(large))
	ratio := (float64(b) / float64(large)) / (float64(a) / small)
	t.Logf("%d schemas: %v CPU; %d schemas: %v CPU; CPU time per schema %.2fx", small, a, large, b, ratio)
	if ratio > 3 {
		t.Errorf("loading %d schemas takes %.2fx as long per schema as loading %d; want about as long (linear)", large, ratio, small)
	}
}
