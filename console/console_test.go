package console_test

import (
	"os/exec"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// The console decides nothing: it is a client of the API and imports
// neither the domain, its gRPC services, nor SpiceDB (only internal/auth,
// for the session cookie's name); its pages' browser tests are
// cmd/mspauthz's TestConsole_*.
func TestConsole_ImportsNoDomainPackage(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", ".").CombinedOutput()
	require.NoError(t, err, "%s", out)
	for _, forbidden := range []string{"internal/tenancy", "internal/spicedb", "internal/reach", "internal/api", "authzed"} {
		for _, dep := range strings.Fields(string(out)) {
			require.NotContains(t, dep, forbidden, "the console imports %s", dep)
		}
	}
}
