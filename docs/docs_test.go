package docs_test

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/catalog"
)

// pages are the README and the reference it links, as the test reads them.
func pages(t *testing.T) map[string]string {
	t.Helper()
	files, err := filepath.Glob("*.md")
	require.NoError(t, err)
	files = append(files, "../README.md", "../BENCHMARKS.md")
	out := map[string]string{}
	for _, f := range files {
		raw, err := os.ReadFile(f)
		require.NoError(t, err)
		out[f] = string(raw)
	}
	return out
}

// The reference documents the exact matrix of the built-in roles.
func TestTheBuiltinRolesTableIsTheCatalogs(t *testing.T) {
	page := pages(t)["access.md"]
	require.Contains(t, page, catalog.MatrixMarkdown(), "docs/access.md does not show the built-in roles' matrix; paste:\n%s", catalog.MatrixMarkdown())
}

// Every page the README and the reference link to exists, and so does every
// heading a link names.
func TestEveryLinkLeadsSomewhere(t *testing.T) {
	link := regexp.MustCompile(`\]\(([^)#\s]*)(#[^)\s]*)?\)`)
	all := pages(t)
	for file, text := range all {
		for _, m := range link.FindAllStringSubmatch(text, -1) {
			target, anchor := m[1], strings.TrimPrefix(m[2], "#")
			if strings.HasPrefix(target, "http") {
				continue
			}
			dest := file
			if target != "" {
				dest = filepath.Join(filepath.Dir(file), target)
				_, err := os.Stat(dest)
				require.NoError(t, err, "%s links to %s", file, m[0])
			}
			if anchor != "" {
				raw, err := os.ReadFile(dest)
				require.NoError(t, err)
				require.Contains(t, anchors(string(raw)), anchor, "%s links to a heading %s does not have: %s", file, dest, m[0])
			}
		}
	}
}

// anchors are the ids GitHub gives a page's headings.
func anchors(text string) []string {
	var out []string
	drop := regexp.MustCompile(`[^\p{L}\p{N} _-]`)
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "#") {
			continue
		}
		h := strings.ToLower(strings.TrimSpace(strings.TrimLeft(line, "#")))
		out = append(out, strings.ReplaceAll(drop.ReplaceAllString(h, ""), " ", "-"))
	}
	return out
}

// Every REST call the README and the reference name (`METHOD /v1/...`, or
// `METHOD .../x` for /v1/msps/{msp}/x) is one the gateway serves.
func TestEveryDocumentedCallIsServed(t *testing.T) {
	paths := served(t)
	placeholder := regexp.MustCompile(`\\\{[^}]+\\\}`)
	served := map[string][]*regexp.Regexp{}
	for path, methods := range paths {
		re := regexp.MustCompile("^" + placeholder.ReplaceAllString(regexp.QuoteMeta(path), `[^/]+`) + "$")
		for m := range methods {
			served[strings.ToUpper(m)] = append(served[strings.ToUpper(m)], re)
		}
	}
	calls := 0
	for file, text := range pages(t) {
		for _, m := range documentedCall.FindAllStringSubmatch(text, -1) {
			for _, path := range expand(m[2]) {
				for _, method := range strings.Split(m[1], "|") {
					calls++
					ok := false
					for _, re := range served[method] {
						ok = ok || re.MatchString(path)
					}
					if !ok {
						t.Errorf("%s documents %s %s, which the gateway does not serve (%s)", file, method, path, m[0])
					}
				}
			}
		}
	}
	require.Greater(t, calls, 50, "the documented calls were found")
}

// Every call the gateway serves is in the API reference's tables.
func TestEveryServedCallIsDocumented(t *testing.T) {
	paths := served(t)
	placeholder := regexp.MustCompile(`\{[^}]+\}`)
	documented := map[string]bool{}
	for _, m := range documentedCall.FindAllStringSubmatch(pages(t)["api.md"], -1) {
		for _, path := range expand(m[2]) {
			for _, method := range strings.Split(m[1], "|") {
				documented[method+" "+placeholder.ReplaceAllString(path, "{}")] = true
			}
		}
	}
	for path, methods := range paths {
		for m := range methods {
			key := strings.ToUpper(m) + " " + placeholder.ReplaceAllString(path, "{}")
			if !documented[key] {
				t.Errorf("docs/api.md does not document %s %s", strings.ToUpper(m), path)
			}
		}
	}
}

// served are the gateway's paths and, for each, its methods (openapi.json).
func served(t *testing.T) map[string]map[string]any {
	t.Helper()
	raw, err := os.ReadFile("../gateway/openapi.json")
	require.NoError(t, err)
	var doc struct {
		Paths map[string]map[string]any `json:"paths"`
	}
	require.NoError(t, json.Unmarshal(raw, &doc))
	return doc.Paths
}

// documentedCall is how a page names a REST call: `METHOD[|METHOD...] /v1/...`
// or `METHOD .../x` for /v1/msps/{msp}/x.
var documentedCall = regexp.MustCompile("`((?:GET|POST|PUT|PATCH|DELETE)(?:\\|(?:GET|POST|PUT|PATCH|DELETE))*) (/v1/[^` ?]*|\\.\\.\\./[^` ?]*)")

// expand turns a documented path into the paths it stands for: `.../x` is
// /v1/msps/{msp}/x, `a|b` in a segment (or in braces) is either, `[/y]` is
// optional.
func expand(path string) []string {
	if rest, ok := strings.CutPrefix(path, ".../"); ok {
		path = "/v1/msps/{msp}/" + rest
	}
	if i := strings.Index(path, "["); i >= 0 {
		j := strings.Index(path, "]")
		return append(expand(path[:i]+path[j+1:]), expand(path[:i]+path[i+1:j]+path[j+1:])...)
	}
	segments := strings.Split(path, "/")
	for i, s := range segments {
		if !strings.Contains(s, "|") {
			continue
		}
		var out []string
		for _, alt := range strings.Split(strings.Trim(s, "{}"), "|") {
			segments[i] = alt
			out = append(out, expand(strings.Join(segments, "/"))...)
		}
		return out
	}
	return []string{path}
}
