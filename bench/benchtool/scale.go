package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"runtime"
	"runtime/pprof"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/micro-gw/micro-gw/pkg/definition"
	"github.com/micro-gw/micro-gw/pkg/definition/defgen"
)

// gendef writes a generated definition (pkg/definition/defgen) to -out.
func gendef(args []string) error {
	fs := flag.NewFlagSet("gendef", flag.ContinueOnError)
	var o defgen.Options
	fs.IntVar(&o.Ops, "ops", 0, "operations, one per path")
	fs.IntVar(&o.Props, "props", 0, "string properties per operation schema")
	fs.IntVar(&o.Chain, "chain", 0, "length of a chain of $ref-only schemas")
	fs.BoolVar(&o.Swagger, "swagger", false, "write Swagger 2.0 instead of OpenAPI 3.0")
	fs.BoolVar(&o.Bare, "bare", false, "operations with only a response: no parameters, no schemas")
	asYAML := fs.Bool("yaml", false, "write block-style YAML instead of indented JSON")
	out := fs.String("out", "", "file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("-out is required")
	}
	data := defgen.Generate(o)
	if *asYAML {
		var err error
		if data, err = defgen.ToYAML(data); err != nil {
			return err
		}
	}
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return err
	}
	fmt.Printf("bytes=%d\n", len(data))
	return nil
}

// load runs the loader of micro-gw build (definition.LoadDir) on a project's
// api_definitions folder once and prints the time it took and the
// process's peak resident memory (VmHWM), which the loader dominates, and
// the CPU time the process used (all threads, garbage collection included),
// which other work on the machine disturbs less than the time.
// -cpuprofile and -memprofile write pprof profiles of that load.
func load(args []string) error {
	fs := flag.NewFlagSet("load", flag.ContinueOnError)
	cpuProfile := fs.String("cpuprofile", "", "write a CPU profile of the load to this file")
	memProfile := fs.String("memprofile", "", "write an allocation profile of the load to this file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() != 1 {
		return fmt.Errorf("usage: benchtool load [-cpuprofile FILE] [-memprofile FILE] DIR")
	}
	if *memProfile != "" {
		runtime.MemProfileRate = 64 << 10
	}
	stop, err := startCPUProfile(*cpuProfile)
	if err != nil {
		return err
	}
	t0 := time.Now()
	res, err := definition.LoadDir(fs.Arg(0))
	d := time.Since(t0)
	stop()
	if err != nil {
		return err
	}
	if err := writeHeapProfile(*memProfile); err != nil {
		return err
	}
	hwm, err := peakRSSKB()
	if err != nil {
		return err
	}
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return err
	}
	cpu := time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
	fmt.Printf("seconds=%.3f cpu_seconds=%.3f peak_rss_mb=%.1f apis=%d resources=%d warnings=%d\n",
		d.Seconds(), cpu.Seconds(), float64(hwm)/1024, len(res.APIs), res.Resources, len(res.Warnings))
	return nil
}

// peakRSSKB reads this process's peak resident set size from /proc.
func peakRSSKB() (int, error) {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0, err
	}
	sc := bufio.NewScanner(bytes.NewReader(data))
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmHWM:"); ok {
			return strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/self/status")
}

// startCPUProfile starts a CPU profile into file (none when file is "") and
// returns what stops it.
func startCPUProfile(file string) (stop func(), err error) {
	if file == "" {
		return func() {}, nil
	}
	f, err := os.Create(file)
	if err != nil {
		return nil, err
	}
	if err := pprof.StartCPUProfile(f); err != nil {
		f.Close()
		return nil, err
	}
	return func() { pprof.StopCPUProfile(); f.Close() }, nil
}

// writeHeapProfile writes the allocation profile into file (none when file
// is ""); its alloc_space view shows what the load allocated.
func writeHeapProfile(file string) error {
	if file == "" {
		return nil
	}
	f, err := os.Create(file)
	if err != nil {
		return err
	}
	defer f.Close()
	return pprof.Lookup("allocs").WriteTo(f, 0)
}
