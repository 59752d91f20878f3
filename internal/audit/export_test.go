package audit

// SetBatchHook makes every batch transaction of l call f after inserting
// its entries; an error from f rolls the batch back (a crash before
// commit).
func SetBatchHook(l *StoreLog, f func(first uint64, n int) error) { l.batchHook = f }
