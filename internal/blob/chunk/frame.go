package chunk

import (
	"encoding/binary"
	"io"
	"sync"

	"github.com/klauspost/compress/zstd"

	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/errors"
)

// The on-store frame of a chunk: a 12-byte header, then the payload.
//
//	offset 0  "GB"       magic
//	offset 2  1          frame version
//	offset 3  codec      0 = raw, 1 = zstd
//	offset 4  uint64 BE  plaintext length
//	offset 12 payload    plaintext, or one zstd frame of it
//
// The chunk's ID is always the hash of the plaintext, so compressing or not
// never changes an ID and both forms may coexist across backends.
const (
	HeaderSize = 12
	codecRaw   = 0
	codecZstd  = 1
)

var (
	encOnce sync.Once
	enc     *zstd.Encoder
	dec     *zstd.Decoder
)

func coders() (*zstd.Encoder, *zstd.Decoder) {
	encOnce.Do(func() {
		var err error
		enc, err = zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.SpeedFastest), zstd.WithEncoderConcurrency(1))
		if err != nil {
			panic(err)
		}
		dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(blob.MaxSize+1<<20))
		if err != nil {
			panic(err)
		}
	})
	return enc, dec
}

// Frame returns the stored form of data. With compress, data is compressed
// with zstd unless that saves less than 1/16 of its size (already
// compressed data is stored raw).
func Frame(data []byte, compress bool) []byte {
	if compress && len(data) >= 512 {
		e, _ := coders()
		out := make([]byte, HeaderSize, HeaderSize+len(data)/2)
		out = e.EncodeAll(data, out)
		if len(out)-HeaderSize < len(data)-len(data)/16 {
			putHeader(out, codecZstd, len(data))
			return out
		}
	}
	out := make([]byte, HeaderSize+len(data))
	putHeader(out, codecRaw, len(data))
	copy(out[HeaderSize:], data)
	return out
}

func putHeader(b []byte, codec byte, n int) {
	b[0], b[1], b[2], b[3] = 'G', 'B', 1, codec
	binary.BigEndian.PutUint64(b[4:12], uint64(n))
}

// PlainSize reads the plaintext length from a frame header.
func PlainSize(hdr []byte) (int64, error) {
	const op errors.Op = "chunk.PlainSize"
	if err := checkHeader(hdr); err != nil {
		return 0, errors.E(op, err)
	}
	return int64(binary.BigEndian.Uint64(hdr[4:12])), nil
}

// ParseHeader reads a frame header: the plaintext length, and whether the
// payload is the plaintext itself (stored raw, not compressed).
func ParseHeader(hdr []byte) (size int64, raw bool, err error) {
	const op errors.Op = "chunk.ParseHeader"
	if err := checkHeader(hdr); err != nil {
		return 0, false, errors.E(op, err)
	}
	return int64(binary.BigEndian.Uint64(hdr[4:12])), hdr[3] == codecRaw, nil
}

func checkHeader(b []byte) error {
	if len(b) < HeaderSize || b[0] != 'G' || b[1] != 'B' || b[2] != 1 || b[3] > codecZstd {
		return errors.New("bad chunk frame header")
	}
	if n := binary.BigEndian.Uint64(b[4:12]); n > blob.MaxSize {
		return errors.New("chunk frame declares a size above the limit")
	}
	return nil
}

// Unframe decodes a stored frame and verifies that the plaintext hashes to
// id. Any problem — bad header, undecodable payload, wrong length, wrong
// hash — is reported with blob.Corrupt (errors.Internal).
func Unframe(op errors.Op, id blob.ID, stored []byte) ([]byte, error) {
	if err := checkHeader(stored); err != nil {
		return nil, blob.Corrupt(op, id, err)
	}
	n := int(binary.BigEndian.Uint64(stored[4:12]))
	payload := stored[HeaderSize:]
	var plain []byte
	switch stored[3] {
	case codecRaw:
		plain = payload
	case codecZstd:
		_, d := coders()
		var err error
		plain, err = d.DecodeAll(payload, make([]byte, 0, n))
		if err != nil {
			return nil, blob.Corrupt(op, id, err)
		}
	}
	if len(plain) != n {
		return nil, blob.Corrupt(op, id, errors.New("chunk length differs from its frame header"))
	}
	if blob.Sum(plain) != id {
		return nil, blob.Corrupt(op, id, nil)
	}
	return plain, nil
}

// WriteFrame writes the stored form of data to w, as Frame would return it,
// without copying data when it is stored raw.
func WriteFrame(w io.Writer, data []byte, compress bool) error {
	if compress && len(data) >= 512 {
		_, err := w.Write(Frame(data, true))
		return err
	}
	var hdr [HeaderSize]byte
	putHeader(hdr[:], codecRaw, len(data))
	if _, err := w.Write(hdr[:]); err != nil {
		return err
	}
	_, err := w.Write(data)
	return err
}
