package audit

import "context"

// Range returns the entries [lo, hi) with their indexes, read in one pass
// (Get reads an entry's whole bundle for each entry). errors.NotExist if
// hi is beyond the log's integrated size or lo > hi.
func (l *Log) Range(ctx context.Context, lo, hi uint64) ([]Entry, error) {
	raw, err := l.entries(ctx, lo, hi)
	if err != nil {
		return nil, err
	}
	out := make([]Entry, len(raw))
	for i, e := range raw {
		r, err := DecodeRecord(e)
		if err != nil {
			return nil, err
		}
		out[i] = Entry{Index: lo + uint64(i), Record: r}
	}
	return out, nil
}
