package catalog_test

import (
	"os"
	"strings"
	"testing"

	"github.com/mspauthz/mspauthz/internal/catalog"
)

// The README documents the exact matrix of the built-in roles.
func TestReadmeShowsTheMatrix(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(readme), catalog.MatrixMarkdown()) {
		t.Fatalf("README.md does not show the built-in roles' matrix; paste:\n%s", catalog.MatrixMarkdown())
	}
}
