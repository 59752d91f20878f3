package slurm

import (
	"math"
	"time"
)

// AskEachJob makes b's Statuses ask about each job rather than list them
// all, as it does when the cluster holds many more jobs than are asked
// about.
func AskEachJob(b *Backend) {
	b.listMu.Lock()
	b.listed, b.clusterJobs = time.Now(), math.MaxInt
	b.listMu.Unlock()
}
