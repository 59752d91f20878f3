// Package s3 is the scaled-out blob.Store: chunks as objects in an
// S3-compatible bucket (AWS S3, MinIO, Ceph RGW, versitygw, …).
//
// Each chunk is one object, KEYPREFIX + 64 hex digits, holding the chunk's
// frame (see package chunk). S3 PUT is atomic, so a reader sees a whole
// chunk or none; every Get re-hashes the chunk.
//
// Why minio-go rather than aws-sdk-go-v2: it is already a dependency, it is
// one module instead of a dozen, it speaks path-style addressing and signs
// the payload (x-amz-content-sha256) by default on plain HTTP, which is what
// non-AWS servers expect, and its API is the small subset we need.
package s3

import (
	"bytes"
	"context"
	"io"
	"net/url"
	"strings"

	"github.com/minio/minio-go/v7"
	"github.com/minio/minio-go/v7/pkg/credentials"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/chunk"
	"github.com/genesis-science/genesis/internal/errors"
)

// Config says where the chunks live.
type Config struct {
	Endpoint  string // host:port
	Secure    bool   // https
	AccessKey string
	SecretKey string
	Region    string // "" = us-east-1
	Bucket    string
	// Prefix is prepended to every key; default "chunks/".
	Prefix string
	// Compression is the zstd level of new chunks (chunk.Off, the zero
	// value, stores them raw); reading handles every form.
	Compression chunk.Level
	// CreateBucket creates the bucket on Open if it does not exist.
	CreateBucket bool
}

// ParseURL reads http(s)://ACCESS:SECRET@HOST:PORT/BUCKET[/PREFIX] — the
// form of GENESIS_TEST_S3 and of the server's configuration.
func ParseURL(raw string) (Config, error) {
	const op errors.Op = "s3.ParseURL"
	u, err := url.Parse(raw)
	if err != nil {
		return Config{}, errors.E(op, errors.Invalid, errors.Msg("S3 URL does not parse"))
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return Config{}, errors.E(op, errors.Invalid, errors.Msg("S3 URL must start with http:// or https://"))
	}
	bucket, prefix, _ := strings.Cut(strings.TrimPrefix(u.Path, "/"), "/")
	if bucket == "" || u.Host == "" {
		return Config{}, errors.E(op, errors.Invalid, errors.Msg("S3 URL must name a host and a bucket"))
	}
	c := Config{Endpoint: u.Host, Secure: u.Scheme == "https", Bucket: bucket, Prefix: prefix}
	if u.User != nil {
		c.AccessKey = u.User.Username()
		c.SecretKey, _ = u.User.Password()
	}
	if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
		c.Prefix += "/"
	}
	return c, nil
}

// Store is a blob.Store in an S3 bucket.
type Store struct {
	client *minio.Client
	cfg    Config
}

var _ blob.Store = (*Store)(nil)

// Open connects (lazily: no request is made unless CreateBucket is set).
func Open(ctx context.Context, cfg Config) (*Store, error) {
	const op errors.Op = "s3.Open"
	if cfg.Prefix == "" {
		cfg.Prefix = "chunks/"
	}
	if cfg.Region == "" {
		cfg.Region = "us-east-1"
	}
	client, err := minio.New(cfg.Endpoint, &minio.Options{
		Creds:        credentials.NewStaticV4(cfg.AccessKey, cfg.SecretKey, ""),
		Secure:       cfg.Secure,
		Region:       cfg.Region,
		BucketLookup: minio.BucketLookupPath,
	})
	if err != nil {
		return nil, errors.E(op, errors.Invalid, errors.Msg("bad S3 configuration"), err)
	}
	s := &Store{client: client, cfg: cfg}
	if cfg.CreateBucket {
		ok, err := client.BucketExists(ctx, cfg.Bucket)
		if err != nil {
			return nil, s.wrap(op, ctx, err)
		}
		if !ok {
			err := client.MakeBucket(ctx, cfg.Bucket, minio.MakeBucketOptions{Region: cfg.Region})
			if err != nil {
				code := minio.ToErrorResponse(err).Code
				if code != "BucketAlreadyOwnedByYou" && code != "BucketAlreadyExists" {
					return nil, s.wrap(op, ctx, err)
				}
			}
		}
	}
	return s, nil
}

func (s *Store) key(id blob.ID) string { return s.cfg.Prefix + id.String() }

// wrap classifies a client error.
func (s *Store) wrap(op errors.Op, ctx context.Context, err error) error {
	if ctx.Err() != nil {
		return errors.E(op, errors.Canceled, ctx.Err())
	}
	switch minio.ToErrorResponse(err).Code {
	case "NoSuchKey":
		return errors.E(op, errors.NotExist, err)
	case "NoSuchBucket":
		return errors.E(op, errors.Internal, errors.Msg("the blob bucket does not exist"), err)
	case "AccessDenied", "InvalidAccessKeyId", "SignatureDoesNotMatch":
		return errors.E(op, errors.Internal, errors.Msg("the blob store refused our credentials"), err)
	}
	return errors.E(op, errors.Transient, errors.Msg("the blob store is unavailable"), err)
}

func (s *Store) Put(ctx context.Context, id blob.ID, data []byte) error {
	const op errors.Op = "s3.Put"
	if err := ctx.Err(); err != nil {
		return errors.E(op, errors.Canceled, err)
	}
	if err := blob.CheckPut(op, id, data); err != nil {
		return err
	}
	fr := chunk.Frame(data, s.cfg.Compression)
	_, err := s.client.PutObject(ctx, s.cfg.Bucket, s.key(id), bytes.NewReader(fr), int64(len(fr)),
		minio.PutObjectOptions{ContentType: "application/octet-stream", DisableMultipart: true})
	if err != nil {
		return s.wrap(op, ctx, err)
	}
	return nil
}

func (s *Store) Get(ctx context.Context, id blob.ID, off, length int64) ([]byte, error) {
	const op errors.Op = "s3.Get"
	stored, err := s.getStored(ctx, id)
	if err != nil {
		if errors.Is(errors.NotExist, err) {
			return nil, blob.NotFound(op, id)
		}
		return nil, errors.E(op, err)
	}
	plain, err := chunk.Unframe(op, id, stored)
	if err != nil {
		return nil, err
	}
	return blob.Slice(op, plain, off, length)
}

// getStored reads the whole frame. The verification needs all of it, so a
// range read fetches the whole (bounded) chunk too.
func (s *Store) getStored(ctx context.Context, id blob.ID) ([]byte, error) {
	const op errors.Op = "s3.getStored"
	if err := ctx.Err(); err != nil {
		return nil, errors.E(op, errors.Canceled, err)
	}
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, s.key(id), minio.GetObjectOptions{})
	if err != nil {
		return nil, s.wrap(op, ctx, err)
	}
	defer obj.Close()
	const limit = blob.MaxSize + chunk.HeaderSize + 1<<16
	stored, err := io.ReadAll(io.LimitReader(obj, limit+1))
	if err != nil {
		return nil, s.wrap(op, ctx, err)
	}
	if len(stored) > limit {
		return nil, blob.Corrupt(op, id, errors.New("stored object larger than any chunk"))
	}
	return stored, nil
}

func (s *Store) Stat(ctx context.Context, id blob.ID) (blob.Info, error) {
	const op errors.Op = "s3.Stat"
	if err := ctx.Err(); err != nil {
		return blob.Info{}, errors.E(op, errors.Canceled, err)
	}
	opts := minio.GetObjectOptions{}
	if err := opts.SetRange(0, chunk.HeaderSize-1); err != nil {
		return blob.Info{}, errors.E(op, errors.Internal, err)
	}
	obj, err := s.client.GetObject(ctx, s.cfg.Bucket, s.key(id), opts)
	if err != nil {
		return blob.Info{}, s.wrap(op, ctx, err)
	}
	defer obj.Close()
	oi, err := obj.Stat()
	if err != nil {
		if e := s.wrap(op, ctx, err); errors.Is(errors.NotExist, e) {
			return blob.Info{}, blob.NotFound(op, id)
		} else {
			return blob.Info{}, e
		}
	}
	hdr := make([]byte, chunk.HeaderSize)
	if _, err := io.ReadFull(obj, hdr); err != nil {
		if ctx.Err() != nil {
			return blob.Info{}, errors.E(op, errors.Canceled, ctx.Err())
		}
		return blob.Info{}, blob.Corrupt(op, id, err)
	}
	n, err := chunk.PlainSize(hdr)
	if err != nil {
		return blob.Info{}, blob.Corrupt(op, id, err)
	}
	return blob.Info{ID: id, Size: n, StoredSize: oi.Size, Modified: oi.LastModified}, nil
}

func (s *Store) Enumerate(ctx context.Context, after string, limit int) ([]blob.ID, error) {
	const op errors.Op = "s3.Enumerate"
	if err := ctx.Err(); err != nil {
		return nil, errors.E(op, errors.Canceled, err)
	}
	if limit <= 0 {
		limit = 1000
	}
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	opts := minio.ListObjectsOptions{Prefix: s.cfg.Prefix, Recursive: true, MaxKeys: min(limit, 1000)}
	if after != "" {
		opts.StartAfter = s.cfg.Prefix + after
	}
	var out []blob.ID
	for oi := range s.client.ListObjects(lctx, s.cfg.Bucket, opts) {
		if oi.Err != nil {
			return nil, s.wrap(op, ctx, oi.Err)
		}
		name := strings.TrimPrefix(oi.Key, s.cfg.Prefix)
		if name <= after {
			continue // servers that ignore StartAfter
		}
		id, err := blob.ParseID(name)
		if err != nil {
			continue
		}
		out = append(out, id)
		if len(out) == limit {
			break
		}
	}
	return out, nil
}

func (s *Store) Remove(ctx context.Context, ids ...blob.ID) error {
	const op errors.Op = "s3.Remove"
	for _, id := range ids {
		if err := ctx.Err(); err != nil {
			return errors.E(op, errors.Canceled, err)
		}
		if err := s.client.RemoveObject(ctx, s.cfg.Bucket, s.key(id), minio.RemoveObjectOptions{}); err != nil {
			if e := s.wrap(op, ctx, err); !errors.Is(errors.NotExist, e) {
				return e
			}
		}
	}
	return nil
}
