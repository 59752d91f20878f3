// Package manifest is the description of a file tree as chunks: for each
// path its type, mode, mtime, size, whole-file hash and chunk list. A
// dataset version is one manifest, itself stored as a blob.
//
// The encoding is line-oriented text with one canonical form, so the same
// tree always gives the same bytes (and blob ID), and a decoded manifest
// re-encodes to exactly its input:
//
//	genesis-manifest 1
//	d "data" 0755 1700000000000000000
//	f "data/a.csv" 0644 1700000000000000000 2097152 <file-blake3-hex>
//	c <chunk-id-hex> 1048576
//	c <chunk-id-hex> 1048576
//	f "data/b.txt" 0644 1700000000000000000 12 <file-blake3-hex>
//	c <chunk-id-hex> 12 40960
//	l "data/latest" 1700000000000000000 "a.csv"
//
// Lines: d = directory (path, mode, mtime in Unix nanoseconds), f = regular
// file (path, mode, mtime, size, BLAKE3 of the whole content) followed by its
// pieces in order (c id size [offset-in-chunk, omitted when 0]),
// l = symbolic link (path, mtime, target).
// Paths and targets are Go-quoted strings (strconv.Quote).
//
// Guarantees of Decode/Unmarshal (strict; the input may come from anyone):
// paths are relative, slash-separated, clean, valid UTF-8, without "." or
// ".." components, empty components or control characters, at most 4096
// bytes; entries are sorted by path with no duplicates; no entry lies below
// a file or symlink; a file's chunk sizes sum to its size; a symlink's
// target is relative and stays inside the tree. Violations are
// errors.Invalid naming the line.
package manifest

import (
	"bufio"
	"bytes"
	"fmt"
	"io"
	"path"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/errors"
)

// Header is the first line of every manifest.
const Header = "genesis-manifest 1"

// Limits.
const (
	MaxPathLen  = 4096
	MaxNameLen  = 255
	maxLineLen  = 4*MaxPathLen + 64 // a quoted path and target, escaped
	MaxModeBits = 0o7777
)

// Type is an entry's kind.
type Type byte

const (
	File    Type = 'f'
	Dir     Type = 'd'
	Symlink Type = 'l'
)

// Chunk is one piece of a file, in order: Size bytes of chunk ID starting
// at Offset within the chunk. Large files use whole chunks (Offset 0, Size
// the chunk's size); small files are packed several to a chunk.
type Chunk struct {
	ID     blob.ID
	Offset int64
	Size   int64
}

// Entry is one path in the tree.
type Entry struct {
	Path   string // relative, slash-separated
	Type   Type
	Mode   uint32 // permission bits (and setuid/setgid/sticky), ≤ 0o7777; 0 for symlinks
	MTime  int64  // Unix nanoseconds
	Size   int64  // files only
	Hash   blob.ID
	Chunks []Chunk // files only
	Target string  // symlinks only
}

// Manifest is a file tree. Entries are sorted by Path (byte order).
type Manifest struct {
	Entries []Entry
}

// Stats summarises a manifest.
type Stats struct {
	Files, Dirs, Symlinks int
	Bytes                 int64 // sum of file sizes
	Chunks                int   // chunk references, with repeats
}

// Stats counts entries and bytes.
func (m *Manifest) Stats() Stats {
	var s Stats
	for _, e := range m.Entries {
		switch e.Type {
		case File:
			s.Files++
			s.Bytes += e.Size
			s.Chunks += len(e.Chunks)
		case Dir:
			s.Dirs++
		case Symlink:
			s.Symlinks++
		}
	}
	return s
}

// ChunkIDs returns every chunk the manifest references, once each, in
// first-use order.
func (m *Manifest) ChunkIDs() []blob.ID {
	seen := map[blob.ID]bool{}
	var out []blob.ID
	for _, e := range m.Entries {
		for _, c := range e.Chunks {
			if !seen[c.ID] {
				seen[c.ID] = true
				out = append(out, c.ID)
			}
		}
	}
	return out
}

// Lookup returns the entry for p, if any (binary search).
func (m *Manifest) Lookup(p string) (Entry, bool) {
	lo, hi := 0, len(m.Entries)
	for lo < hi {
		mid := (lo + hi) / 2
		if m.Entries[mid].Path < p {
			lo = mid + 1
		} else {
			hi = mid
		}
	}
	if lo < len(m.Entries) && m.Entries[lo].Path == p {
		return m.Entries[lo], true
	}
	return Entry{}, false
}

// CheckPath reports whether p is an acceptable entry path.
func CheckPath(p string) error {
	const op errors.Op = "manifest.CheckPath"
	if err := checkPath(p); err != "" {
		return errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("path %q: %s", p, err)))
	}
	return nil
}

func checkPath(p string) string {
	switch {
	case p == "":
		return "empty path"
	case len(p) > MaxPathLen:
		return "path longer than 4096 bytes"
	case !utf8.ValidString(p):
		return "path is not valid UTF-8"
	case strings.HasPrefix(p, "/"):
		return "absolute path"
	}
	for _, r := range p {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return "path contains a control character"
		}
	}
	for _, name := range strings.Split(p, "/") {
		switch {
		case name == "":
			return "path has an empty component"
		case name == "..":
			return `path contains ".."`
		case name == ".":
			return `path contains "."`
		case len(name) > MaxNameLen:
			return "path component longer than 255 bytes"
		}
	}
	return ""
}

// CheckTarget reports whether target is an acceptable target for a symlink
// at linkPath: relative, and resolving lexically inside the tree.
func CheckTarget(linkPath, target string) error {
	const op errors.Op = "manifest.CheckTarget"
	if err := checkTarget(linkPath, target); err != "" {
		return errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("symlink %q -> %q: %s", linkPath, target, err)))
	}
	return nil
}

// checkTarget validates a symlink target relative to the link's path.
func checkTarget(linkPath, target string) string {
	switch {
	case target == "":
		return "empty symlink target"
	case len(target) > MaxPathLen:
		return "symlink target longer than 4096 bytes"
	case !utf8.ValidString(target):
		return "symlink target is not valid UTF-8"
	case strings.HasPrefix(target, "/"):
		return "symlink target is absolute"
	}
	for _, r := range target {
		if r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) {
			return "symlink target contains a control character"
		}
	}
	full := path.Join(path.Dir(linkPath), target)
	if full == ".." || strings.HasPrefix(full, "../") {
		return "symlink target points outside the tree"
	}
	return ""
}

// Validate checks every rule the decoder enforces.
func (m *Manifest) Validate() error {
	const op errors.Op = "manifest.Validate"
	if err := validate(m.Entries, func(i int) string { return fmt.Sprintf("entry %d", i+1) }); err != "" {
		return errors.E(op, errors.Invalid, errors.Msg(err))
	}
	return nil
}

// validate returns a user-safe description of the first problem, located
// by where(i), or "".
func validate(entries []Entry, where func(int) string) string {
	leaves := map[string]bool{} // files and symlinks: nothing may lie below them
	for i, e := range entries {
		bad := func(format string, args ...any) string {
			return where(i) + fmt.Sprintf(" (%q): ", e.Path) + fmt.Sprintf(format, args...)
		}
		if msg := checkPath(e.Path); msg != "" {
			return bad("%s", msg)
		}
		if i > 0 {
			switch prev := entries[i-1].Path; {
			case prev == e.Path:
				return bad("duplicate path")
			case prev > e.Path:
				return bad("entries are not sorted by path")
			}
		}
		for dir := path.Dir(e.Path); dir != "."; dir = path.Dir(dir) {
			if leaves[dir] {
				return bad("lies below %q, which is not a directory", dir)
			}
		}
		if e.Mode > MaxModeBits {
			return bad("mode %o has bits beyond 07777", e.Mode)
		}
		switch e.Type {
		case File:
			leaves[e.Path] = true
			if e.Target != "" {
				return bad("a file has a symlink target")
			}
			if e.Size < 0 {
				return bad("negative size")
			}
			var sum int64
			for j, c := range e.Chunks {
				if c.Size <= 0 || c.Size > blob.MaxSize {
					return bad("chunk %d has size %d, outside 1..%d", j+1, c.Size, blob.MaxSize)
				}
				if c.Offset < 0 || c.Offset > blob.MaxSize-c.Size {
					return bad("chunk %d has offset %d, beyond the largest chunk", j+1, c.Offset)
				}
				sum += c.Size
			}
			if sum != e.Size {
				return bad("size %d does not match the sum of its chunk sizes (%d)", e.Size, sum)
			}
		case Dir:
			if e.Size != 0 || len(e.Chunks) != 0 || !e.Hash.IsZero() || e.Target != "" {
				return bad("a directory has a size, hash, chunks or target")
			}
		case Symlink:
			leaves[e.Path] = true
			if e.Size != 0 || len(e.Chunks) != 0 || !e.Hash.IsZero() || e.Mode != 0 {
				return bad("a symlink has a size, hash, chunks or mode")
			}
			if msg := checkTarget(e.Path, e.Target); msg != "" {
				return bad("%s", msg)
			}
		default:
			return bad("unknown entry type %q", byte(e.Type))
		}
	}
	return ""
}

// Encode writes the canonical encoding of m after validating it.
func (m *Manifest) Encode(w io.Writer) error {
	const op errors.Op = "manifest.Encode"
	if err := m.Validate(); err != nil {
		return errors.E(op, err)
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	bw.WriteString(Header + "\n")
	var buf []byte
	for _, e := range m.Entries {
		buf = buf[:0]
		buf = append(buf, byte(e.Type), ' ')
		buf = strconv.AppendQuote(buf, e.Path)
		switch e.Type {
		case Dir:
			buf = fmt.Appendf(buf, " %04o %d\n", e.Mode, e.MTime)
		case File:
			buf = fmt.Appendf(buf, " %04o %d %d %s\n", e.Mode, e.MTime, e.Size, e.Hash)
			for _, c := range e.Chunks {
				if c.Offset == 0 {
					buf = fmt.Appendf(buf, "c %s %d\n", c.ID, c.Size)
				} else {
					buf = fmt.Appendf(buf, "c %s %d %d\n", c.ID, c.Size, c.Offset)
				}
			}
		case Symlink:
			buf = fmt.Appendf(buf, " %d ", e.MTime)
			buf = strconv.AppendQuote(buf, e.Target)
			buf = append(buf, '\n')
		}
		if _, err := bw.Write(buf); err != nil {
			return errors.E(op, err)
		}
	}
	if err := bw.Flush(); err != nil {
		return errors.E(op, err)
	}
	return nil
}

// Marshal returns the canonical encoding of m.
func (m *Manifest) Marshal() ([]byte, error) {
	var b bytes.Buffer
	if err := m.Encode(&b); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// Unmarshal decodes a manifest strictly.
func Unmarshal(b []byte) (*Manifest, error) { return Decode(bytes.NewReader(b)) }

// Decode reads a manifest strictly (see the package comment).
func Decode(r io.Reader) (*Manifest, error) {
	const op errors.Op = "manifest.Decode"
	br := bufio.NewReaderSize(r, 64<<10)
	var (
		m     Manifest
		lines []int // line of each entry
		n     int
	)
	fail := func(format string, args ...any) (*Manifest, error) {
		return nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("manifest line %d: ", n)+fmt.Sprintf(format, args...)))
	}
	for {
		line, err := readLine(br)
		if err == io.EOF {
			break
		}
		n++
		if err != nil {
			if errors.IsErr(err, errLineTooLong) || errors.IsErr(err, errNoNewline) {
				return fail("%v", err)
			}
			return nil, errors.E(op, err) // the reader's error, with its kind
		}
		if n == 1 {
			if line != Header {
				return fail("not a manifest (want first line %q)", Header)
			}
			continue
		}
		if len(line) < 2 || line[1] != ' ' {
			return fail("malformed line")
		}
		kind, rest := line[0], line[2:]
		if kind == 'c' {
			if len(m.Entries) == 0 || m.Entries[len(m.Entries)-1].Type != File {
				return fail("chunk line not after a file")
			}
			f := strings.Split(rest, " ")
			if len(f) != 2 && len(f) != 3 {
				return fail("chunk line needs an id, a size and an optional offset")
			}
			id, err := blob.ParseID(f[0])
			if err != nil {
				return fail("bad chunk id")
			}
			size, ok := parseInt(f[1])
			if !ok {
				return fail("bad chunk size %q", f[1])
			}
			var off int64
			if len(f) == 3 {
				if off, ok = parseInt(f[2]); !ok || off == 0 {
					return fail("bad chunk offset %q (omit it when 0)", f[2])
				}
			}
			e := &m.Entries[len(m.Entries)-1]
			e.Chunks = append(e.Chunks, Chunk{ID: id, Offset: off, Size: size})
			continue
		}
		p, rest, ok := cutQuoted(rest)
		if !ok {
			return fail("path must be a canonical Go-quoted string")
		}
		e := Entry{Path: p, Type: Type(kind)}
		var f []string
		if rest != "" {
			if rest[0] != ' ' {
				return fail("malformed line")
			}
			rest = rest[1:]
		}
		switch e.Type {
		case Dir:
			if f = strings.Split(rest, " "); len(f) != 2 {
				return fail("directory line needs mode and mtime")
			}
			if e.Mode, ok = parseMode(f[0]); !ok {
				return fail("bad mode %q (want 4 octal digits)", f[0])
			}
			if e.MTime, ok = parseInt64(f[1]); !ok {
				return fail("bad mtime %q", f[1])
			}
		case File:
			if f = strings.Split(rest, " "); len(f) != 4 {
				return fail("file line needs mode, mtime, size and hash")
			}
			if e.Mode, ok = parseMode(f[0]); !ok {
				return fail("bad mode %q (want 4 octal digits)", f[0])
			}
			if e.MTime, ok = parseInt64(f[1]); !ok {
				return fail("bad mtime %q", f[1])
			}
			if e.Size, ok = parseInt(f[2]); !ok {
				return fail("bad size %q", f[2])
			}
			if e.Hash, err = blob.ParseID(f[3]); err != nil {
				return fail("bad file hash")
			}
		case Symlink:
			mt, after, _ := strings.Cut(rest, " ")
			if e.MTime, ok = parseInt64(mt); !ok {
				return fail("bad mtime %q", mt)
			}
			var tail string
			if e.Target, tail, ok = cutQuoted(after); !ok || tail != "" {
				return fail("symlink target must be a canonical Go-quoted string")
			}
		default:
			return fail("unknown entry type %q", kind)
		}
		m.Entries = append(m.Entries, e)
		lines = append(lines, n)
	}
	if n == 0 {
		return nil, errors.E(op, errors.Invalid, errors.Msg("empty manifest"))
	}
	if msg := validate(m.Entries, func(i int) string { return fmt.Sprintf("manifest line %d", lines[i]) }); msg != "" {
		return nil, errors.E(op, errors.Invalid, errors.Msg(msg))
	}
	return &m, nil
}

var (
	errLineTooLong = errors.New("line too long")
	errNoNewline   = errors.New("missing newline at end of manifest")
)

func readLine(br *bufio.Reader) (string, error) {
	var b []byte
	for {
		frag, err := br.ReadSlice('\n')
		b = append(b, frag...)
		if len(b) > maxLineLen {
			return "", errLineTooLong
		}
		switch err {
		case nil:
			return string(b[:len(b)-1]), nil
		case bufio.ErrBufferFull:
			continue
		case io.EOF:
			if len(b) == 0 {
				return "", io.EOF
			}
			return "", errNoNewline
		default:
			return "", err
		}
	}
}

// cutQuoted takes a canonical Go-quoted string off the front of s.
func cutQuoted(s string) (val, rest string, ok bool) {
	q, err := strconv.QuotedPrefix(s)
	if err != nil || q[0] != '"' {
		return "", "", false
	}
	v, err := strconv.Unquote(q)
	if err != nil || strconv.Quote(v) != q {
		return "", "", false
	}
	return v, s[len(q):], true
}

// parseInt64 accepts canonical decimal (no "+", no leading zeros, no "-0").
func parseInt64(s string) (int64, bool) {
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil || strconv.FormatInt(v, 10) != s {
		return 0, false
	}
	return v, true
}

// parseInt accepts a canonical non-negative decimal.
func parseInt(s string) (int64, bool) {
	v, ok := parseInt64(s)
	return v, ok && v >= 0
}

func parseMode(s string) (uint32, bool) {
	if len(s) != 4 {
		return 0, false
	}
	v, err := strconv.ParseUint(s, 8, 32)
	if err != nil {
		return 0, false
	}
	return uint32(v), true
}
