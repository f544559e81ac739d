package console

import (
	"html/template"
	"net/url"
)

// funcs are the templates' helpers.
var funcs = template.FuncMap{
	// half is a node's vertical centre offset, for its label.
	"half":        func(n int) int { return n + nodeHeight/2 + 5 },
	"nodeWidth":   func() int { return nodeWidth },
	"nodeHeight":  func() int { return nodeHeight },
	"plus":        func(a, b int) int { return a + b },
	"maxOffered":  func() int { return maxOffered },
	"maxLoginsAs": func() int { return maxLoginsAs },
	"count":       count,
	"int":         func(v int32) int { return int(v) },
	"sectionOf": func(class, heading string, s section) sectionPart {
		return sectionPart{Class: class, Heading: heading, Section: s}
	},
}

// sectionPart is a report's section with its heading, for its template.
type sectionPart struct {
	Class, Heading string
	Section        section
}

// query encodes pairs of keys and values, leaving out empty values.
func query(pairs ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(pairs); i += 2 {
		if pairs[i+1] != "" {
			q.Set(pairs[i], pairs[i+1])
		}
	}
	return q.Encode()
}

// customerPath is the path of a customer's page.
func customerPath(customer string) string { return "/customers/" + url.PathEscape(customer) }
