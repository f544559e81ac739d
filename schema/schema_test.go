package schema_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/mspauthz/mspauthz/schema"
)

// TestValidationFiles runs every validation file of this directory against msp.zed.
func TestValidationFiles(t *testing.T) {
	files, err := filepath.Glob("*.yaml")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, file := range files {
		t.Run(strings.TrimSuffix(file, ".yaml"), func(t *testing.T) {
			found, err := schema.ValidateFile(context.Background(), file)
			require.NoError(t, err)
			for _, p := range found {
				t.Error(p.String())
			}
		})
	}
}

// TestWrongAssertionFails proves the runner is not a test that cannot fail: a
// false assertion is reported with its file, line and a readable message.
func TestWrongAssertionFails(t *testing.T) {
	raw := []byte(`schemaFile: msp.zed
relationships: |-
  msp:acme#member@user:acme/alex
  customer:acme/zylker#msp@msp:acme
assertions:
  assertTrue:
    - customer:acme/zylker#access@user:acme/alex
`)
	found, err := schema.Validate(context.Background(), "wrong.yaml", raw)
	require.NoError(t, err)
	require.Len(t, found, 1)
	require.Equal(t, "wrong.yaml:7:7: [ASSERTION_FAILED] Expected relation or permission customer:acme/zylker#access@user:acme/alex to exist", found[0].String())
}

// TestSchemaIsGenerated fails when msp.zed and the catalog or the template
// disagree: run go generate ./schema.
func TestSchemaIsGenerated(t *testing.T) {
	text, err := schema.Render(schema.Template)
	require.NoError(t, err)
	require.Equal(t, string(text), schema.Text, "msp.zed is stale: run go generate ./schema")
	roles, err := os.ReadFile("builtin_roles.yaml")
	require.NoError(t, err)
	require.Equal(t, string(schema.RenderBuiltinRoles()), string(roles), "builtin_roles.yaml is stale: run go generate ./schema")
}
