package manifest

import "slices"

// ChangeKind says how a path differs between two manifests.
type ChangeKind byte

const (
	Added    ChangeKind = '+'
	Removed  ChangeKind = '-'
	Modified ChangeKind = 'M' // content, type or target changed
	Metadata ChangeKind = 'm' // only mode or mtime changed
)

// Change is one difference between two manifests.
type Change struct {
	Path string
	Kind ChangeKind
	Old  *Entry // nil when Added
	New  *Entry // nil when Removed
}

// Diff lists the differences from a to b in path order. Content is compared
// by file hash, so it needs no chunk reads.
func Diff(a, b *Manifest) []Change {
	var out []Change
	i, j := 0, 0
	for i < len(a.Entries) || j < len(b.Entries) {
		switch {
		case j == len(b.Entries) || (i < len(a.Entries) && a.Entries[i].Path < b.Entries[j].Path):
			out = append(out, Change{Path: a.Entries[i].Path, Kind: Removed, Old: &a.Entries[i]})
			i++
		case i == len(a.Entries) || b.Entries[j].Path < a.Entries[i].Path:
			out = append(out, Change{Path: b.Entries[j].Path, Kind: Added, New: &b.Entries[j]})
			j++
		default:
			x, y := &a.Entries[i], &b.Entries[j]
			switch {
			case x.Type != y.Type || x.Size != y.Size || x.Hash != y.Hash || x.Target != y.Target:
				out = append(out, Change{Path: x.Path, Kind: Modified, Old: x, New: y})
			case x.Mode != y.Mode || x.MTime != y.MTime || !slices.Equal(x.Chunks, y.Chunks):
				// Same content; chunk layout may differ (small files
				// repacked) without the bytes changing.
				if x.Mode != y.Mode || x.MTime != y.MTime {
					out = append(out, Change{Path: x.Path, Kind: Metadata, Old: x, New: y})
				}
			}
			i++
			j++
		}
	}
	return out
}
