package manifest

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/chunk"
	"github.com/genesis-science/genesis/internal/errors"
)

// IndexHeader starts the blob that stands for a manifest too large for one
// chunk: it lists the chunks of the manifest's encoding, in order, as
// "c ID SIZE" lines.
const IndexHeader = "genesis-manifest-index 1"

// maxInline is the largest encoding stored as a single blob.
const maxInline = 4 << 20

// Put stores m and returns its ID: the blob of its encoding, or, for an
// encoding above 4 MiB, of an index blob listing the encoding's
// content-defined chunks (so successive versions of a large tree share
// most of their manifest chunks).
func Put(ctx context.Context, p blob.Putter, m *Manifest) (blob.ID, error) {
	const op errors.Op = "manifest.Put"
	enc, err := m.Marshal()
	if err != nil {
		return blob.ID{}, errors.E(op, err)
	}
	if len(enc) <= maxInline {
		id := blob.Sum(enc)
		if err := p.Put(ctx, id, enc); err != nil {
			return blob.ID{}, errors.E(op, err)
		}
		return id, nil
	}
	var idx bytes.Buffer
	idx.WriteString(IndexHeader + "\n")
	for d := enc; len(d) > 0; {
		n := chunk.DefaultParams.Cut(d, true)
		id := blob.Sum(d[:n])
		if err := p.Put(ctx, id, d[:n]); err != nil {
			return blob.ID{}, errors.E(op, err)
		}
		fmt.Fprintf(&idx, "c %s %d\n", id, n)
		d = d[n:]
	}
	if idx.Len() > blob.MaxSize {
		return blob.ID{}, errors.E(op, errors.TooLarge, errors.Msg("manifest too large"))
	}
	id := blob.Sum(idx.Bytes())
	if err := p.Put(ctx, id, idx.Bytes()); err != nil {
		return blob.ID{}, errors.E(op, err)
	}
	return id, nil
}

// Get loads and strictly decodes the manifest stored under id (as written
// by Put). Every chunk read is verified by the store.
func Get(ctx context.Context, g blob.Getter, id blob.ID) (*Manifest, error) {
	const op errors.Op = "manifest.Get"
	root, err := blob.ReadAll(ctx, g, id)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if !bytes.HasPrefix(root, []byte(IndexHeader+"\n")) {
		m, err := Unmarshal(root)
		if err != nil {
			return nil, errors.E(op, err)
		}
		return m, nil
	}
	parts, err := parseIndex(root)
	if err != nil {
		return nil, errors.E(op, err)
	}
	m, err := Decode(&partsReader{ctx: ctx, g: g, parts: parts})
	if err != nil {
		return nil, errors.E(op, err)
	}
	return m, nil
}

func parseIndex(b []byte) ([]Chunk, error) {
	const op errors.Op = "manifest.parseIndex"
	bad := func(n int, what string) error {
		return errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("manifest index line %d: %s", n, what)))
	}
	if len(b) == 0 || b[len(b)-1] != '\n' {
		return nil, bad(0, "missing final newline")
	}
	lines := strings.Split(string(b[:len(b)-1]), "\n")
	var parts []Chunk
	for i, line := range lines[1:] {
		f := strings.Split(line, " ")
		if len(f) != 3 || f[0] != "c" {
			return nil, bad(i+2, "malformed line")
		}
		id, err := blob.ParseID(f[1])
		if err != nil {
			return nil, bad(i+2, "bad chunk id")
		}
		size, ok := parseInt(f[2])
		if !ok || size == 0 || size > blob.MaxSize {
			return nil, bad(i+2, "bad chunk size")
		}
		parts = append(parts, Chunk{ID: id, Size: size})
	}
	return parts, nil
}

// partsReader streams the manifest's chunks one at a time, so decoding a
// huge manifest holds only one chunk of its encoding at once. It exists
// only for the duration of one Get call, which is why it may hold ctx.
type partsReader struct {
	ctx   context.Context
	g     blob.Getter
	parts []Chunk
	cur   []byte
}

func (r *partsReader) Read(p []byte) (int, error) {
	for len(r.cur) == 0 {
		if len(r.parts) == 0 {
			return 0, io.EOF
		}
		b, err := blob.ReadAll(r.ctx, r.g, r.parts[0].ID)
		if err != nil {
			return 0, err
		}
		if int64(len(b)) != r.parts[0].Size {
			return 0, errors.E("manifest.Get", errors.Invalid, errors.Msg("manifest index size does not match its chunk"))
		}
		r.cur, r.parts = b, r.parts[1:]
	}
	n := copy(p, r.cur)
	r.cur = r.cur[n:]
	return n, nil
}
