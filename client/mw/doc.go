// Package mw guards an application's net/http handlers and gRPC methods with
// mspauthz checks, in one line each.
package mw
