// Package client is the Go client of mspauthz for applications: typed calls
// over gRPC, sessions that keep reads at least as fresh as the caller's own
// writes, retries of what is safe to retry, and typed errors.
package client
