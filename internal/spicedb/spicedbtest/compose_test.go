package spicedbtest_test

import (
	"os"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v3"

	"github.com/mspauthz/mspauthz/internal/spicedb/spicedbtest"
)

// docker-compose.yml runs the nodes with the flags the cluster tests use:
// the topology users deploy is the one that was tested.
func TestCompose_NodesRunWithTheTestedFlags(t *testing.T) {
	raw, err := os.ReadFile("../../../docker-compose.yml")
	require.NoError(t, err)
	var compose struct {
		Services map[string]struct {
			Entrypoint []string `yaml:"entrypoint"`
			Command    []string `yaml:"command"`
		} `yaml:"services"`
	}
	require.NoError(t, yaml.Unmarshal(raw, &compose))
	const uri = "postgres://spicedb:spicedb@postgres:5432/spicedb?sslmode=disable"
	key := func(args []string) []string { // the compose file takes the key from the environment
		return strings.Split(strings.ReplaceAll(strings.Join(args, "\x00"), "${SPICEDB_KEY:-change-me-spicedb-key}", spicedbtest.ClusterKey), "\x00")
	}
	for node, upstream := range map[string]string{"spicedb-a": "", "spicedb-b": "spicedb-a:50053"} {
		s, ok := compose.Services[node]
		require.True(t, ok, node)
		require.Equal(t, "spicedb", s.Entrypoint[0])
		got := key(append(s.Entrypoint[1:], s.Command...))
		require.Equal(t, spicedbtest.NodeArgs(uri, ":50051", ":50053", ":9090", upstream), got, node)
	}
	require.Contains(t, string(raw), `"--spicedb-endpoint", "spicedb-a:50051,spicedb-b:50051"`, "mspauthz-migrate talks to both nodes")
	require.Contains(t, string(raw), "- spicedb-a:50051,spicedb-b:50051", "mspauthz talks to both nodes")
}
