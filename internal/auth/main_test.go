package auth_test

import (
	"testing"

	"github.com/mspauthz/mspauthz/internal/pgtest"
)

// TestMain stops the throwaway PostgreSQL of MSPAUTHZ_TEST_BACKEND=postgres.
func TestMain(m *testing.M) { pgtest.Main(m) }
