// Package spicedb implements the graph port over a gRPC connection to SpiceDB,
// starts the embedded SpiceDB server, and writes the schema.
package spicedb
