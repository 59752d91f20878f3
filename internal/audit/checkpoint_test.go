package audit

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestCheckpointSignOpen(t *testing.T) {
	s, v := testKeys(t)
	cp := Checkpoint{Origin: s.Name(), Size: 42}
	cp.Hash[0] = 7
	msg, err := SignCheckpoint(cp, s)
	if err != nil {
		t.Fatal(err)
	}
	got, err := OpenCheckpoint(msg, v)
	if err != nil || got != cp {
		t.Fatalf("OpenCheckpoint = %+v, %v", got, err)
	}
	if !strings.HasPrefix(string(msg), "genesis.local/audit/test\n42\nBw") || !strings.Contains(string(msg), "\n\n\u2014 genesis.local/audit/test ") {
		t.Fatalf("not a C2SP checkpoint note:\n%s", msg)
	}
	// Another key with the same name does not verify it.
	_, v2 := testKeys(t)
	if _, err := OpenCheckpoint(msg, v2); err == nil {
		t.Fatal("verified with the wrong key")
	}
	// A checkpoint whose origin is not the key name is refused.
	if _, err := SignCheckpoint(Checkpoint{Origin: "other", Size: 1}, s); err == nil {
		t.Fatal("signed a checkpoint for another origin")
	}
}

func TestParseCheckpoint(t *testing.T) {
	good := "example.com/log\n10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"
	if _, err := ParseCheckpoint([]byte(good)); err != nil {
		t.Fatal(err)
	}
	if _, err := ParseCheckpoint([]byte(good + "ext line\n")); err != nil {
		t.Fatalf("extension line: %v", err)
	}
	for _, bad := range []string{
		"", "x\n", "example.com/log\n10\n",
		"example.com/log\n010\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"example.com/log\n-1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"example.com/log\n+1\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"example.com/log\n10\nAAAA\n",
		"example.com/log\n10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAB=\n",
		"example.com/log\n10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=",
		"example.com/log\n10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n\n",
		"\n10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"a b\n10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
		"example.com/log\n99999999999999999999\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n",
	} {
		if _, err := ParseCheckpoint([]byte(bad)); err == nil {
			t.Errorf("accepted %q", bad)
		}
	}
}

func FuzzParseCheckpoint(f *testing.F) {
	f.Add([]byte("example.com/log\n10\nAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n"))
	f.Add([]byte("example.com/log\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\nx\n"))
	f.Add([]byte("a\n1\n\n"))
	f.Fuzz(func(t *testing.T, text []byte) {
		c, err := ParseCheckpoint(text)
		if err != nil {
			return
		}
		// The canonical text is a prefix of any accepted text (the rest
		// being extension lines) and parses to the same checkpoint.
		if !bytes.HasPrefix(text, c.Text()) {
			t.Fatalf("accepted %q but formats as %q", text, c.Text())
		}
		c2, err := ParseCheckpoint(c.Text())
		if err != nil || c2 != c {
			t.Fatalf("re-parse: %+v %v", c2, err)
		}
	})
}

func FuzzOpenCheckpoint(f *testing.F) {
	s, v := testKeys(f)
	cp := Checkpoint{Origin: s.Name(), Size: 3}
	msg, err := SignCheckpoint(cp, s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(msg)
	f.Add(bytes.Replace(msg, []byte("\n3\n"), []byte("\n4\n"), 1))
	f.Fuzz(func(t *testing.T, msg2 []byte) {
		got, err := OpenCheckpoint(msg2, v)
		if err != nil {
			return
		}
		// Only the note signed above can verify (no key for anything else).
		if got != cp {
			t.Fatalf("forged checkpoint accepted: %+v", got)
		}
	})
}

// FuzzLoadCheckpoint: a trusted checkpoint file is what OpenCheckpoint
// accepts, nothing more.
func FuzzLoadCheckpoint(f *testing.F) {
	s, v := testKeys(f)
	msg, err := SignCheckpoint(Checkpoint{Origin: s.Name(), Size: 7}, s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(msg)
	f.Add(append(append([]byte(nil), msg...), '\n'))
	f.Add(msg[:len(msg)-1])
	f.Fuzz(func(t *testing.T, b []byte) {
		p := filepath.Join(t.TempDir(), "cp")
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := LoadCheckpoint(p, v)
		want, werr := OpenCheckpoint(b, v)
		if (err == nil) != (werr == nil) || got != want {
			t.Fatalf("LoadCheckpoint %+v %v, OpenCheckpoint %+v %v", got, err, want, werr)
		}
		if err == nil {
			q := filepath.Join(t.TempDir(), "saved")
			if err := SaveCheckpoint(q, b); err != nil {
				t.Fatal(err)
			}
			if again, err := LoadCheckpoint(q, v); err != nil || again != got {
				t.Fatalf("saved and loaded: %+v %v", again, err)
			}
		}
	})
}

// FuzzParseImportDetail: what ParseImportDetail accepts is exactly what
// ImportDetail writes for the checkpoint and note it returns.
func FuzzParseImportDetail(f *testing.F) {
	s, _ := testKeys(f)
	cp := Checkpoint{Origin: s.Name(), Size: 12}
	msg, err := SignCheckpoint(cp, s)
	if err != nil {
		f.Fatal(err)
	}
	f.Add(ImportDetail(cp, msg))
	f.Add("imported from a at size 1, root AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=\n")
	f.Add("imported from a at size 01, root x\n")
	f.Fuzz(func(t *testing.T, d string) {
		cp, msg, err := ParseImportDetail(d)
		if err != nil {
			return
		}
		if ImportDetail(cp, msg) != d {
			t.Fatalf("accepted %q, which formats as %q", d, ImportDetail(cp, msg))
		}
	})
}
