package formats

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"regexp"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/htmlindex"
)

// xnode is an element (name set) or a run of character data (name empty)
// of a parsed XML file. The tree is built from a token walk that bounds
// depth and element count, so memory stays proportional to the input.
type xnode struct {
	name xml.Name
	attr []xml.Attr
	kids []*xnode
	text string
	line int
}

var xmlEncodingRe = regexp.MustCompile(`^\s*<\?xml[^>]*?encoding\s*=\s*["']([A-Za-z0-9._:-]+)["']`)

// parseXML reads data into a tree. Nothing outside data is loaded:
// encoding/xml never fetches DTDs or external entities, and only HTML's
// entity names are defined. A declared ISO-8859-1 or windows-1252 (or any
// other WHATWG-known) encoding is decoded; undeclared or UTF-8 input with
// invalid bytes has them replaced by U+FFFD rather than refused.
func (p *parser) parseXML(data []byte) (*xnode, error) {
	data = trimBOM(data)
	declared := ""
	if m := xmlEncodingRe.FindSubmatch(data[:min(len(data), 512)]); m != nil {
		declared = strings.ToLower(string(m[1]))
	}
	utf8ish := declared == "" || declared == "utf-8" || declared == "utf8" || declared == "us-ascii" || declared == "ascii"
	if utf8ish {
		if !utf8.Valid(data) {
			data = bytes.ToValidUTF8(data, []byte("\uFFFD"))
		}
		data = replaceXMLControls(data)
	}
	d := xml.NewDecoder(bytes.NewReader(data))
	d.Strict = true
	d.Entity = xml.HTMLEntity
	d.CharsetReader = func(label string, in io.Reader) (io.Reader, error) {
		switch l := strings.ToLower(label); {
		case l == "utf-8", l == "utf8", l == "us-ascii", l == "ascii":
			return in, nil
		case strings.HasPrefix(l, "utf-16") && p.utf16:
			return in, nil
		}
		enc, err := htmlindex.Get(label)
		if err != nil {
			return nil, fmt.Errorf("unknown character encoding %q", clean(label, 64))
		}
		return enc.NewDecoder().Reader(in), nil
	}
	root := &xnode{}
	stack := []*xnode{root}
	elements := 0
	for {
		if elements%4096 == 0 {
			if err := p.ctx.Err(); err != nil {
				return nil, err
			}
		}
		tok, err := d.Token()
		if err == io.EOF {
			break
		}
		if err != nil {
			line, _ := d.InputPos()
			var se *xml.SyntaxError
			if asSyntax(err, &se) {
				line = se.Line
				return nil, p.errf(line, "malformed XML: %s", se.Msg)
			}
			return nil, p.errf(line, "malformed XML: %v", err)
		}
		top := stack[len(stack)-1]
		switch t := tok.(type) {
		case xml.StartElement:
			elements++
			if elements > maxElements {
				line, _ := d.InputPos()
				return nil, p.errf(line, "more than %d XML elements and text runs", maxElements)
			}
			if len(stack) > MaxDepth {
				line, _ := d.InputPos()
				return nil, p.errf(line, "XML nested deeper than %d elements", MaxDepth)
			}
			line, _ := d.InputPos()
			n := &xnode{name: t.Name, attr: t.Attr, line: line}
			top.kids = append(top.kids, n)
			stack = append(stack, n)
		case xml.EndElement:
			stack = stack[:len(stack)-1]
		case xml.CharData:
			// Runs split by comments stay separate nodes (joining them
			// would copy the text once per comment); readers concatenate.
			if len(stack) > 1 {
				elements++
				top.kids = append(top.kids, &xnode{text: string(t)})
			}
		}
	}
	if len(root.kids) == 0 {
		return nil, p.errf(0, "no XML element")
	}
	return root, nil
}

func asSyntax(err error, se **xml.SyntaxError) bool {
	s, ok := err.(*xml.SyntaxError)
	if ok {
		*se = s
	}
	return ok
}

// replaceXMLControls replaces the C0 control bytes XML 1.0 forbids (all
// but tab, LF, CR) with spaces: sloppy producers emit them, and refusing
// the whole file for one would lose it.
func replaceXMLControls(data []byte) []byte {
	bad := func(c byte) bool { return c < 0x20 && c != '\t' && c != '\n' && c != '\r' }
	found := false
	for _, c := range data {
		if bad(c) {
			found = true
			break
		}
	}
	if !found {
		return data
	}
	out := bytes.Clone(data)
	for i, c := range out {
		if bad(c) {
			out[i] = ' '
		}
	}
	return out
}

// Tree queries. Names compare by local name: JATS, Atom and OAI-PMH
// files mix namespaces and prefixes freely.

func (n *xnode) is(local string) bool { return n != nil && n.name.Local == local }

// elements returns n's child elements (none for a nil n).
func (n *xnode) elements() []*xnode {
	if n == nil {
		return nil
	}
	return elems(n.kids)
}

// child returns the first child element named local, or nil.
func (n *xnode) child(local string) *xnode {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.name.Local == local {
			return k
		}
	}
	return nil
}

// children returns the child elements named local.
func (n *xnode) children(local string) []*xnode {
	if n == nil {
		return nil
	}
	var out []*xnode
	for _, k := range n.kids {
		if k.name.Local == local {
			out = append(out, k)
		}
	}
	return out
}

// path follows child elements by local name.
func (n *xnode) path(locals ...string) *xnode {
	for _, l := range locals {
		n = n.child(l)
	}
	return n
}

// find returns the first descendant element named local (depth first), or
// nil.
func (n *xnode) find(local string) *xnode {
	if n == nil {
		return nil
	}
	for _, k := range n.kids {
		if k.name.Local == local {
			return k
		}
		if f := k.find(local); f != nil {
			return f
		}
	}
	return nil
}

// findAll returns the descendant elements named local, not looking inside
// a match.
func (n *xnode) findAll(local string) []*xnode {
	var out []*xnode
	var walk func(*xnode)
	walk = func(n *xnode) {
		for _, k := range n.kids {
			if k.name.Local == local {
				out = append(out, k)
				continue
			}
			walk(k)
		}
	}
	if n != nil {
		walk(n)
	}
	return out
}

// attr returns the value of the attribute with local name local.
func (n *xnode) attrv(local string) string {
	if n == nil {
		return ""
	}
	for _, a := range n.attr {
		if a.Name.Local == local {
			return a.Value
		}
	}
	return ""
}

// inline elements join their neighbours without a space; every other
// element is a block, separated from its neighbours by one.
var inline = map[string]bool{
	"italic": true, "bold": true, "sup": true, "sub": true, "sc": true, "underline": true,
	"overline": true, "monospace": true, "roman": true, "sans-serif": true, "strike": true,
	"xref": true, "ext-link": true, "uri": true, "named-content": true, "styled-content": true,
	"inline-formula": true, "abbrev": true, "email": true, "i": true, "b": true, "em": true,
	"strong": true, "span": true, "a": true, "u": true, "inline-graphic": true, "chem-struct": true,
	"tt": true, "small": true, "fixed-case": true,
}

// skipped elements hold no reading text.
var skipped = map[string]bool{
	"tex-math": true, "annotation": true, "annotation-xml": true, "graphic": true,
	"media": true, "object-id": true, "alt-text": true, "long-desc": true,
}

func isMathML(n xml.Name) bool {
	return strings.Contains(n.Space, "MathML") || n.Space == "mml" || n.Local == "math"
}

// textOf flattens n's text in reading order: inline markup joined,
// blocks separated by a space, MathML as linear text (fractions with "/",
// superscripts in Unicode when they have one), sup likewise. skip, if set,
// leaves out the elements it accepts (figures inside paragraphs).
func textOf(n *xnode, skip func(*xnode) bool) string {
	var b strings.Builder
	writeText(&b, n, skip)
	return tidy(clean(b.String(), MaxFile))
}

// maxFlatten bounds one flattened text: well past any field bound, but it
// keeps a pathological element from building a string the size of the file
// many times over.
const maxFlatten = 4 * MaxFieldBytes

func writeText(b *strings.Builder, n *xnode, skip func(*xnode) bool) {
	if n == nil || b.Len() > maxFlatten {
		return
	}
	if n.name.Local == "" {
		b.WriteString(n.text)
		return
	}
	if skipped[n.name.Local] || (skip != nil && skip(n)) {
		return
	}
	if n.name.Local == "alternatives" {
		// Alternatives hold one thing several ways: read the first that
		// has text (MathML before TeX, since tex-math is skipped).
		for _, k := range n.kids {
			var kb strings.Builder
			writeText(&kb, k, skip)
			if strings.TrimSpace(kb.String()) != "" {
				b.WriteString(kb.String())
				return
			}
		}
		return
	}
	math := isMathML(n.name)
	block := !inline[n.name.Local] && !math
	if block {
		b.WriteByte(' ')
	}
	switch {
	case n.name.Local == "sup" || (math && n.name.Local == "msup"):
		var kb strings.Builder
		kids := n.kids
		if math && len(elems(kids)) == 2 {
			writeText(b, elems(kids)[0], skip)
			kids = []*xnode{elems(kids)[1]}
		}
		for _, k := range kids {
			writeText(&kb, k, skip)
		}
		b.WriteString(superscript(kb.String()))
	case math && n.name.Local == "mfrac":
		for i, k := range elems(n.kids) {
			if i > 0 {
				b.WriteByte('/')
			}
			writeText(b, k, skip)
		}
	case math && n.name.Local == "msqrt":
		b.WriteString("√(")
		for _, k := range n.kids {
			writeText(b, k, skip)
		}
		b.WriteString(")")
	case n.name.Local == "break":
		b.WriteByte(' ')
	default:
		for _, k := range n.kids {
			if math && k.name.Local == "" {
				// MathML ignores white space between its elements.
				b.WriteString(strings.TrimSpace(k.text))
				continue
			}
			writeText(b, k, skip)
		}
	}
	if block {
		b.WriteByte(' ')
	}
}

func elems(kids []*xnode) []*xnode {
	var out []*xnode
	for _, k := range kids {
		if k.name.Local != "" {
			out = append(out, k)
		}
	}
	return out
}

// tidy removes the spaces block separation leaves before closing
// punctuation and after opening brackets.
func tidy(s string) string {
	if !strings.Contains(s, " ") {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == ' ' {
			if i+1 < len(s) && strings.IndexByte(",.;:!?)]", s[i+1]) >= 0 {
				continue
			}
			if i > 0 && (s[i-1] == '(' || s[i-1] == '[') {
				continue
			}
		}
		b.WriteByte(c)
	}
	return b.String()
}
