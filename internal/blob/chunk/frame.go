package chunk

import (
	"encoding/binary"
	"io"
	"runtime"
	"strconv"
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

// Level is how hard new chunks are compressed. Off stores them raw; the
// others are klauspost/compress/zstd's levels (Default is about zstd's
// level 3, what restic's "auto" uses). Reading never depends on it: every
// frame says how it is encoded.
type Level int

// Compression levels.
const (
	Off     Level = 0
	Fastest Level = Level(zstd.SpeedFastest)
	Default Level = Level(zstd.SpeedDefault)
	Better  Level = Level(zstd.SpeedBetterCompression)
	Best    Level = Level(zstd.SpeedBestCompression)
)

var levelNames = [...]string{Off: "off", Fastest: "fastest", Default: "default", Better: "better", Best: "best"}

// String returns the level's name as ParseLevel accepts it.
func (l Level) String() string {
	if l >= Off && int(l) < len(levelNames) {
		return levelNames[l]
	}
	return "level(" + strconv.Itoa(int(l)) + ")"
}

// Valid reports whether l is one of the defined levels.
func (l Level) Valid() bool { return l >= Off && l <= Best }

// ParseLevel parses a level name: off, fastest, default, better or best.
func ParseLevel(s string) (Level, error) {
	for l, n := range levelNames {
		if s == n {
			return Level(l), nil
		}
	}
	return Off, errors.E(errors.Op("chunk.ParseLevel"), errors.Invalid, errors.Msg("compression level must be off, fastest, default, better or best"))
}

var (
	encOnce [Best + 1]sync.Once
	encs    [Best + 1]*zstd.Encoder
	decOnce sync.Once
	dec     *zstd.Decoder
)

// encoder returns the shared encoder of level l (Fastest..Best). EncodeAll
// is safe for concurrent use; each encoder keeps up to GOMAXPROCS states.
func encoder(l Level) *zstd.Encoder {
	encOnce[l].Do(func() {
		e, err := zstd.NewWriter(nil, zstd.WithEncoderLevel(zstd.EncoderLevel(l)),
			zstd.WithEncoderConcurrency(runtime.GOMAXPROCS(0)), zstd.WithEncoderCRC(false))
		if err != nil {
			panic(err) // only for invalid options, which these are not
		}
		encs[l] = e
	})
	return encs[l]
}

// decoder returns the shared decoder. It refuses to produce more than
// blob.MaxSize bytes from one payload, whatever the payload claims.
func decoder() *zstd.Decoder {
	decOnce.Do(func() {
		var err error
		dec, err = zstd.NewReader(nil, zstd.WithDecoderConcurrency(0), zstd.WithDecoderMaxMemory(blob.MaxSize),
			zstd.WithDecoderMaxWindow(blob.MaxSize))
		if err != nil {
			panic(err)
		}
	})
	return dec
}

// The incompressibility test. Compressing a chunk that does not shrink
// (random bytes, images, already-compressed archives) would cost a full
// zstd pass for nothing, so chunks above sampleMin are judged first by
// compressing sampleN slices of sampleLen bytes spread over the chunk at
// the fastest level: unless the samples shrink by at least 1/sampleGain
// the chunk is stored raw. Small chunks are simply compressed. Whatever
// the test decides, a compressed frame is kept only if it saves at least
// 1/16 of the chunk; otherwise the chunk is stored raw.
const (
	minCompress = 512
	sampleMin   = 64 << 10
	sampleLen   = 4 << 10
	sampleN     = 4
	sampleGain  = 32
)

// compressible runs the sample test on data (len(data) >= sampleMin).
func compressible(data []byte) bool {
	var buf [sampleN * sampleLen]byte
	step := (len(data) - sampleLen) / (sampleN - 1)
	for i := 0; i < sampleN; i++ {
		copy(buf[i*sampleLen:], data[i*step:i*step+sampleLen])
	}
	out := encoder(Fastest).EncodeAll(buf[:], make([]byte, 0, len(buf)+64))
	return len(out) < len(buf)-len(buf)/sampleGain
}

// Frame returns the stored form of data. At any level but Off, data is
// compressed with zstd unless the incompressibility test or the result
// says it does not pay (then it is stored raw).
func Frame(data []byte, level Level) []byte {
	if out := compress(data, level); out != nil {
		return out
	}
	out := make([]byte, HeaderSize+len(data))
	putHeader(out, codecRaw, len(data))
	copy(out[HeaderSize:], data)
	return out
}

// compress returns data's zstd frame, or nil when data is to be stored raw.
func compress(data []byte, level Level) []byte {
	if level <= Off || level > Best || len(data) < minCompress {
		return nil
	}
	if len(data) >= sampleMin && !compressible(data) {
		return nil
	}
	out := make([]byte, HeaderSize, HeaderSize+len(data)/2)
	out = encoder(level).EncodeAll(data, out)
	if len(out)-HeaderSize >= len(data)-len(data)/16 {
		return nil
	}
	putHeader(out, codecZstd, len(data))
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
		// Refuse before allocating: the payload must be one zstd frame
		// that declares exactly the header's plaintext length (the
		// decoder itself stops at blob.MaxSize whatever follows).
		var zh zstd.Header
		if err := zh.Decode(payload); err != nil {
			return nil, blob.Corrupt(op, id, errors.Join(errors.New("undecodable zstd frame header"), err))
		}
		if !zh.HasFCS || zh.FrameContentSize != uint64(n) {
			return nil, blob.Corrupt(op, id, errors.New("zstd frame does not declare the chunk's length"))
		}
		var err error
		plain, err = decoder().DecodeAll(payload, make([]byte, 0, n))
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
func WriteFrame(w io.Writer, data []byte, level Level) error {
	if out := compress(data, level); out != nil {
		_, err := w.Write(out)
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
