package s3

import (
	"context"
	"net/url"
	"strings"
	"testing"

	"github.com/genesis-science/genesis/internal/blob/chunk"
	"github.com/genesis-science/genesis/internal/errors"
)

// FuzzParseURL checks ParseURL without any S3 server: a rejection is
// Invalid with a user-safe message that never echoes the URL's secret key;
// an accepted URL names a host and a slash-free bucket, its prefix is
// empty or ends in '/', it rebuilds into a URL that parses to the same
// Config, and Open (which makes no request) either accepts it or says it is
// Invalid.
func FuzzParseURL(f *testing.F) {
	for _, s := range []string{
		"http://ak:sk@127.0.0.1:17070/bucket", "https://ak:sk@s3.example.org/b/some/prefix",
		"ftp://h/b", "http://h/", "http://ak:sk@h", "", "@", "@@", "x@0", "x@-1", "http://@h/b",
		"http://:sk@h/b", "http://ak@h/b", "http://a%40k:s%3Ak@h/b/p%3Fq", "https://[::1]:9000/b//",
		"http://h/b/p/", "http://h//b", "http://h/b?x=1#f", "HTTP://h/b", "http:h/b", "http:///b",
		"http://h:99999/b", "http://h:/b", "http://ünïcode.example/b/ü", "http://h\x00/b", "http://h/b\n",
		"http://[fe80::1%25en0]:9000/b", "http://" + strings.Repeat("h", 4096) + "/b",
		"https://ak:" + strings.Repeat("s", 1000) + "@h/b/" + strings.Repeat("p/", 500),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		// Whatever follows them, credentials never reach a user-safe message.
		const secret = "SECRET-KEY-7f3a"
		if _, err := ParseURL("https://ak:" + secret + "@" + raw); strings.Contains(errors.SafeMessage(err), secret) {
			t.Fatalf("ParseURL(...%.200q): message %q echoes the secret key", raw, errors.SafeMessage(err))
		}
		c, err := ParseURL(raw)
		if err != nil {
			msg := errors.SafeMessage(err)
			if !errors.Is(errors.Invalid, err) || msg == "" {
				t.Fatalf("ParseURL(%.200q): %v (kind %v)", raw, err, errors.KindOf(err))
			}
			return
		}
		if c.Endpoint == "" || c.Bucket == "" || strings.Contains(c.Bucket, "/") {
			t.Fatalf("ParseURL(%.200q) = %+v: no endpoint or a bad bucket", raw, c)
		}
		if c.Prefix != "" && !strings.HasSuffix(c.Prefix, "/") {
			t.Fatalf("ParseURL(%.200q) = %+v: prefix without a trailing slash", raw, c)
		}
		if c.Region != "" || c.Compression != chunk.Off || c.CreateBucket {
			t.Fatalf("ParseURL(%.200q) = %+v: fields the URL cannot set", raw, c)
		}
		u := url.URL{Scheme: "http", Host: c.Endpoint, Path: "/" + c.Bucket + "/" + c.Prefix}
		if c.Secure {
			u.Scheme = "https"
		}
		if c.AccessKey != "" || c.SecretKey != "" {
			u.User = url.UserPassword(c.AccessKey, c.SecretKey)
		}
		back, err := ParseURL(u.String())
		if err != nil || back != c {
			t.Fatalf("ParseURL(%.200q) = %+v; rebuilt %q = %+v, %v", raw, c, u.String(), back, err)
		}
		// Open may still refuse an endpoint minio cannot use (an IPv6
		// zone, an over-long host name), but only as Invalid.
		if _, err := Open(context.Background(), c); err != nil && !errors.Is(errors.Invalid, err) {
			t.Fatalf("ParseURL(%.200q): Open: %.300v", raw, err)
		}
	})
}
