// Command gen writes schema/msp.zed from schema/msp.zed.tmpl and the
// permission catalog (internal/catalog), and schema/builtin_roles.yaml, the
// validation file of the built-in roles. Run it with: go generate ./schema
package main

import (
	"fmt"
	"os"

	"github.com/mspauthz/mspauthz/schema"
)

func main() {
	text, err := schema.Render(schema.Template)
	if err == nil {
		err = os.WriteFile("msp.zed", text, 0o644)
	}
	if err == nil {
		err = os.WriteFile("builtin_roles.yaml", schema.RenderBuiltinRoles(), 0o644)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "gen:", err)
		os.Exit(1)
	}
}
