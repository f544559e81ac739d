package main_test

import (
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
)

// `mspauthz bench` loads the tiny preset into a service it starts and
// prints the report's tables; bad flags are refused before anything starts.
func TestBench_TheTinyPresetRunsWhole(t *testing.T) {
	args := append([]string{"bench", "--preset", "tiny", "--cell", "100ms", "--cell-ops", "50", "--saves", "1,100", "--save-rounds", "1", "--listings", "2"}, spicedbtest.ServeArgs(t)...)
	code, stdout, stderr := mspauthz(t, args...)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "### Preset `tiny`")
	require.Contains(t, stdout, "| grpc | spicedb-grpc | 32 |")
	require.Contains(t, stdout, "| 100 | 10 × 10 |")
	require.Contains(t, stderr, "loaded ")

	code, _, stderr = mspauthz(t, "bench", "--preset", "huge")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, `no preset "huge" (presets: tiny, small, large, large2x, large4x, large8x, xlarge, msps200)`)
	code, _, stderr = mspauthz(t, "bench", "--saves", "1,x")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, `--saves: "1,x" is not a list of positive integers`)
}

// `mspauthz gen` imports a preset into a SpiceDB that keeps it; run again it
// leaves the MSPs that exist as they are; the memory datastore is refused.
func TestGen_ImportsAPresetOnce(t *testing.T) {
	code, _, stderr := mspauthz(t, "gen", "--preset", "tiny")
	require.Equal(t, 2, code)
	require.Contains(t, stderr, "the memory datastore keeps nothing")
	if spicedbtest.Backend() == spicedbtest.Memory {
		return
	}
	args := append([]string{"gen", "--preset", "tiny"}, spicedbtest.ServeArgs(t)...)
	code, stdout, stderr := mspauthz(t, args...)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stdout, "preset tiny imported")
	require.Contains(t, stderr, "2 of 2 MSPs")
	code, _, stderr = mspauthz(t, args...)
	require.Equal(t, 0, code, stderr)
	require.Contains(t, stderr, "exist already and were left as they are")
}
