package yamlsafe

import (
	stderrors "errors"
	"strings"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/text"
	"github.com/goccy/go-yaml"
	"github.com/goccy/go-yaml/ast"
	"github.com/goccy/go-yaml/lexer"
	"github.com/goccy/go-yaml/parser"
	"github.com/goccy/go-yaml/token"
)

// MultipleDocuments reports whether data holds a second YAML document (a
// "---" after content), which the decoder would silently ignore: a file
// that describes one thing (a campaign, a challenge, a plan) refuses it.
func MultipleDocuments(data []byte) (multi bool) {
	defer func() {
		if recover() != nil {
			multi = false // Check tokenised it already; the decoder says what is wrong
		}
	}()
	content, directive := false, -1 // directive: the line of a %YAML or %TAG directive
	for _, tk := range lexer.Tokenize(string(data)) {
		line := -2
		if tk.Position != nil {
			line = tk.Position.Line
		}
		switch {
		case tk.Type == token.DirectiveType:
			directive = line
		case tk.Type == token.DocumentHeaderType:
			if content {
				return true
			}
		case tk.Type == token.CommentType, tk.Type == token.DocumentEndType, line == directive:
		default:
			content = true
		}
	}
	return false
}

// ErrorPath returns the field path ("params[2].low") of the node a decode
// error of data points at, or "" when it points at none (or the path is
// longer than 200 bytes or not valid UTF-8: it is shown to the author,
// sanitised).
func ErrorPath(data []byte, err error) (path string) {
	var ye yaml.Error
	if !stderrors.As(err, &ye) || ye.GetToken() == nil || ye.GetToken().Position == nil {
		return ""
	}
	pos := ye.GetToken().Position
	defer func() {
		if recover() != nil {
			path = ""
		}
	}()
	f, perr := parser.ParseBytes(data, 0)
	if perr != nil {
		return ""
	}
	v := &pathFinder{line: pos.Line, col: pos.Column}
	for _, d := range f.Docs {
		if d.Body != nil {
			ast.Walk(v, d.Body)
		}
	}
	p := strings.TrimPrefix(strings.TrimPrefix(v.path, "$"), ".")
	if len(p) > 200 || !utf8.ValidString(p) {
		return ""
	}
	p, _ = text.Sanitize(p, false) // keys may hold control characters
	return p
}

// pathFinder finds the deepest node whose token is at line:col.
type pathFinder struct {
	line, col int
	path      string
}

func (v *pathFinder) Visit(n ast.Node) ast.Visitor {
	if t := n.GetToken(); t != nil && t.Position != nil && t.Position.Line == v.line && t.Position.Column == v.col {
		if p := n.GetPath(); len(p) >= len(v.path) {
			v.path = p
		}
	}
	return v
}
