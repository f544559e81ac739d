package main_test

import (
	"fmt"
	"os"
	"os/exec"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// tourStep is one command of the README's tour and the lines it prints.
type tourStep struct {
	command string
	prints  []string
}

// readmeTour is the README's tour block as steps: a command (with its
// continuation lines) and the "# → " lines under it.
func readmeTour(t *testing.T) []tourStep {
	raw, err := os.ReadFile("../../README.md")
	require.NoError(t, err)
	_, rest, ok := strings.Cut(string(raw), "<!-- tour:")
	require.True(t, ok, "README.md has no tour block")
	_, rest, _ = strings.Cut(rest, "```sh\n")
	block, _, ok := strings.Cut(rest, "\n```")
	require.True(t, ok)
	var steps []tourStep
	continued := false
	for _, line := range strings.Split(block, "\n") {
		switch {
		case strings.HasPrefix(line, "# → "):
			require.NotEmpty(t, steps, "an answer before any command")
			steps[len(steps)-1].prints = append(steps[len(steps)-1].prints, strings.TrimPrefix(line, "# → "))
		case continued:
			steps[len(steps)-1].command += "\n" + line
		case line == "" || strings.HasPrefix(line, "#"):
			continue
		default:
			steps = append(steps, tourStep{command: line})
		}
		trimmed := strings.TrimSpace(line)
		continued = !strings.HasPrefix(line, "#") && (strings.HasSuffix(trimmed, `\`) || strings.HasSuffix(trimmed, "|"))
	}
	return steps
}

// The README's tour, pasted as a person would, answers what the README says
// it answers, line for line (but the ZedTokens, which differ every run).
func TestReadme_TheTourAnswersAsDocumented(t *testing.T) {
	_, err := exec.LookPath("jq")
	require.NoError(t, err, "the README's tour needs jq (apt-get install -y jq; .ci/run installs it)")
	steps := readmeTour(t)
	require.GreaterOrEqual(t, len(steps), 8)

	s := start(t, []string{"MSPAUTHZ_ADMIN_TOKEN=demo-platform-token-1234"}, "--fixtures", "../../fixtures/demo.yaml")
	var script strings.Builder
	for i, st := range steps {
		fmt.Fprintf(&script, "echo '@@ %d'\n%s\n", i, strings.ReplaceAll(st.command, "go run ./cmd/mspauthz", binary))
	}
	cmd := exec.Command("bash", "-o", "pipefail", "-c", script.String())
	cmd.Env = append(os.Environ(), "MSPAUTHZ_URL="+s.base)
	out, _ := cmd.CombinedOutput()

	token := regexp.MustCompile(`checked at \S+`)
	printed := regexp.MustCompile(`(?m)^@@ \d+\n`).Split(string(out), -1)[1:]
	require.Len(t, printed, len(steps), "every step ran:\n%s", out)
	for i, st := range steps {
		got := strings.Split(strings.TrimSuffix(token.ReplaceAllString(printed[i], "checked at <ZedToken>"), "\n"), "\n")
		if len(st.prints) == 0 {
			require.Empty(t, slices.DeleteFunc(got, func(l string) bool { return l == "" }), "the tour's step %d prints nothing:\n%s", i+1, st.command)
			continue
		}
		require.Equal(t, st.prints, got, "the tour's step %d prints what the README says:\n%s", i+1, st.command)
	}
}
