package graph

import (
	"encoding/base64"
	"encoding/json"

	"github.com/mspauthz/mspauthz/internal/fault"
)

// PageToken is what a list's next-page token holds: the revision its first
// page was read at (every page reads there, so a list is one consistent
// snapshot) and SpiceDB's cursor.
type PageToken struct {
	Revision Revision `json:"r"`
	Cursor   string   `json:"c"`
}

// Encode is the token as callers see it.
func (t PageToken) Encode() string {
	raw, _ := json.Marshal(t)
	return base64.RawURLEncoding.EncodeToString(raw)
}

// DecodePageToken reads a token that Encode made; anything else is bad input.
func DecodePageToken(token string) (PageToken, error) {
	var tok PageToken
	raw, err := base64.RawURLEncoding.DecodeString(token)
	if err == nil {
		err = json.Unmarshal(raw, &tok)
	}
	if err != nil || tok.Revision == "" || tok.Cursor == "" {
		return PageToken{}, fault.New(fault.Invalid, "pageToken: %q is not a token this list returned", token)
	}
	return tok, nil
}

// ContinuationError is the error of a read that continued a page token: bad
// input there means the token's list can no longer be read (its revision was
// garbage-collected, or the cursor is stale).
func ContinuationError(err error, tok PageToken) error {
	if tok.Cursor != "" && fault.Is(err, fault.Invalid) {
		return fault.Wrap(err, fault.Invalid, "pageToken: the list it continues can no longer be read; start again")
	}
	return err
}
