package s3

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"testing"

	"github.com/minio/minio-go/v7"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/blobtest"
	"github.com/genesis-science/genesis/internal/blob/chunk"
	"github.com/genesis-science/genesis/internal/testenv"
)

// corruptible adds the suite's corruption hook by rewriting objects.
type corruptible struct{ *Store }

func (c corruptible) CorruptStored(id blob.ID, f func([]byte) []byte) error {
	ctx := context.Background()
	b, err := c.getStored(ctx, id)
	if err != nil {
		return err
	}
	b = f(b)
	_, err = c.client.PutObject(ctx, c.cfg.Bucket, c.key(id), bytes.NewReader(b), int64(len(b)), minio.PutObjectOptions{})
	return err
}

// open returns a store in a fresh key prefix of the test bucket, creating
// the bucket if needed, and empties the prefix when the test ends.
func open(t *testing.T, compress bool) *Store {
	t.Helper()
	cfg, err := ParseURL(testenv.S3(t))
	if err != nil {
		t.Fatal(err)
	}
	cfg.Prefix += fmt.Sprintf("blobtest-%016x/", rand.Uint64())
	if compress {
		cfg.Compression = chunk.Default
	}
	cfg.CreateBucket = true
	s, err := Open(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx := context.Background()
		for oi := range s.client.ListObjects(ctx, cfg.Bucket, minio.ListObjectsOptions{Prefix: cfg.Prefix, Recursive: true}) {
			if oi.Err == nil {
				s.client.RemoveObject(ctx, cfg.Bucket, oi.Key, minio.RemoveObjectOptions{})
			}
		}
	})
	return s
}

func TestConformance(t *testing.T) {
	for _, compress := range []bool{false, true} {
		name := "raw"
		if compress {
			name = "zstd"
		}
		t.Run(name, func(t *testing.T) {
			blobtest.Run(t, func(t *testing.T) blob.Store { return corruptible{open(t, compress)} })
		})
	}
}

func TestObjectLayout(t *testing.T) {
	s := open(t, false)
	ctx := context.Background()
	data := []byte("layout")
	id := blob.Sum(data)
	if err := s.Put(ctx, id, data); err != nil {
		t.Fatal(err)
	}
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, s.cfg.Prefix+id.String(), minio.GetObjectOptions{})
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(obj)
	if err != nil || !bytes.HasSuffix(b, data) {
		t.Fatalf("object %s = %q, %v", s.cfg.Prefix+id.String(), b, err)
	}
}

func TestParseURL(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want Config
		ok   bool
	}{
		{"http://ak:sk@127.0.0.1:17070/bucket", Config{Endpoint: "127.0.0.1:17070", AccessKey: "ak", SecretKey: "sk", Bucket: "bucket"}, true},
		{"https://ak:sk@s3.example.org/b/some/prefix", Config{Endpoint: "s3.example.org", Secure: true, AccessKey: "ak", SecretKey: "sk", Bucket: "b", Prefix: "some/prefix/"}, true},
		{"ftp://h/b", Config{}, false},
		{"http://h/", Config{}, false},
		{"http://ak:sk@h", Config{}, false},
	} {
		got, err := ParseURL(tc.in)
		if (err == nil) != tc.ok || (tc.ok && got != tc.want) {
			t.Errorf("ParseURL(%q) = %+v, %v; want %+v ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
	}
}
