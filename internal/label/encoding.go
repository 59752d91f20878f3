package label

import (
	"crypto/sha256"
	"encoding/binary"
	"slices"
	"strings"
)

// encodingVersion is the first byte of every binary encoding.
const encodingVersion = 1

// AppendBinary appends l's canonical binary encoding to b:
//
//	version (1 byte, = 1) | level (1 byte)
//	| uvarint n | n × (uvarint len | bytes)     compartments, sorted
//	| uvarint n | n × (uvarint len | bytes)     agreements, sorted
//	| 0                                         no REL TO, or
//	| 1 | uvarint n | n × 3 bytes               REL TO nations, USA first
//
// Equal labels have identical encodings, and different labels different
// ones, so the encoding (or Hash) can stand for the label in audit and
// lineage records.
func (l Label) AppendBinary(b []byte) ([]byte, error) {
	b = append(b, encodingVersion, byte(l.level))
	b = appendSet(b, l.Compartments())
	b = appendSet(b, l.Agreements())
	rel, ok := l.ReleasableTo()
	if !ok {
		return append(b, 0), nil
	}
	b = append(b, 1)
	b = binary.AppendUvarint(b, uint64(len(rel)))
	for _, n := range rel {
		b = append(b, n...)
	}
	return b, nil
}

func appendSet(b []byte, s []string) []byte {
	b = binary.AppendUvarint(b, uint64(len(s)))
	for _, t := range s {
		b = binary.AppendUvarint(b, uint64(len(t)))
		b = append(b, t...)
	}
	return b
}

// MarshalBinary returns l's canonical binary encoding; see AppendBinary.
func (l Label) MarshalBinary() ([]byte, error) { return l.AppendBinary(nil) }

// UnmarshalBinary decodes a canonical binary encoding. Anything that is not
// exactly the encoding of some label (bad version, unsorted or duplicate
// members, invalid tokens, trailing bytes) is rejected.
func (l *Label) UnmarshalBinary(b []byte) error {
	d := decoder{b: b}
	if d.byte() != encodingVersion {
		return d.fail("unknown encoding version")
	}
	lv := Level(d.byte())
	if d.err == nil && !lv.Valid() {
		return d.fail("unknown level")
	}
	comps := d.set()
	agrs := d.set()
	var rel []string
	restricted := false
	switch d.byte() {
	case 0:
	case 1:
		n := d.count()
		restricted, rel = true, make([]string, 0, min(n, MaxSetSize))
		for i := 0; i < n && d.err == nil; i++ {
			s := d.bytes(3)
			if d.err == nil && !isNation(s) {
				return d.fail("bad nation")
			}
			rel = append(rel, s)
		}
		if d.err == nil && (!slices.IsSortedFunc(rel, compareNation) || hasDup(rel)) {
			return d.fail("nations not in canonical order")
		}
	default:
		return d.fail("bad REL TO flag")
	}
	if d.err != nil {
		return d.err
	}
	if len(d.b) != 0 {
		return d.fail("trailing bytes")
	}
	out, err := New(lv, comps, agrs)
	if err != nil {
		return err
	}
	if restricted {
		if out, err = out.WithReleasableTo(rel...); err != nil {
			return err
		}
	}
	*l = out
	return nil
}

type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail(reason string) error {
	if d.err == nil {
		d.err = &ParseError{Token: "binary", Reason: reason}
	}
	return d.err
}

func (d *decoder) byte() byte {
	if d.err != nil {
		return 0
	}
	if len(d.b) == 0 {
		d.fail("truncated")
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) count() int {
	if d.err != nil {
		return 0
	}
	n, k := uvarint(d.b)
	if k <= 0 || n > MaxSetSize {
		d.fail("bad count")
		return 0
	}
	d.b = d.b[k:]
	return int(n)
}

func (d *decoder) bytes(n int) string {
	if d.err != nil {
		return ""
	}
	if len(d.b) < n {
		d.fail("truncated")
		return ""
	}
	s := string(d.b[:n])
	d.b = d.b[n:]
	return s
}

func (d *decoder) set() []string {
	n := d.count()
	if n == 0 || d.err != nil {
		return nil
	}
	out := make([]string, 0, n)
	for i := 0; i < n && d.err == nil; i++ {
		ln, k := uvarint(d.b)
		if k <= 0 || ln == 0 || ln > MaxTokenLen {
			d.fail("bad token length")
			return nil
		}
		d.b = d.b[k:]
		t := d.bytes(int(ln))
		if d.err == nil && (checkToken(t) != "" || t != strings.ToUpper(t)) {
			d.fail("bad token")
			return nil
		}
		out = append(out, t)
	}
	if d.err == nil && (!slices.IsSorted(out) || hasDup(out)) {
		d.fail("set not in canonical order")
	}
	return out
}

// uvarint is binary.Uvarint that also rejects non-minimal encodings, so
// that every label has exactly one encoding.
func uvarint(b []byte) (uint64, int) {
	n, k := binary.Uvarint(b)
	if k > 1 && b[k-1] == 0 {
		return 0, -1
	}
	return n, k
}

func hasDup(s []string) bool {
	for i := 1; i < len(s); i++ {
		if s[i] == s[i-1] {
			return true
		}
	}
	return false
}

// Hash is the SHA-256 of l's canonical binary encoding.
func (l Label) Hash() [32]byte {
	var buf [128]byte
	b, _ := l.AppendBinary(buf[:0])
	return sha256.Sum256(b)
}

// AppendKey appends a compact identity of l to b, for in-memory map keys:
// equal labels give equal keys and different labels different keys, within
// this process only (it encodes interned IDs). It neither sorts nor
// allocates beyond b; use AppendBinary for anything stored or sent.
func (l Label) AppendKey(b []byte) []byte {
	flags := byte(l.level) << 1
	if l.restricted {
		flags |= 1
	}
	b = append(b, flags)
	for _, s := range [3]*bitset{&l.comps, &l.agrs, &l.rel} {
		b = binary.LittleEndian.AppendUint64(b, s.w)
		b = binary.AppendUvarint(b, uint64(len(s.hi)))
		for _, w := range s.hi {
			b = binary.LittleEndian.AppendUint64(b, w)
		}
	}
	return b
}
