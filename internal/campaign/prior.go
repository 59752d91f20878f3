package campaign

import (
	"bufio"
	"encoding/csv"
	stderrors "errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/genesis-science/genesis/internal/campaign/bo"
	"github.com/genesis-science/genesis/internal/errors"
)

// Limits on prior data.
const (
	MaxPriorRows  = 100000
	MaxPriorBytes = 64 << 20
)

// ReadPrior reads prior observations from a CSV file with a header row.
// Its columns are the campaign's params, objectives and outcome
// constraints, by name or as columns renames them (campaign name →
// column); other columns are ignored. It returns one point and one row of
// values (objectives, then outcome constraints, as Measure returns them)
// per data row. A row whose params lie outside the space, or whose values
// are not finite numbers, is refused naming its line; so are files with
// more than MaxPriorRows rows or MaxPriorBytes bytes. Errors are
// errors.Invalid (errors.TooLarge for size) with user-safe messages.
func ReadPrior(s *Spec, r io.Reader, columns map[string]string) ([]bo.Point, [][]float64, error) {
	const op errors.Op = "campaign.ReadPrior"
	lr := &limitReader{r: r, n: MaxPriorBytes + 1}
	br := bufio.NewReader(lr)
	if b, err := br.Peek(3); err == nil && string(b) == "\ufeff" {
		br.Discard(3)
	}
	cr := csv.NewReader(br)
	cr.FieldsPerRecord = -1 // checked below, naming the line
	header, err := cr.Read()
	if err != nil {
		if err == io.EOF {
			return nil, nil, errors.E(op, errors.Invalid, errors.Msg("prior data: empty file (want a CSV header row)"))
		}
		return nil, nil, errors.E(op, csvError(lr, err))
	}
	col := make(map[string]int, len(header))
	for i, h := range header {
		h = strings.TrimSpace(h)
		if _, dup := col[h]; dup {
			col[h] = -1 // ambiguous; refused below if needed
			continue
		}
		col[h] = i
	}
	find := func(q string) (int, error) {
		name := q
		if c, ok := columns[q]; ok && c != "" {
			name = c
		}
		i, ok := col[strings.TrimSpace(name)]
		switch {
		case !ok:
			return 0, errors.E(errors.Invalid, errors.Field("columns."+clip(q)), errors.Msg(fmt.Sprintf("prior data: no column %q (for %q); the header has %s", clip(name), clip(q), headerList(header))))
		case i < 0:
			return 0, errors.E(errors.Invalid, errors.Field("columns."+clip(q)), errors.Msg(fmt.Sprintf("prior data: column %q appears more than once", clip(name))))
		}
		return i, nil
	}
	pcol := make([]int, len(s.Params))
	for i, p := range s.Params {
		if pcol[i], err = find(p.Name); err != nil {
			return nil, nil, errors.E(op, err)
		}
	}
	var quantities []string
	for _, o := range s.Objectives {
		quantities = append(quantities, o.Name)
	}
	for _, c := range s.OutcomeConstraints {
		quantities = append(quantities, c.Name)
	}
	vcol := make([]int, len(quantities))
	for i, q := range quantities {
		if vcol[i], err = find(q); err != nil {
			return nil, nil, errors.E(op, err)
		}
	}

	var points []bo.Point
	var values [][]float64
	params := make(map[string]any, len(s.Params))
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			return nil, nil, errors.E(op, csvError(lr, err))
		}
		line, _ := cr.FieldPos(0)
		if len(points) >= MaxPriorRows {
			return nil, nil, errors.E(op, errors.TooLarge, errors.Msg(fmt.Sprintf("prior data: more than %d rows", MaxPriorRows)))
		}
		if len(rec) != len(header) {
			return nil, nil, errors.E(op, errors.Invalid, errors.Msg(fmt.Sprintf("prior data: line %d has %d fields, the header %d", line, len(rec), len(header))))
		}
		clear(params)
		for i, p := range s.Params {
			params[p.Name] = strings.TrimSpace(rec[pcol[i]]) // ToPoint parses numbers
		}
		pt, err := s.ToPoint(params)
		if err != nil {
			return nil, nil, errors.E(op, errors.Invalid, errors.Field(errors.FieldOf(err)), errors.Msg(fmt.Sprintf("prior data: line %d: %s", line, errors.SafeMessage(err))))
		}
		row := make([]float64, len(quantities))
		for i, q := range quantities {
			cell := strings.TrimSpace(rec[vcol[i]])
			x, perr := strconv.ParseFloat(cell, 64)
			if perr != nil || !finite(x) {
				return nil, nil, errors.E(op, errors.Invalid, errors.Field("values."+q), errors.Msg(fmt.Sprintf("prior data: line %d: %s %q is not a finite number", line, q, clip(cell))))
			}
			row[i] = x
		}
		points = append(points, pt)
		values = append(values, row)
	}
	return points, values, nil
}

func headerList(h []string) string {
	var b strings.Builder
	for i, c := range h {
		if i == 8 {
			fmt.Fprintf(&b, ", … (%d columns)", len(h))
			break
		}
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(strconv.Quote(clip(c)))
	}
	if len(h) == 0 {
		return "no columns"
	}
	return b.String()
}

func csvError(lr *limitReader, err error) error {
	if lr.over {
		return errors.E(errors.TooLarge, errors.Msg(fmt.Sprintf("prior data: larger than %d bytes", MaxPriorBytes)))
	}
	var pe *csv.ParseError
	if stderrors.As(err, &pe) {
		return errors.E(errors.Invalid, errors.Msg(fmt.Sprintf("prior data: line %d: %s", pe.Line, pe.Err)))
	}
	return errors.E(errors.Invalid, errors.Msg("prior data: cannot read the file"), err)
}

// limitReader fails (rather than truncating silently) after n bytes.
type limitReader struct {
	r    io.Reader
	n    int64
	over bool
}

var errTooLarge = stderrors.New("prior data too large")

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n <= 0 {
		l.over = true
		return 0, errTooLarge
	}
	if int64(len(p)) > l.n {
		p = p[:l.n]
	}
	n, err := l.r.Read(p)
	l.n -= int64(n)
	return n, err
}
