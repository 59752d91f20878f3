package cli

import (
	"bytes"
	"encoding/json"
	"go/ast"
	"go/importer"
	"go/parser"
	"go/token"
	"go/types"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"testing"
)

var snakeCase = regexp.MustCompile(`^[a-z][a-z0-9]*(_[a-z0-9]+)*$`)

// TestJSONOutputKeysAreSnakeCase type-checks this package and follows the
// static type of every value a command prints with --json (every call of
// Env.output) through its fields: every key encoding/json would write must
// be snake_case. A field without a json tag is written under its Go name
// (PascalCase), which is how `job explain --json` came to differ from
// every other command.
func TestJSONOutputKeysAreSnakeCase(t *testing.T) {
	if testing.Short() {
		t.Skip("type-checks the package (needs the go command)")
	}
	out, err := exec.Command("go", "list", "-deps", "-export", "-json=ImportPath,Export,Dir,GoFiles", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	type pkg struct {
		ImportPath, Export, Dir string
		GoFiles                 []string
	}
	exports := map[string]string{}
	var self pkg
	dec := json.NewDecoder(bytes.NewReader(out))
	for dec.More() {
		var p pkg
		if err := dec.Decode(&p); err != nil {
			t.Fatal(err)
		}
		exports[p.ImportPath] = p.Export
		self = p // the package itself comes last
	}
	fset := token.NewFileSet()
	var files []*ast.File
	for _, name := range self.GoFiles {
		f, err := parser.ParseFile(fset, filepath.Join(self.Dir, name), nil, 0)
		if err != nil {
			t.Fatal(err)
		}
		files = append(files, f)
	}
	info := &types.Info{Types: map[ast.Expr]types.TypeAndValue{}, Uses: map[*ast.Ident]types.Object{}}
	conf := types.Config{Importer: importer.ForCompiler(fset, "gc", func(path string) (io.ReadCloser, error) {
		return os.Open(exports[path])
	})}
	if _, err := conf.Check(self.ImportPath, fset, files, info); err != nil {
		t.Fatal(err)
	}

	marshaler := types.NewInterfaceType([]*types.Func{types.NewFunc(token.NoPos, nil, "MarshalJSON",
		types.NewSignatureType(nil, nil, nil, nil, types.NewTuple(
			types.NewVar(token.NoPos, nil, "", types.NewSlice(types.Typ[types.Byte])),
			types.NewVar(token.NoPos, nil, "", types.Universe.Lookup("error").Type())), false))}, nil).Complete()
	textMarshaler := types.NewInterfaceType([]*types.Func{types.NewFunc(token.NoPos, nil, "MarshalText",
		types.NewSignatureType(nil, nil, nil, nil, types.NewTuple(
			types.NewVar(token.NoPos, nil, "", types.NewSlice(types.Typ[types.Byte])),
			types.NewVar(token.NoPos, nil, "", types.Universe.Lookup("error").Type())), false))}, nil).Complete()
	custom := func(t types.Type) bool {
		return types.Implements(t, marshaler) || types.Implements(types.NewPointer(t), marshaler) ||
			types.Implements(t, textMarshaler) || types.Implements(types.NewPointer(t), textMarshaler)
	}

	sites := 0
	for _, f := range files {
		ast.Inspect(f, func(n ast.Node) bool {
			call, ok := n.(*ast.CallExpr)
			if !ok || len(call.Args) < 2 {
				return true
			}
			sel, ok := call.Fun.(*ast.SelectorExpr)
			if !ok || sel.Sel.Name != "output" {
				return true
			}
			fn, ok := info.Uses[sel.Sel].(*types.Func)
			if !ok || !strings.HasSuffix(fn.FullName(), ".Env).output") {
				return true
			}
			sites++
			at := fset.Position(call.Pos())
			seen := map[types.Type]bool{}
			var walk func(path string, typ types.Type)
			walk = func(path string, typ types.Type) {
				if seen[typ] || custom(typ) {
					return
				}
				seen[typ] = true
				switch u := typ.Underlying().(type) {
				case *types.Pointer:
					walk(path, u.Elem())
				case *types.Slice:
					walk(path+"[]", u.Elem())
				case *types.Array:
					walk(path+"[]", u.Elem())
				case *types.Map:
					// Keys are data (names, paths), not field names.
					walk(path+"[…]", u.Elem())
				case *types.Struct:
					for i := 0; i < u.NumFields(); i++ {
						fld := u.Field(i)
						name, _, _ := strings.Cut(reflect.StructTag(u.Tag(i)).Get("json"), ",")
						if name == "-" || !fld.Exported() && !fld.Embedded() {
							continue
						}
						if fld.Embedded() && name == "" {
							walk(path, fld.Type())
							continue
						}
						if name == "" {
							name = fld.Name()
						}
						if !snakeCase.MatchString(name) {
							t.Errorf("%s: --json output %s: key %q (field %s of %s) is not snake_case", at, path, name, fld.Name(), typ)
						}
						walk(path+"."+name, fld.Type())
					}
				}
			}
			if tv, ok := info.Types[call.Args[1]]; ok {
				walk("", tv.Type)
			}
			return true
		})
	}
	if sites < 20 {
		t.Fatalf("found only %d --json output sites: the test no longer sees them", sites)
	}
}
