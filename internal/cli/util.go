package cli

import (
	"net/url"
	"strconv"
)

func pathEscape(s string) string { return url.PathEscape(s) }

// count is n and noun, plural unless n is 1 ("1 file", "2 new chunks").
func count[N ~int | ~int64](n N, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return strconv.FormatInt(int64(n), 10) + " " + noun + "s"
}
