// Package signin is mspauthz's OpenID Connect relying party: it verifies
// the JWT bearer tokens of MSPs' and customers' identity providers, and
// serves the console's sign-in (the authorization-code flow with PKCE,
// state and nonce, the demo sign-in of the embedded default, sign-out).
package signin
