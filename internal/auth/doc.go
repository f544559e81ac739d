// Package auth issues, verifies and revokes the API's bearer tokens, and
// carries the authenticated caller in the context.
package auth
