package formats

import (
	"bytes"
	"unicode/utf8"

	"golang.org/x/text/encoding/charmap"
	"golang.org/x/text/encoding/unicode"
)

// toUTF8 returns data as UTF-8 where its encoding can be told without
// guessing wildly: UTF-16 with a byte-order mark is transcoded, and text
// with bytes above 0x7F but not a single valid multi-byte UTF-8 sequence
// is read as windows-1252 (the superset of ISO-8859-1 that old BibTeX,
// RIS and text files are written in). Anything else is left alone: mixed
// input keeps its valid UTF-8 and has only its invalid bytes replaced
// later. The second result says whether data was transcoded from UTF-16.
func toUTF8(data []byte, format string) ([]byte, bool) {
	if bytes.HasPrefix(data, []byte{0xFF, 0xFE}) || bytes.HasPrefix(data, []byte{0xFE, 0xFF}) {
		dec := unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder()
		if out, err := dec.Bytes(data); err == nil {
			return out, true
		}
		return data, false
	}
	if format == "pdf" || utf8.Valid(data) || !legacy8bit(data) {
		return data, false
	}
	if xmlEncodingRe.Match(data[:min(len(data), 512)]) {
		return data, false // a declared XML encoding is the decoder's to apply
	}
	out, err := charmap.Windows1252.NewDecoder().Bytes(data)
	if err != nil {
		return data, false
	}
	return out, false
}

// legacy8bit reports whether data has no valid multi-byte UTF-8 sequence
// at all (so its high bytes are a legacy single-byte encoding).
func legacy8bit(data []byte) bool {
	for i := 0; i < len(data); {
		if data[i] < 0x80 {
			i++
			continue
		}
		r, n := utf8.DecodeRune(data[i:])
		if r != utf8.RuneError || n > 1 {
			return false
		}
		i++
	}
	return true
}
