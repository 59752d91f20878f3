package litbench

import (
	"archive/tar"
	"compress/gzip"
	"io"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/genesis-science/genesis/internal/errors"
)

// Limits when reading the corpus archives: they are our own test data,
// but a damaged or substituted archive must still not exhaust memory.
const (
	maxCorpusFile  = 16 << 20  // one article
	maxCorpusTotal = 256 << 20 // all articles, uncompressed
	maxCorpusFiles = 10000
)

// CorpusFile is one file of a corpus archive.
type CorpusFile struct {
	Name string // "plos/10.1371_journal.pone.0002554.xml"
	Data []byte
}

// ReadCorpus reads every regular file of the .tar.gz archives in dir, in
// archive-name then file order. Sizes are bounded.
func ReadCorpus(dir string) ([]CorpusFile, error) {
	const op errors.Op = "litbench.ReadCorpus"
	archives, err := filepath.Glob(filepath.Join(dir, "*.tar.gz"))
	if err != nil {
		return nil, errors.E(op, errors.Invalid, err)
	}
	if len(archives) == 0 {
		return nil, errors.E(op, errors.Invalid, errors.Msg("no .tar.gz archives in the corpus directory"))
	}
	sort.Strings(archives)
	var out []CorpusFile
	total := 0
	for _, a := range archives {
		if err := func() error {
			f, err := os.Open(a)
			if err != nil {
				return errors.E(op, errors.Invalid, err)
			}
			defer f.Close()
			zr, err := gzip.NewReader(f)
			if err != nil {
				return errors.E(op, errors.Invalid, errors.Msg(filepath.Base(a)+": not gzip"), err)
			}
			tr := tar.NewReader(zr)
			for {
				h, err := tr.Next()
				if err == io.EOF {
					return nil
				}
				if err != nil {
					return errors.E(op, errors.Invalid, errors.Msg(filepath.Base(a)+": bad tar"), err)
				}
				if h.Typeflag != tar.TypeReg {
					continue
				}
				if h.Size > maxCorpusFile || total+int(h.Size) > maxCorpusTotal || len(out) == maxCorpusFiles {
					return errors.E(op, errors.Invalid, errors.Msg(filepath.Base(a)+": "+h.Name+": corpus limits exceeded"))
				}
				b, err := io.ReadAll(io.LimitReader(tr, maxCorpusFile+1))
				if err != nil {
					return errors.E(op, errors.Invalid, err)
				}
				total += len(b)
				out = append(out, CorpusFile{Name: strings.TrimPrefix(h.Name, "./"), Data: b})
			}
		}(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
