package config_test

import (
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/errors"
)

// FuzzParse reaches StoreDSN and BlobURL only through a whole configuration
// document; these fuzz them directly, as the server calls them on raw
// flag and environment values.

// FuzzStoreDSN checks that a DSN is either rejected as Invalid naming
// store.dsn, or split into a known kind whose backend DSN is the input
// (postgres) or the path after "sqlite:" or "sqlite://" (sqlite).
func FuzzStoreDSN(f *testing.F) {
	for _, s := range []string{
		"", "sqlite:", "sqlite://", "sqlite:///", "sqlite:/var/lib/g.db", "sqlite:rel.db", "sqlite://h/x.db",
		"postgres://u:p@h:5432/db?sslmode=disable", "postgresql://h/db", "postgres://%zz", "postgres://[::1", "postgres:/x",
		"POSTGRES://h/db", "mysql://h/db", "x", "@", "@@", "x@0", "x@-1", ":", "sqlite:\x00", "postgres://h/\x7f",
		"sqlite:" + strings.Repeat("a", 5000), "ünïcode:x",
		"host=db user=genesis password=hunter2", "user=u password=p:w host=h", // keyword=value: the password was echoed
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, dsn string) {
		kind, rest, err := config.StoreDSN(dsn)
		if err != nil {
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "store.dsn" || !strings.HasPrefix(errors.SafeMessage(err), "store.dsn: ") {
				t.Fatalf("StoreDSN(%.200q): %v (kind %v, field %q)", dsn, err, errors.KindOf(err), errors.FieldOf(err))
			}
			// The message may name the scheme, never what follows it
			// (or the whole string, when it has none): it may hold a
			// password.
			secret := dsn
			if _, after, ok := strings.Cut(dsn, ":"); ok {
				secret = after
			}
			if len(secret) >= 12 && strings.Contains(errors.SafeMessage(err), secret) {
				t.Fatalf("StoreDSN(%.200q): the message echoes it: %s", dsn, errors.SafeMessage(err))
			}
			if kind != "" || rest != "" {
				t.Fatalf("StoreDSN(%.200q) = %q, %q with an error", dsn, kind, rest)
			}
			return
		}
		switch kind {
		case "sqlite":
			if rest == "" || dsn != "sqlite:"+rest && dsn != "sqlite://"+rest {
				t.Fatalf("StoreDSN(%.200q) = sqlite, %q", dsn, rest)
			}
		case "postgres":
			if rest != dsn || !strings.HasPrefix(dsn, "postgres://") && !strings.HasPrefix(dsn, "postgresql://") {
				t.Fatalf("StoreDSN(%.200q) = postgres, %q", dsn, rest)
			}
		default:
			t.Fatalf("StoreDSN(%.200q): kind %q", dsn, kind)
		}
	})
}

// FuzzBlobURL checks that a blob URL is either rejected as Invalid naming
// blob.url, or accepted as a file URL with a path and no host (a plain path
// is kept as it is) or an s3 URL with a host and a bucket.
func FuzzBlobURL(f *testing.F) {
	for _, s := range []string{
		"", "/var/lib/blobs", "rel/dir", "file:///d/blobs", "file://relative/dir", "file://", "file:///", "file://?x",
		"s3://ak:sk@h:9000/bucket", "s3://h/", "s3://h", "s3:///b", "S3://h/b", "http://h/b", "://", "a b://x",
		"/tmp/x://y", "file://h:1/p", "s3://[::1]:9000/b/p", "@", "@@", "x@0", "x@-1", "x@v3", "\x00://",
		"file://%zz/p", "s3://h/%2F", strings.Repeat("/", 5000), "ünïcode",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		u, err := config.BlobURL(s)
		if err != nil {
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "blob.url" || !strings.HasPrefix(errors.SafeMessage(err), "blob.url: ") {
				t.Fatalf("BlobURL(%.200q): %v (kind %v, field %q)", s, err, errors.KindOf(err), errors.FieldOf(err))
			}
			if u != nil {
				t.Fatalf("BlobURL(%.200q) = %v with an error", s, u)
			}
			return
		}
		switch u.Scheme {
		case "file":
			if u.Path == "" || u.Host != "" {
				t.Fatalf("BlobURL(%.200q) = %#v: file URL without a path or with a host", s, u)
			}
			if !strings.Contains(s, "://") && u.Path != s {
				t.Fatalf("BlobURL(%.200q): plain path became %q", s, u.Path)
			}
		case "s3":
			if u.Host == "" || strings.Trim(u.Path, "/") == "" {
				t.Fatalf("BlobURL(%.200q) = %#v: s3 URL without a host or a bucket", s, u)
			}
		default:
			t.Fatalf("BlobURL(%.200q): scheme %q", s, u.Scheme)
		}
	})
}

// FuzzReplicaID: an accepted replica.id is 1–128 bytes of valid UTF-8
// without control characters; a refused one is Invalid on replica.id and
// does not echo itself.
func FuzzReplicaID(f *testing.F) {
	for _, s := range []string{"", "a", "node-1-4242", "ünï", "a\x00b", "a\nb", "\xff", "x\u2028", "\u0085", strings.Repeat("r", 128), strings.Repeat("r", 129)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		err := config.CheckReplicaID(s)
		if err != nil {
			if !errors.Is(errors.Invalid, err) || errors.FieldOf(err) != "replica.id" || (len(s) > 3 && strings.Contains(errors.SafeMessage(err), s)) {
				t.Fatalf("CheckReplicaID(%.200q): %v", s, err)
			}
			return
		}
		if s == "" || len(s) > 128 || !utf8.ValidString(s) {
			t.Fatalf("CheckReplicaID(%.200q) accepted it", s)
		}
		for _, r := range s {
			if unicode.IsControl(r) || r == '\u2028' || r == '\u2029' {
				t.Fatalf("CheckReplicaID(%.200q) accepted a control character %U", s, r)
			}
		}
	})
}
