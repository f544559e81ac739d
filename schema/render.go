package schema

import (
	"bytes"
	_ "embed"
	"slices"
	"strings"
	"text/template"

	"github.com/mspauthz/mspauthz/internal/catalog"
)

// Template is the source of msp.zed: the schema with the permission catalog
// left to fill in.
//
//go:embed msp.zed.tmpl
var Template string

// Render fills the schema template with the permission catalog.
func Render(tmpl string) ([]byte, error) {
	t, err := template.New("msp.zed.tmpl").Funcs(template.FuncMap{
		"channel":     channel,
		"endCustomer": endCustomer,
	}).Parse(tmpl)
	if err != nil {
		return nil, err
	}
	var buf bytes.Buffer
	err = t.Execute(&buf, map[string]any{
		"All":              catalog.All,
		"Customer":         permissions(func(p catalog.Permission) bool { return p.Level == catalog.Customer }),
		"Scoped":           permissions(func(p catalog.Permission) bool { return p.Scoped }),
		"MSP":              permissions(func(p catalog.Permission) bool { return p.Level == catalog.MSP }),
		"EndCustomerRoles": catalog.EndCustomerRoles,
	})
	return buf.Bytes(), err
}

func permissions(keep func(catalog.Permission) bool) []catalog.Permission {
	var out []catalog.Permission
	for _, p := range catalog.All {
		if keep(p) {
			out = append(out, p)
		}
	}
	return out
}

// channel is the union of the end-customer role relations that reach the
// customer through channel ("*": every role).
func channel(name string) string {
	var rels []string
	for _, r := range catalog.EndCustomerRoles {
		if name == "*" || r.Channel == name {
			rels = append(rels, "end_customer_"+r.ID)
		}
	}
	return strings.Join(rels, " + ")
}

// endCustomer is the union of the end-customer role relations that grant the
// permission id, or "" when none does.
func endCustomer(id string) string {
	var rels []string
	for _, r := range catalog.EndCustomerRoles {
		if slices.Contains(r.Permissions, id) {
			rels = append(rels, "end_customer_"+r.ID)
		}
	}
	return strings.Join(rels, " + ")
}
