package tenancy_test

import (
	"testing"

	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
)

// TestMain stops the throwaway PostgreSQL and SpiceDB cluster of MSPAUTHZ_TEST_BACKEND.
func TestMain(m *testing.M) { spicedbtest.Main(m) }
