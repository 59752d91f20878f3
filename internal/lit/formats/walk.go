package formats

import (
	"archive/tar"
	"archive/zip"
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
)

// Walk visits the publication files at path — a file, a directory (walked
// in lexical order), or a .zip, .tar, .tar.gz or .tgz archive — and calls
// fn with each one's name and contents (read at most MaxFile+1 bytes, so
// Parse can refuse an oversized file without the rest being read). Files
// whose format Detect does not recognise are skipped, as are a
// collection's README, LICENSE, MANIFEST and the like.
//
// Bounds: symbolic links inside a directory or archive are not followed;
// archive entries whose names are absolute or climb out with ".." are
// ignored; an archive of more than MaxArchiveEntries entries, more than
// MaxArchiveBytes uncompressed, or compressed more than
// MaxCompressionRatio:1 (past the first MiB) is refused, as is an archive
// inside an archive. An error from fn stops the walk and is returned.
func Walk(ctx context.Context, root string, fn func(name string, r io.Reader) error) error {
	const op = errors.Op("formats.Walk")
	info, err := os.Stat(root) // the path given is followed if it is a link
	if err != nil {
		return errors.E(op, errors.NotExist, errors.Msg(fmt.Sprintf("%s: no such file or directory", displayName(root))), err)
	}
	w := &walker{ctx: ctx, fn: fn}
	switch {
	case info.IsDir():
		err = w.dir(root)
	case info.Mode().IsRegular():
		err = w.file(root, info)
	default: // a device, a pipe, a socket: never read
		return errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("%s: not a regular file or directory", displayName(root))))
	}
	if err != nil {
		return errors.E(op, err)
	}
	return nil
}

type walker struct {
	ctx context.Context
	fn  func(name string, r io.Reader) error
}

func (w *walker) dir(root string) error {
	return filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if err := w.ctx.Err(); err != nil {
			return err
		}
		if d.IsDir() {
			if p != root && strings.HasPrefix(d.Name(), ".") {
				return filepath.SkipDir // .git and the like
			}
			return nil
		}
		if !d.Type().IsRegular() {
			return nil // symlinks, devices, sockets: not followed
		}
		info, err := d.Info()
		if err != nil {
			return err
		}
		return w.file(p, info)
	})
}

// archiveKind names the archive format of a file name, or "".
func archiveKind(name string) string {
	n := strings.ToLower(name)
	switch {
	case strings.HasSuffix(n, ".zip"):
		return "zip"
	case strings.HasSuffix(n, ".tar.gz"), strings.HasSuffix(n, ".tgz"):
		return "tgz"
	case strings.HasSuffix(n, ".tar"):
		return "tar"
	}
	return ""
}

// nestedArchive reports whether an archive entry is itself an archive or
// compressed file, by name or by magic number.
func nestedArchive(name string, head []byte) bool {
	n := strings.ToLower(name)
	for _, ext := range []string{".zip", ".tar", ".tgz", ".gz", ".bz2", ".xz", ".7z", ".rar", ".zst", ".lz", ".lzma", ".z", ".jar"} {
		if strings.HasSuffix(n, ext) {
			return true
		}
	}
	for _, magic := range [][]byte{{'P', 'K', 3, 4}, {0x1f, 0x8b}, []byte("BZh"), {0xfd, '7', 'z', 'X', 'Z', 0}, {'7', 'z', 0xbc, 0xaf}, {0x28, 0xb5, 0x2f, 0xfd}, []byte("Rar!")} {
		if bytes.HasPrefix(head, magic) {
			return true
		}
	}
	return len(head) > 262 && bytes.Equal(head[257:262], []byte("ustar"))
}

func (w *walker) file(p string, info fs.FileInfo) error {
	switch archiveKind(p) {
	case "zip":
		return w.zip(p, info.Size())
	case "tar", "tgz":
		return w.tar(p, info.Size(), archiveKind(p) == "tgz")
	}
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	return w.visit(p, f)
}

// notPublication reports whether a file's name marks it as a collection's
// documentation (README.md, LICENSE.txt, …), not one of its publications.
func notPublication(name string) bool {
	base := strings.ToLower(path.Base(strings.ReplaceAll(name, "\\", "/")))
	for _, p := range []string{"readme", "license", "licence", "copying", "changelog", "manifest", "notice", "contributing"} {
		if strings.HasPrefix(base, p) {
			return true
		}
	}
	return false
}

// visit sniffs r and calls fn when it holds a publication.
func (w *walker) visit(name string, r io.Reader) error {
	if notPublication(name) {
		return nil
	}
	br := bufio.NewReaderSize(io.LimitReader(r, MaxFile+1), 4096)
	head, _ := br.Peek(4096)
	if Detect(name, head) == "" {
		return nil
	}
	return w.fn(name, br)
}

// safeEntryName returns an archive entry's name cleaned, or "" when it is
// absolute or climbs out of the archive (such entries are ignored).
func safeEntryName(n string) string {
	n = strings.ReplaceAll(n, "\\", "/")
	if n == "" || strings.HasPrefix(n, "/") || (len(n) > 1 && n[1] == ':') {
		return ""
	}
	for _, part := range strings.Split(n, "/") {
		if part == ".." {
			return ""
		}
	}
	c := path.Clean(n)
	if c == "." || strings.HasPrefix(c, "../") {
		return ""
	}
	return c
}

func tooLarge(format string, args ...any) error {
	return errors.E(errors.TooLarge, errors.Msg(fmt.Sprintf(format, args...)))
}

func invalidArchive(format string, args ...any) error {
	return errors.E(errors.Invalid, errors.Msg(fmt.Sprintf(format, args...)))
}

// budget counts an archive's uncompressed bytes against MaxArchiveBytes
// and the compression ratio against the compressed bytes consumed.
type budget struct {
	archive    string
	total      int64
	compressed func() int64
}

func (b *budget) add(n int) error {
	b.total += int64(n)
	if b.total > MaxArchiveBytes {
		return tooLarge("%s: more than %d MiB uncompressed, the most an archive may hold", displayName(b.archive), MaxArchiveBytes>>20)
	}
	if c := b.compressed(); b.total > ratioSlack && b.total > c*MaxCompressionRatio {
		return tooLarge("%s: compressed more than %d:1 (a zip bomb?)", displayName(b.archive), MaxCompressionRatio)
	}
	return nil
}

// countingReader enforces a budget as bytes are read.
type countingReader struct {
	r io.Reader
	b *budget
}

func (c *countingReader) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	if n > 0 {
		if berr := c.b.add(n); berr != nil {
			return n, berr
		}
	}
	return n, err
}

func (w *walker) zip(p string, size int64) error {
	zr, err := zip.OpenReader(p)
	if err != nil {
		return invalidArchive("%s: not a readable zip archive: %v", displayName(p), err)
	}
	defer zr.Close()
	if len(zr.File) > MaxArchiveEntries {
		return tooLarge("%s: %d entries, more than the %d an archive may hold", displayName(p), len(zr.File), MaxArchiveEntries)
	}
	var declared uint64
	for _, f := range zr.File {
		declared += f.UncompressedSize64
	}
	if declared > MaxArchiveBytes {
		return tooLarge("%s: declares %d MiB uncompressed, more than the %d MiB an archive may hold", displayName(p), declared>>20, MaxArchiveBytes>>20)
	}
	files := append([]*zip.File(nil), zr.File...)
	sort.SliceStable(files, func(i, j int) bool { return files[i].Name < files[j].Name })
	// The declared sizes may lie: what is actually inflated is counted,
	// per entry (ratio to its compressed size) and for the whole archive
	// (total, and ratio to the archive file's size).
	whole := &budget{archive: p, compressed: func() int64 { return size }}
	for _, f := range files {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		mode := f.Mode()
		if mode.IsDir() || mode&fs.ModeSymlink != 0 || !mode.IsRegular() {
			continue
		}
		name := safeEntryName(f.Name)
		if name == "" {
			continue
		}
		if f.UncompressedSize64 > ratioSlack && f.UncompressedSize64 > f.CompressedSize64*MaxCompressionRatio {
			return tooLarge("%s: entry %s is compressed more than %d:1 (a zip bomb?)", displayName(p), displayName(name), MaxCompressionRatio)
		}
		rc, err := f.Open()
		if err != nil {
			return invalidArchive("%s: entry %s: %v", displayName(p), displayName(name), err)
		}
		csize := int64(f.CompressedSize64)
		one := &budget{archive: p, compressed: func() int64 { return csize }}
		err = w.entry(p, name, &countingReader{r: &countingReader{r: rc, b: one}, b: whole})
		rc.Close()
		if err != nil {
			return err
		}
	}
	return nil
}

// entry visits one archive member, refusing nested archives.
func (w *walker) entry(archive, name string, r io.Reader) error {
	br := bufio.NewReaderSize(r, 4096)
	head, err := br.Peek(512)
	if err != nil && err != io.EOF && err != bufio.ErrBufferFull {
		return readErr(archive, name, err)
	}
	if nestedArchive(name, head) {
		return invalidArchive("%s: entry %s is itself an archive; nested archives are refused (unpack it first)", displayName(archive), displayName(name))
	}
	full := archive + "/" + name
	err = w.visit(full, br)
	if err != nil {
		return err
	}
	// Drain what fn left unread so that the bounds see every byte (and a
	// bomb is found even when fn stops early); bounded by the budgets.
	if _, err := io.Copy(io.Discard, br); err != nil {
		return readErr(archive, name, err)
	}
	return nil
}

// readErr names the archive and entry a read failed in; a bound's error
// (already an *errors.Error) is kept as it is.
func readErr(archive, name string, err error) error {
	if errors.KindOf(err) != errors.Other {
		return err
	}
	return invalidArchive("%s: entry %s: %v", displayName(archive), displayName(name), err)
}

func (w *walker) tar(p string, size int64, gz bool) error {
	f, err := os.Open(p)
	if err != nil {
		return err
	}
	defer f.Close()
	cf := &countingFile{r: f}
	var r io.Reader = bufio.NewReader(cf)
	b := &budget{archive: p, compressed: func() int64 { return max(cf.n, 1) }}
	if gz {
		zr, err := gzip.NewReader(r)
		if err != nil {
			return invalidArchive("%s: not a gzip file: %v", displayName(p), err)
		}
		defer zr.Close()
		r = &countingReader{r: zr, b: b}
	} else {
		b.compressed = func() int64 { return size } // no compression: ratio 1
		r = &countingReader{r: r, b: b}
	}
	tr := tar.NewReader(r)
	entries := 0
	for {
		if err := w.ctx.Err(); err != nil {
			return err
		}
		h, err := tr.Next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			if errors.KindOf(err) == errors.TooLarge {
				return err
			}
			return invalidArchive("%s: not a readable tar archive: %v", displayName(p), err)
		}
		entries++
		if entries > MaxArchiveEntries {
			return tooLarge("%s: more than %d entries, the most an archive may hold", displayName(p), MaxArchiveEntries)
		}
		if h.Typeflag != tar.TypeReg {
			continue // directories, links, devices, sparse files
		}
		name := safeEntryName(h.Name)
		if name == "" {
			continue
		}
		if err := w.entry(p, name, tr); err != nil {
			return err
		}
	}
}

// countingFile counts the (compressed) bytes read from an archive file.
type countingFile struct {
	r io.Reader
	n int64
}

func (c *countingFile) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	c.n += int64(n)
	return n, err
}
