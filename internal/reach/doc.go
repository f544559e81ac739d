// Package reach is the reachability index: which users have access to
// which customers, by which paths, answered in memory from sets of the
// relationships that make access, kept from a snapshot of SpiceDB and its
// Watch, at a revision it knows.
package reach
