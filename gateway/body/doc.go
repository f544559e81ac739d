// Package body decodes REST request bodies strictly: exactly one JSON value,
// decoded as protojson does, with errors that name the JSON field at fault.
// It knows the contract's messages only through protobuf reflection.
package body
