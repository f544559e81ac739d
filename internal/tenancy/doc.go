// Package tenancy is the domain of mspauthz: MSPs and their users, customers,
// customer groups and alert groups; the three association forms with their
// guards and reports; and the questions "who reaches what, and why". It knows
// SpiceDB only through the graph port.
package tenancy
