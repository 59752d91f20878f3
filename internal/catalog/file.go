package catalog

import (
	"context"
	"io"
	"sort"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/errors"
)

// FileReader reads one file of a manifest through its chunks, verifying
// each chunk, with Seek for HTTP range requests.
type FileReader struct {
	ctx   context.Context
	g     blob.Getter
	e     manifest.Entry
	ends  []int64 // ends[i]: file offset just past chunk i
	off   int64
	cache []byte // the current chunk piece
	cidx  int
}

// NewFileReader returns a reader of file entry e whose chunks g serves.
func NewFileReader(ctx context.Context, g blob.Getter, e manifest.Entry) *FileReader {
	r := &FileReader{ctx: ctx, g: g, e: e, cidx: -1}
	var end int64
	for _, c := range e.Chunks {
		end += c.Size
		r.ends = append(r.ends, end)
	}
	return r
}

func (r *FileReader) Read(p []byte) (int, error) {
	if r.off >= r.e.Size {
		return 0, io.EOF
	}
	i := sort.Search(len(r.ends), func(i int) bool { return r.ends[i] > r.off })
	if i >= len(r.ends) {
		return 0, errors.E(errors.Op("catalog.FileReader"), errors.Internal, errors.Msg("manifest chunk sizes do not cover the file"))
	}
	if i != r.cidx {
		c := r.e.Chunks[i]
		b, err := r.g.Get(r.ctx, c.ID, c.Offset, c.Size)
		if err != nil {
			return 0, err
		}
		if int64(len(b)) != c.Size {
			return 0, errors.E(errors.Op("catalog.FileReader"), errors.Internal, errors.Msg("a chunk is shorter than the manifest says"))
		}
		r.cache, r.cidx = b, i
	}
	start := r.ends[i] - r.e.Chunks[i].Size
	n := copy(p, r.cache[r.off-start:])
	r.off += int64(n)
	return n, nil
}

func (r *FileReader) Seek(offset int64, whence int) (int64, error) {
	switch whence {
	case io.SeekStart:
	case io.SeekCurrent:
		offset += r.off
	case io.SeekEnd:
		offset += r.e.Size
	}
	if offset < 0 {
		return 0, errors.E(errors.Op("catalog.FileReader.Seek"), errors.Invalid, errors.Msg("negative offset"))
	}
	r.off = offset
	return offset, nil
}

// assetGetter serves the chunks of one readable asset.
type assetGetter struct {
	s     *Service
	asset string
}

func (g assetGetter) Get(ctx context.Context, id blob.ID, off, n int64) ([]byte, error) {
	return g.s.blobs.Get(ctx, id, off, n)
}

// OpenFile opens path in version v of a readable asset.
func (s *Service) OpenFile(ctx context.Context, p *genesis.Principal, idOrName string, v int64, path string) (*FileReader, *Asset, *Version, manifest.Entry, error) {
	const op errors.Op = "catalog.OpenFile"
	a, ver, m, err := s.Manifest(ctx, p, idOrName, v)
	if err != nil {
		return nil, nil, nil, manifest.Entry{}, err
	}
	e, ok := m.Lookup(path)
	if !ok {
		return nil, nil, nil, manifest.Entry{}, errors.E(op, errors.NotExist, errors.Msg("no such file in this version"))
	}
	if e.Type != manifest.File {
		return nil, nil, nil, manifest.Entry{}, errors.E(op, errors.Invalid, errors.Field("path"), errors.Msg("not a regular file"))
	}
	return NewFileReader(ctx, assetGetter{s, a.ID}, e), a, ver, e, nil
}
