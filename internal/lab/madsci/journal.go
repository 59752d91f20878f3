package madsci

import (
	"bufio"
	"encoding/json"
	"os"
	"path/filepath"
	"sync"

	"github.com/genesis-science/genesis/internal/errors"
)

// A MADSci node chooses the action_id itself (POST /action/{name} answers
// it), so the driver keeps the map from Genesis request IDs to node action
// IDs. With a state directory the map is an append-only file, each record
// synced before the node is asked to start the action, so a driver that
// restarts finds the action again instead of running it twice.

// phase is how far the driver got with a request.
type phase string

const (
	created phase = "created" // the node gave an action_id; start not confirmed
	started phase = "started" // the node answered start
	dropped phase = "dropped" // the node refused it (not_ready): nothing ran
)

type entry struct {
	ID       string `json:"id"`
	Action   string `json:"action"`
	ActionID string `json:"action_id,omitempty"`
	Phase    phase  `json:"phase"`
}

type journal struct {
	mu     sync.Mutex
	f      *os.File // nil: in memory only
	byID   map[string]entry
	byNode map[string]string // node action_id → request ID
}

const journalFile = "madsci-actions.jsonl"

func openJournal(dir string) (*journal, error) {
	const op errors.Op = "madsci.openJournal"
	j := &journal{byID: map[string]entry{}, byNode: map[string]string{}}
	if dir == "" {
		return j, nil
	}
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	path := filepath.Join(dir, journalFile)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		var e entry
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.ID == "" {
			continue // a torn last line: the record it began was not acted on
		}
		j.apply(e)
	}
	if err := sc.Err(); err != nil {
		f.Close()
		return nil, errors.E(op, errors.Internal, err)
	}
	j.f = f
	return j, nil
}

func (j *journal) apply(e entry) {
	if old, ok := j.byID[e.ID]; ok && old.ActionID != "" {
		delete(j.byNode, old.ActionID)
	}
	if e.Phase == dropped {
		delete(j.byID, e.ID)
		return
	}
	j.byID[e.ID] = e
	if e.ActionID != "" {
		j.byNode[e.ActionID] = e.ID
	}
}

func (j *journal) get(id string) (entry, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	e, ok := j.byID[id]
	return e, ok
}

func (j *journal) request(actionID string) (string, bool) {
	j.mu.Lock()
	defer j.mu.Unlock()
	id, ok := j.byNode[actionID]
	return id, ok
}

// put records e durably (written and synced) before it returns.
func (j *journal) put(e entry) error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f != nil {
		b, _ := json.Marshal(e)
		if _, err := j.f.Write(append(b, '\n')); err != nil {
			return errors.E(errors.Op("madsci.journal"), errors.Internal, err)
		}
		if err := j.f.Sync(); err != nil {
			return errors.E(errors.Op("madsci.journal"), errors.Internal, err)
		}
	}
	j.apply(e)
	return nil
}

func (j *journal) close() error {
	j.mu.Lock()
	defer j.mu.Unlock()
	if j.f == nil {
		return nil
	}
	err := j.f.Close()
	j.f = nil
	return err
}
