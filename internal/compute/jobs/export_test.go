package jobs

// SetBatches changes how many jobs a scheduling round follows and places,
// for the duration of a test.
func SetBatches(follow, place int) (restore func()) {
	f, p := followBatch, placeBatch
	followBatch, placeBatch = follow, place
	return func() { followBatch, placeBatch = f, p }
}
