package llm

import (
	"bufio"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"fmt"
	"hash/fnv"
	"io"
	"maps"
	"math"
	"math/rand/v2"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/errors"
	"gonum.org/v1/gonum/blas/blas64"
	"gonum.org/v1/gonum/lapack/lapack64"
	"gonum.org/v1/gonum/mat"
)

// LSA is latent semantic analysis (Deerwester et al., 1990), a classical
// embedding that needs no network model: a TF-IDF term-document matrix
// over a corpus (sublinear term frequency 1+ln tf, idf ln(1+N/df), each
// document L2-normalised), truncated to its top singular vectors by a
// randomized SVD (Halko, Martinsson and Tropp, 2011: Gaussian sketch, one
// power iteration, oversampling 10). A text's embedding is Uₖᵀx, its
// TF-IDF vector x projected onto the k left singular vectors — for a
// corpus document that is its row of VₖΣₖ, the space in which LSA compares
// documents — normalised to unit length. A text with no vocabulary term
// embeds as the zero vector (it resembles nothing).
//
// Building is deterministic: the sketch's random numbers are seeded from
// the corpus, and each singular vector's sign is fixed.
type LSA struct {
	dim   int
	terms []string // sorted
	index map[string]int
	idf   []float32
	u     []float32 // len(terms)×dim, row-major
	model string
}

var _ Embedder = (*LSA)(nil)

// Limits of an LSA model.
const (
	// MaxVocabulary is the most terms kept (the most frequent by document
	// frequency).
	MaxVocabulary = 20000
	// DefaultLSADim is NewLSA's dimension when given dim ≤ 0.
	DefaultLSADim = 128
)

// NewLSA builds an LSA model of corpus with at most dim dimensions (fewer
// when the corpus has fewer distinct documents or terms). Terms that occur
// in only one document are dropped when the corpus has 20 or more
// documents. The vocabulary and idf come from every document; the SVD is
// fitted on at most 50,000 of them (evenly spaced), which bounds memory
// (about 100 MB at 128 dimensions) whatever the corpus size.
func NewLSA(corpus []string, dim int) *LSA {
	if dim <= 0 {
		dim = DefaultLSADim
	}
	dim = min(dim, MaxDimension)
	h := sha256.New()
	// The algorithm's version is hashed with the corpus, so that a model
	// name never covers two different sets of vectors.
	h.Write([]byte(lsaVersion))
	var lenBuf [8]byte
	counts := make([]map[string]int, len(corpus))
	df := map[string]int{}
	for i, doc := range corpus {
		binary.LittleEndian.PutUint64(lenBuf[:], uint64(len(doc)))
		h.Write(lenBuf[:])
		h.Write([]byte(doc))
		c := map[string]int{}
		for _, t := range Terms(doc) {
			c[t]++
		}
		for t := range c {
			df[t]++
		}
		counts[i] = c
	}
	sum := h.Sum(nil)
	n := len(corpus)
	minDF := 1
	if n >= 20 {
		minDF = 2
	}
	var terms []string
	for t, f := range df {
		if f >= minDF {
			terms = append(terms, t)
		}
	}
	slices.SortFunc(terms, func(a, b string) int {
		if df[a] != df[b] {
			return df[b] - df[a]
		}
		return strings.Compare(a, b)
	})
	if len(terms) > MaxVocabulary {
		terms = terms[:MaxVocabulary]
	}
	slices.Sort(terms)
	l := &LSA{terms: terms, index: make(map[string]int, len(terms)), idf: make([]float32, len(terms))}
	for i, t := range terms {
		l.index[t] = i
		l.idf[i] = float32(math.Log(1 + float64(n)/float64(df[t])))
	}
	// The columns of A: each document's normalised TF-IDF entries.
	type entry struct {
		t int
		w float64
	}
	var docs [][]entry
	for _, c := range counts {
		var col []entry
		for t, tf := range c {
			if i, ok := l.index[t]; ok {
				col = append(col, entry{i, (1 + math.Log(float64(tf))) * float64(l.idf[i])})
			}
		}
		// Sums in term order, so that a build is bit-for-bit repeatable.
		slices.SortFunc(col, func(a, b entry) int { return a.t - b.t })
		norm := 0.0
		for _, e := range col {
			norm += e.w * e.w
		}
		if norm == 0 {
			continue
		}
		norm = math.Sqrt(norm)
		for j := range col {
			col[j].w /= norm
		}
		docs = append(docs, col)
	}
	if len(docs) > maxFitDocs {
		// Fit the subspace on an evenly spaced sample; every text, these
		// documents included, is still folded in the same way.
		sample := make([][]entry, maxFitDocs)
		for i := range sample {
			sample[i] = docs[i*len(docs)/maxFitDocs]
		}
		docs = sample
	}
	V, N := len(terms), len(docs)
	k := min(dim, V, N)
	l.dim = k
	l.model = fmt.Sprintf("lsa-%d-%s", k, hex.EncodeToString(sum[:6]))
	if k == 0 {
		return l
	}
	p := min(k+10, V, N) // sketch width
	rng := rand.New(rand.NewPCG(binary.LittleEndian.Uint64(sum[:8]), binary.LittleEndian.Uint64(sum[8:16])))
	// Y = A·Ω (V×p), Ω Gaussian N×p.
	omega := make([]float64, N*p)
	for i := range omega {
		omega[i] = rng.NormFloat64()
	}
	mulA := func(x []float64) []float64 { // A·x, x is N×p
		y := make([]float64, V*p)
		for d, col := range docs {
			xd := x[d*p : (d+1)*p]
			for _, e := range col {
				yt := y[e.t*p : (e.t+1)*p]
				for j, v := range xd {
					yt[j] += e.w * v
				}
			}
		}
		return y
	}
	mulAT := func(y []float64) []float64 { // Aᵀ·y, y is V×p
		z := make([]float64, N*p)
		for d, col := range docs {
			zd := z[d*p : (d+1)*p]
			for _, e := range col {
				yt := y[e.t*p : (e.t+1)*p]
				for j, v := range yt {
					zd[j] += e.w * v
				}
			}
		}
		return z
	}
	q := orthonormalize(mulA(omega), V, p)
	// One power iteration: on the literature corpus (19,294 passages,
	// 75 judged queries) it ranked as well as two, in half the time.
	for range 1 {
		z := orthonormalize(mulAT(q), N, p)
		q = orthonormalize(mulA(z), V, p)
	}
	// Z = Aᵀ·Q = (QᵀA)ᵀ; if Z = W·S·Rᵀ then QᵀA = R·S·Wᵀ, so A ≈ (Q·R)·S·Wᵀ.
	z := mat.NewDense(N, p, mulAT(q))
	var svd mat.SVD
	if !svd.Factorize(z, mat.SVDThin) {
		// LAPACK did not converge: keep the sketch's basis, which still
		// spans the dominant subspace.
		l.u = make([]float32, V*k)
		for t := 0; t < V; t++ {
			for j := 0; j < k; j++ {
				l.u[t*k+j] = float32(q[t*p+j])
			}
		}
		return l
	}
	var r mat.Dense
	svd.VTo(&r) // p×p, columns ordered by decreasing singular value
	qm := mat.NewDense(V, p, q)
	var u mat.Dense
	u.Mul(qm, r.Slice(0, p, 0, k))
	l.u = make([]float32, V*k)
	for j := 0; j < k; j++ {
		best, sign := 0.0, 1.0
		for t := 0; t < V; t++ {
			if v := u.At(t, j); math.Abs(v) > best+1e-12 {
				best = math.Abs(v)
				sign = math.Copysign(1, v)
			}
		}
		for t := 0; t < V; t++ {
			l.u[t*k+j] = float32(sign * u.At(t, j))
		}
	}
	return l
}

// lsaVersion changes whenever NewLSA would build different vectors.
const lsaVersion = "genesis-lsa 2: tfidf 1+ln(tf) ln(1+N/df) l2; rsvd p=k+10 q=1; sample 50000\n"

// maxFitDocs bounds the documents the SVD is fitted on.
var maxFitDocs = 50000

// orthonormalize returns an orthonormal basis of the columns of the rows×cols
// row-major matrix a (thin QR).
func orthonormalize(a []float64, rows, cols int) []float64 {
	g := blas64.General{Rows: rows, Cols: cols, Stride: cols, Data: a}
	tau := make([]float64, min(rows, cols))
	work := make([]float64, 1)
	lapack64.Geqrf(g, tau, work, -1)
	work = make([]float64, int(work[0]))
	lapack64.Geqrf(g, tau, work, len(work))
	work = make([]float64, 1)
	lapack64.Orgqr(g, tau, work, -1)
	work = make([]float64, int(work[0]))
	lapack64.Orgqr(g, tau, work, len(work))
	return a
}

// Model names the model: "lsa-DIM-HASH", HASH from the corpus and the
// algorithm's version.
func (l *LSA) Model() string { return l.model }

// Dim is the embeddings' length.
func (l *LSA) Dim() int { return l.dim }

// Vocabulary is the number of terms.
func (l *LSA) Vocabulary() int { return len(l.terms) }

// Embed embeds texts: unit vectors, or zero vectors for texts with no
// vocabulary term.
func (l *LSA) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	if l.dim == 0 {
		return nil, errors.E(errors.Op("llm.LSA.Embed"), errors.Invalid, errors.Msg("the LSA model is empty (its corpus had no terms)"))
	}
	out := make([][]float32, len(texts))
	for i, s := range texts {
		if i%64 == 0 && ctx.Err() != nil {
			return nil, errors.E(errors.Op("llm.LSA.Embed"), ctx.Err())
		}
		out[i] = l.embed(s)
	}
	return out, nil
}

func (l *LSA) embed(s string) []float32 {
	tf := map[int]int{}
	for _, t := range Terms(s) {
		if i, ok := l.index[t]; ok {
			tf[i]++
		}
	}
	ts := slices.Sorted(maps.Keys(tf))
	y := make([]float64, l.dim)
	for _, t := range ts {
		w := (1 + math.Log(float64(tf[t]))) * float64(l.idf[t])
		row := l.u[t*l.dim : (t+1)*l.dim]
		for j, v := range row {
			y[j] += w * float64(v)
		}
	}
	return unit(y)
}

func unit(y []float64) []float32 {
	n := 0.0
	for _, v := range y {
		n += v * v
	}
	out := make([]float32, len(y))
	if n == 0 {
		return out
	}
	n = math.Sqrt(n)
	for j, v := range y {
		out[j] = float32(v / n)
	}
	return out
}

// HashEmbedder embeds by the hashing trick: each term adds ±(1+ln tf) to
// one of dim buckets chosen by its FNV-1a hash; vectors are unit length
// (zero for texts without terms). It needs no corpus and is deterministic;
// texts sharing terms are similar, nothing more.
type HashEmbedder struct{ dim int }

// NewHashEmbedder returns a HashEmbedder of dim dimensions (≤ 0: 256).
func NewHashEmbedder(dim int) *HashEmbedder {
	if dim <= 0 {
		dim = 256
	}
	return &HashEmbedder{dim: min(dim, MaxDimension)}
}

// Model is "hash-DIM".
func (h *HashEmbedder) Model() string { return fmt.Sprintf("hash-%d", h.dim) }

// Embed embeds texts.
func (h *HashEmbedder) Embed(ctx context.Context, texts []string) ([][]float32, error) {
	out := make([][]float32, len(texts))
	for i, s := range texts {
		if i%64 == 0 && ctx.Err() != nil {
			return nil, errors.E(errors.Op("llm.HashEmbedder.Embed"), ctx.Err())
		}
		tf := map[string]int{}
		for _, t := range Terms(s) {
			tf[t]++
		}
		y := make([]float64, h.dim)
		for _, t := range slices.Sorted(maps.Keys(tf)) {
			c := tf[t]
			f := fnv.New64a()
			f.Write([]byte(t))
			x := f.Sum64()
			w := 1 + math.Log(float64(c))
			if x>>63 == 1 {
				w = -w
			}
			y[int(x%uint64(h.dim))] += w
		}
		out[i] = unit(y)
	}
	return out, nil
}

// The saved form of an LSA model: the magic line, then uvarints and
// little-endian float32s —
//
//	"genesis-lsa 1\n" dim vocab (len term idf)… u[vocab×dim] len model
const lsaMagic = "genesis-lsa 1\n"

// Save writes the model.
func (l *LSA) Save(w io.Writer) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(lsaMagic)
	var buf [binary.MaxVarintLen64]byte
	uv := func(x int) { bw.Write(buf[:binary.PutUvarint(buf[:], uint64(x))]) }
	f32 := func(f float32) {
		var b [4]byte
		binary.LittleEndian.PutUint32(b[:], math.Float32bits(f))
		bw.Write(b[:])
	}
	uv(l.dim)
	uv(len(l.terms))
	for i, t := range l.terms {
		uv(len(t))
		bw.WriteString(t)
		f32(l.idf[i])
	}
	for _, v := range l.u {
		f32(v)
	}
	uv(len(l.model))
	bw.WriteString(l.model)
	if err := bw.Flush(); err != nil {
		return errors.E(errors.Op("llm.LSA.Save"), errors.Internal, err)
	}
	return nil
}

// LoadLSA reads a model Save wrote. A malformed or truncated file is an
// Invalid error saying what is wrong; memory is bounded by the file's
// size (and at most MaxVocabulary×MaxDimension values).
func LoadLSA(r io.Reader) (*LSA, error) {
	const op errors.Op = "llm.LoadLSA"
	bad := func(format string, a ...any) error {
		return errors.E(op, errors.Invalid, errors.Msg("LSA model file: "+fmt.Sprintf(format, a...)))
	}
	br := bufio.NewReader(r)
	magic := make([]byte, len(lsaMagic))
	if _, err := io.ReadFull(br, magic); err != nil || string(magic) != lsaMagic {
		return nil, bad("not a Genesis LSA model (bad magic line)")
	}
	uv := func(what string, max uint64) (int, error) {
		x, err := binary.ReadUvarint(br)
		if err != nil {
			return 0, bad("truncated at %s", what)
		}
		if x > max {
			return 0, bad("%s %d exceeds %d", what, x, max)
		}
		return int(x), nil
	}
	f32 := func(what string) (float32, error) {
		var b [4]byte
		if _, err := io.ReadFull(br, b[:]); err != nil {
			return 0, bad("truncated at %s", what)
		}
		f := math.Float32frombits(binary.LittleEndian.Uint32(b[:]))
		if math.IsNaN(float64(f)) || math.IsInf(float64(f), 0) {
			return 0, bad("%s is not finite", what)
		}
		return f, nil
	}
	dim, err := uv("dimension", MaxDimension)
	if err != nil {
		return nil, err
	}
	nt, err := uv("vocabulary size", MaxVocabulary)
	if err != nil {
		return nil, err
	}
	l := &LSA{dim: dim, index: map[string]int{}}
	for i := 0; i < nt; i++ {
		n, err := uv("term length", maxTermBytes*4)
		if err != nil {
			return nil, err
		}
		b := make([]byte, n)
		if _, err := io.ReadFull(br, b); err != nil {
			return nil, bad("truncated at term %d", i)
		}
		t := string(b)
		if !utf8.ValidString(t) || n == 0 || SanitizeLine(t) != t || strings.ContainsRune(t, ' ') {
			return nil, bad("term %d is not a term", i)
		}
		if i > 0 && t <= l.terms[i-1] {
			return nil, bad("terms are not sorted and distinct at term %d", i)
		}
		idf, err := f32(fmt.Sprintf("idf %d", i))
		if err != nil {
			return nil, err
		}
		if idf < 0 {
			return nil, bad("idf %d is negative", i)
		}
		l.terms = append(l.terms, t)
		l.idf = append(l.idf, idf)
		l.index[t] = i
	}
	for i := 0; i < nt*dim; i++ { // grows with the file read, not the header
		v, err := f32("vector value")
		if err != nil {
			return nil, err
		}
		l.u = append(l.u, v)
	}
	n, err := uv("model name length", 256)
	if err != nil {
		return nil, err
	}
	b := make([]byte, n)
	if _, err := io.ReadFull(br, b); err != nil {
		return nil, bad("truncated at the model name")
	}
	l.model = string(b)
	if l.model == "" || SanitizeLine(l.model) != l.model {
		return nil, bad("the model name is not one line of text")
	}
	if _, err := br.ReadByte(); err != io.EOF {
		return nil, bad("trailing data after the model")
	}
	if dim == 0 && nt > 0 {
		return nil, bad("a vocabulary without dimensions")
	}
	return l, nil
}
