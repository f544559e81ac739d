package app_test

import (
	"testing"

	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
)

// TestMain stops the throwaway PostgreSQL and SpiceDB cluster of the benchmarks.
func TestMain(m *testing.M) { spicedbtest.Main(m) }
