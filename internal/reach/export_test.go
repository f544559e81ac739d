package reach

// PruneArrowsThrough sets how many objects an arrow goes through before it
// asks only the candidates, and returns what restores it.
func PruneArrowsThrough(n uint64) (restore func()) {
	was := fewObjects
	fewObjects = n
	return func() { fewObjects = was }
}
