// Package schema holds the SpiceDB schema of mspauthz (msp.zed, embedded in the
// binary) and runs SpiceDB validation files against a schema.
package schema

import (
	"context"
	_ "embed"
	"fmt"
	"os"
	"path/filepath"

	"github.com/authzed/spicedb/pkg/development"
	devinterface "github.com/authzed/spicedb/pkg/proto/developer/v1"
)

//go:generate go run ./gen

// Text is the schema that mspauthz writes to SpiceDB.
//
//go:embed msp.zed
var Text string

// Problem is one failure found in a validation file: a schema or relationship
// error, a failed assertion, or an expected relation that does not hold.
type Problem struct {
	File    string
	Line    uint32
	Column  uint32
	Kind    string
	Message string
}

// String renders the problem as file:line:col: [KIND] message.
func (p Problem) String() string {
	return fmt.Sprintf("%s:%d:%d: [%s] %s", p.File, p.Line, p.Column, p.Kind, p.Message)
}

// ValidateFile runs a SpiceDB validation file: it loads its schema (inline, or
// schemaFile relative to the file), writes its relationships to a throwaway
// in-memory SpiceDB, then runs its assertions and its expected relations.
// It returns every problem found; the error is for a file that cannot be read
// or parsed at all.
func ValidateFile(ctx context.Context, path string) ([]Problem, error) {
	raw, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	return Validate(ctx, path, raw)
}

// Validate runs the validation file raw, named name; a schemaFile it refers to
// is read relative to name's directory.
func Validate(ctx context.Context, name string, raw []byte) ([]Problem, error) {
	yctx, devErrs, err := development.NewDevContextForYAML(ctx, raw,
		development.WithSourceFS(os.DirFS(filepath.Dir(name))))
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	if devErrs != nil {
		return problems(name, devErrs.InputErrors), nil
	}
	defer yctx.DevContext.Dispose()

	var found []Problem
	assertErrs, err := development.RunAllAssertions(yctx.DevContext, &yctx.Assertions)
	if err != nil {
		return nil, fmt.Errorf("%s: running assertions: %w", name, err)
	}
	found = append(found, problems(name, assertErrs)...)

	_, validationErrs, err := development.RunValidation(yctx.DevContext, &yctx.ExpectedRelations)
	if err != nil {
		return nil, fmt.Errorf("%s: running expected relations: %w", name, err)
	}
	return append(found, problems(name, validationErrs)...), nil
}

func problems(file string, errs []*devinterface.DeveloperError) []Problem {
	out := make([]Problem, 0, len(errs))
	for _, e := range errs {
		out = append(out, Problem{File: file, Line: e.GetLine(), Column: e.GetColumn(), Kind: e.GetKind().String(), Message: e.GetMessage()})
	}
	return out
}
