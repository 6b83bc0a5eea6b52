package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"strconv"
	"strings"
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
	out := fs.String("out", "", "file to write")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("-out is required")
	}
	data := defgen.Generate(o)
	if err := os.WriteFile(*out, data, 0o644); err != nil {
		return err
	}
	fmt.Printf("bytes=%d\n", len(data))
	return nil
}

// load runs the loader of micro-gw build (definition.LoadDir) on a project's
// api_definitions folder once and prints the time it took and the
// process's peak resident memory (VmHWM), which the loader dominates.
func load(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: benchtool load DIR")
	}
	t0 := time.Now()
	res, err := definition.LoadDir(args[0])
	d := time.Since(t0)
	if err != nil {
		return err
	}
	hwm, err := peakRSSKB()
	if err != nil {
		return err
	}
	fmt.Printf("seconds=%.3f peak_rss_mb=%.1f apis=%d resources=%d warnings=%d\n",
		d.Seconds(), float64(hwm)/1024, len(res.APIs), res.Resources, len(res.Warnings))
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
