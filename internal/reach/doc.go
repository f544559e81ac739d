// Package reach is the materialized reachability index: which users have
// access to which customers, by how many paths, kept in memory from a
// snapshot of SpiceDB and its Watch, at a revision it knows.
package reach
