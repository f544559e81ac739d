// Package docs is the reference the README links to; its tests keep every
// page true to the code (the built-in roles, the links, the REST calls).
package docs
