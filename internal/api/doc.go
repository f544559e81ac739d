// Package api implements the gRPC services of mspauthz.v1: it authenticates
// and authorizes each call, validates the request, calls the domain and maps
// its answer, and its errors, to the contract.
package api
