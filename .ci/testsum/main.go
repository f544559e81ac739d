// Command testsum reads `go test -json` on stdin and prints what a person
// needs from a pass of the suite: each package's result as go test prints
// it, the whole output of every failing test, package and build, and in the
// end how many tests ran, passed, failed and were skipped. It exits 1 when
// anything failed.
//
//	go test -json ./... | testsum NAME
package main

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// event is one line of `go test -json` (see `go doc test2json`).
type event struct {
	Action     string
	Package    string
	ImportPath string
	Test       string
	Elapsed    float64
	Output     string
}

// counts are the tests of a pass by outcome (subtests apart), and its
// packages with tests.
type counts struct {
	passed, failed, skipped, subtests int
	packages, failedPackages          int
	buildFailed                       bool
}

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: go test -json ... | testsum NAME")
		os.Exit(2)
	}
	start := time.Now()
	c, err := summarize(os.Stdin, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "testsum:", err)
		os.Exit(2)
	}
	fmt.Printf("%s: %d tests ran: %d passed, %d failed, %d skipped (and %d subtests), in %d packages, %s\n",
		os.Args[1], c.passed+c.failed+c.skipped, c.passed, c.failed, c.skipped, c.subtests, c.packages, time.Since(start).Round(time.Second))
	if c.failed > 0 || c.failedPackages > 0 || c.buildFailed {
		os.Exit(1)
	}
}

// summarize reads the events from r and writes the results to w as they
// come: each package's line, and the output of what failed.
func summarize(r io.Reader, w io.Writer) (counts, error) {
	var c counts
	// output holds each running test's lines, and each package's own, until
	// they pass (dropped) or fail (printed).
	output := map[string][]string{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		var e event
		if err := json.Unmarshal(sc.Bytes(), &e); err != nil || e.Action == "" {
			fmt.Fprintln(w, sc.Text()) // not an event: go test's own message
			continue
		}
		key := e.Package + " " + e.Test
		switch e.Action {
		case "build-output":
			fmt.Fprint(w, e.Output)
		case "build-fail":
			c.buildFailed = true
		case "output":
			output[key] = append(output[key], e.Output)
		case "pass", "fail", "skip":
			if e.Action == "fail" {
				fmt.Fprint(w, strings.Join(output[key], ""))
			}
			delete(output, key)
			if e.Test == "" {
				c.countPackage(e, w)
				continue
			}
			c.count(e)
		}
	}
	return c, sc.Err()
}

// countPackage counts a package's outcome (one without tests is skipped)
// and prints its line when it passed: a failed one's output says it.
func (c *counts) countPackage(e event, w io.Writer) {
	switch e.Action {
	case "pass":
		c.packages++
		fmt.Fprintf(w, "ok  \t%s\t%.1fs\n", e.Package, e.Elapsed)
	case "fail":
		c.packages++
		c.failedPackages++
	}
}

// count counts a test's outcome.
func (c *counts) count(e event) {
	if strings.Contains(e.Test, "/") {
		c.subtests++
		return
	}
	switch e.Action {
	case "pass":
		c.passed++
	case "fail":
		c.failed++
	case "skip":
		c.skipped++
	}
}
