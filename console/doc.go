// Package console serves the web console people open: server-rendered pages
// (one file per page) over mspauthz's own gRPC API, called in process as the
// signed-in user, so that every refusal is the API's; it decides nothing.
package console
