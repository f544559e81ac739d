package catalog

import (
	"slices"
	"strings"
)

// MatrixMarkdown is the built-in roles' matrix as a Markdown table: docs/access.md
// shows it, and a test keeps the two equal.
func MatrixMarkdown() string {
	var b strings.Builder
	b.WriteString("| permission |")
	sep := "|---|"
	for _, r := range BuiltinRoles {
		b.WriteString(" " + r.ID + " |")
		sep += "---|"
	}
	b.WriteString("\n" + sep + "\n")
	for _, p := range All {
		b.WriteString("| `" + p.ID + "` |")
		for _, r := range BuiltinRoles {
			if slices.Contains(r.Permissions, p.ID) {
				b.WriteString(" ✓ |")
			} else {
				b.WriteString("  |")
			}
		}
		b.WriteString("\n")
	}
	b.WriteString("| **scope** |")
	for _, r := range BuiltinRoles {
		if r.AllCustomers {
			b.WriteString(" every customer |")
		} else {
			b.WriteString(" associated customers |")
		}
	}
	return b.String() + "\n"
}
