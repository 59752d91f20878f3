package console

import (
	"net/url"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/text"
	"golang.org/x/mod/sumdb/note"
	"golang.org/x/mod/sumdb/tlog"
)

// FuzzAuditFilter: the audit page's filter parser accepts only clean
// text (valid UTF-8, no control characters, bounded), keeps what it
// accepts (printing the filter back and parsing it again gives the same
// filter), never accepts until before since, and a record matches only
// when every field given equals the record's. Seeds:
// testdata/fuzz/FuzzAuditFilter.
func FuzzAuditFilter(f *testing.F) {
	f.Add("action=dataset.declassify.request&actor=pr_1&since=2026-01-01&until=2026-12-31", "dataset.read", "pr_1", "ds_1", int64(1767225600))
	f.Add("since=2026-02-01T10:00&until=2026-02-01", "", "", "", int64(0))
	f.Add("object_type=dataset&object=ds_x&before=17", "dataset.read", "pr_2", "ds_x", int64(1790000000))
	f.Fuzz(func(t *testing.T, raw, action, actor, object string, unix int64) {
		q, err := url.ParseQuery(raw)
		if err != nil {
			return
		}
		fl, err := parseAuditFilter(q)
		if err != nil {
			if errors.SafeMessage(err) == "" || !errors.Is(errors.Invalid, err) {
				t.Fatalf("refusal without a message or not Invalid: %v", err)
			}
			return
		}
		for _, v := range []string{fl.Action, fl.Actor, fl.ObjectType, fl.Object, fl.Since, fl.Until} {
			if !utf8.ValidString(v) || len(v) > audit.MaxFieldLen || strings.ContainsFunc(v, text.Forbidden) {
				t.Fatalf("accepted unclean field %q", v)
			}
		}
		if !fl.since.IsZero() && !fl.until.IsZero() && fl.until.Before(fl.since) {
			t.Fatalf("until %v before since %v", fl.until, fl.since)
		}
		again, err := parseAuditFilter(fl.query())
		if err != nil {
			t.Fatalf("the filter's own query %q does not parse: %v", fl.query().Encode(), err)
		}
		again.Before = fl.Before
		if again != fl {
			t.Fatalf("round trip: %+v, then %+v", fl, again)
		}
		rec := audit.Record{Action: action, Principal: actor, ObjectType: "dataset", ObjectID: object, Time: time.Unix(unix%(1<<40), 0).UTC()}
		want := (fl.Action == "" || fl.Action == action) && (fl.Actor == "" || fl.Actor == actor) &&
			(fl.ObjectType == "" || fl.ObjectType == "dataset") && (fl.Object == "" || fl.Object == object) &&
			(fl.since.IsZero() || !rec.Time.Before(fl.since)) && (fl.until.IsZero() || !rec.Time.After(fl.until))
		if got := fl.matches(rec); got != want {
			t.Fatalf("matches(%+v) = %v, want %v for %+v", rec, got, want, fl)
		}
	})
}

// TestVerifyCheckpoint: a checkpoint verifies only with its own key and
// only as signed: a changed size or root, a note from another key, or a
// checkpoint that differs from the log's is not verified, and says why.
func TestVerifyCheckpoint(t *testing.T) {
	origin := "genesis.local/audit/test"
	skey, vkey, err := note.GenerateKey(nil, origin)
	if err != nil {
		t.Fatal(err)
	}
	_, otherV, err := note.GenerateKey(nil, origin)
	if err != nil {
		t.Fatal(err)
	}
	signer, err := note.NewSigner(skey)
	if err != nil {
		t.Fatal(err)
	}
	cp := audit.Checkpoint{Origin: origin, Size: 5, Hash: tlog.Hash{1, 2, 3}}
	signed, err := audit.SignCheckpoint(cp, signer)
	if err != nil {
		t.Fatal(err)
	}
	if v := verifyCheckpoint(cp, signed, vkey); !v.Verified || v.Problem != "" {
		t.Fatalf("a good checkpoint: %+v", v)
	}
	tampered := strings.Replace(string(signed), "\n5\n", "\n6\n", 1)
	other := cp
	other.Size = 6
	for name, c := range map[string]struct {
		cp     audit.Checkpoint
		signed []byte
		key    string
	}{
		"size changed in the note": {other, []byte(tampered), vkey},
		"another key":              {cp, signed, otherV},
		"no key":                   {cp, signed, ""},
		"malformed key":            {cp, signed, "not a key"},
		"log differs from note":    {other, signed, vkey},
		"unsigned":                 {cp, cp.Text(), vkey},
	} {
		if v := verifyCheckpoint(c.cp, c.signed, c.key); v.Verified || v.Problem == "" {
			t.Errorf("%s: %+v", name, v)
		}
	}
}

// FuzzAgreementForm: the agreement form's parsers. A date is accepted
// only as YYYY-MM-DD and means that day (its start, or its end for an
// end date); a list splits into non-empty items without separators that,
// in order, are the input's fields. Seeds: testdata/fuzz/FuzzAgreementForm.
func FuzzAgreementForm(f *testing.F) {
	f.Add("2026-01-31", "pppl, mit  ornl")
	f.Add("2026-02-30", ",,")
	f.Add(" 2026-12-31 ", "a\tb\nc")
	f.Fuzz(func(t *testing.T, date, list string) {
		for _, end := range []bool{false, true} {
			d, err := formDate(date, "not_after", end)
			if err != nil {
				if errors.SafeMessage(err) == "" {
					t.Fatalf("refusal of %q without a message", date)
				}
				continue
			}
			if got := d.Format("2006-01-02"); got != strings.TrimSpace(date) {
				t.Fatalf("date %q read as %s", date, got)
			}
			if d.Location() != time.UTC || (!end && (d.Hour() != 0 || d.Minute() != 0)) || (end && d.Hour() != 23) {
				t.Fatalf("date %q (end %v) read as %v", date, end, d)
			}
		}
		items := splitList(list)
		var rebuilt []string
		for _, it := range items {
			if it == "" || strings.ContainsAny(it, ", \t\r\n") {
				t.Fatalf("item %q of %q", it, list)
			}
			rebuilt = append(rebuilt, it)
		}
		want := strings.Fields(strings.ReplaceAll(list, ",", " "))
		// strings.Fields also splits at other Unicode spaces; compare only
		// when the input has none.
		if !strings.ContainsFunc(list, func(r rune) bool { return r > 127 || r == '\v' || r == '\f' }) && strings.Join(rebuilt, "\x00") != strings.Join(want, "\x00") {
			t.Fatalf("split %q into %q, want %q", list, rebuilt, want)
		}
	})
}
