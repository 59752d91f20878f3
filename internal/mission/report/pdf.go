package report

import (
	"bytes"
	"fmt"
	"io"
	"strconv"
	"strings"

	"codeberg.org/go-fonts/liberation/liberationsansbold"
	"codeberg.org/go-fonts/liberation/liberationsansregular"
	"codeberg.org/go-pdf/fpdf"
	"gonum.org/v1/plot/vg"

	"github.com/genesis-science/genesis/internal/errors"
)

// The PDF is made with codeberg.org/go-pdf/fpdf, the maintained
// continuation of jung-kurt/gofpdf (the library gonum/plot's own PDF
// canvas uses), in pure Go. Text is UTF-8 in the Liberation Sans fonts
// embedded from codeberg.org/go-fonts/liberation (fpdf's core fonts are
// cp1252 and would mangle anything else); charts are PNG drawn by gonum/plot.

const (
	pdfFont   = "LiberationSans"
	bannerH   = 8.0  // mm
	pdfMargin = 15.0 // mm
)

func rgb(hex string) (int, int, int) {
	v, _ := strconv.ParseUint(strings.TrimPrefix(hex, "#"), 16, 32)
	return int(v >> 16 & 0xff), int(v >> 8 & 0xff), int(v & 0xff)
}

func renderPDF(w io.Writer, d *Data) error {
	pdf := fpdf.New("P", "mm", "A4", "")
	pdf.SetCreationDate(d.GeneratedAt)
	pdf.SetModificationDate(d.GeneratedAt)
	pdf.AddUTF8FontFromBytes(pdfFont, "", liberationsansregular.TTF)
	pdf.AddUTF8FontFromBytes(pdfFont, "B", liberationsansbold.TTF)
	pdf.SetTitle(d.Marking+" — Genesis annual report "+strconv.Itoa(d.Year), true)
	pdf.SetProducer("Genesis (codeberg.org/go-pdf/fpdf)", true)
	pdf.SetMargins(pdfMargin, pdfMargin+bannerH, pdfMargin)
	pdf.SetAutoPageBreak(true, pdfMargin+bannerH+4)
	pdf.AliasNbPages("{nb}")
	pw, ph := pdf.GetPageSize()
	cw := pw - 2*pdfMargin
	col := levelColours(d.Level)
	banner := func(y float64) {
		r, g, b := rgb(col.Bg)
		pdf.SetFillColor(r, g, b)
		r, g, b = rgb(col.Fg)
		pdf.SetTextColor(r, g, b)
		pdf.SetFont(pdfFont, "B", 10)
		pdf.SetXY(0, y)
		pdf.CellFormat(pw, bannerH, d.Marking, "", 0, "C", true, 0, "")
		pdf.SetTextColor(0, 0, 0)
	}
	pdf.SetHeaderFunc(func() {
		banner(0)
		pdf.SetXY(pdfMargin, bannerH+4)
	})
	pdf.SetFooterFunc(func() {
		pdf.SetFont(pdfFont, "", 8)
		pdf.SetTextColor(90, 90, 90)
		pdf.SetXY(pdfMargin, ph-bannerH-7)
		pdf.CellFormat(cw/2, 5, fmt.Sprintf("Genesis annual report %d", d.Year), "", 0, "L", false, 0, "")
		pdf.CellFormat(cw/2, 5, fmt.Sprintf("Page %d of {nb}", pdf.PageNo()), "", 0, "R", false, 0, "")
		banner(ph - bannerH)
	})
	pdf.AddPage()

	text := func(size float64, style, s string) {
		pdf.SetFont(pdfFont, style, size)
		pdf.MultiCell(cw, size*0.5, s, "", "L", false)
	}
	chip := func(marking string) {
		c := levelColours(levelOf(marking))
		r, g, b := rgb(c.Bg)
		pdf.SetFillColor(r, g, b)
		r, g, b = rgb(c.Fg)
		pdf.SetTextColor(r, g, b)
		pdf.SetFont(pdfFont, "B", 8)
		pdf.CellFormat(pdf.GetStringWidth(marking)+4, 5, marking, "", 1, "C", true, 0, "")
		pdf.SetTextColor(0, 0, 0)
		pdf.Ln(1)
	}
	var n notes
	figures := func(fs []Figure) {
		for _, f := range fs {
			v := f.Value
			if r := n.ref(f.Source); r > 0 {
				v += fmt.Sprintf(" [%d]", r)
			}
			pdf.SetFont(pdfFont, "", 9)
			y := pdf.GetY()
			pdf.MultiCell(cw*0.6, 4.5, f.Name, "", "L", false)
			y2 := pdf.GetY()
			if y2 < y { // the name went on to a new page
				y = pdfMargin + bannerH
			}
			pdf.SetXY(pdfMargin+cw*0.6, y)
			pdf.MultiCell(cw*0.4, 4.5, v, "", "R", false)
			pdf.SetY(max(y2, pdf.GetY()))
		}
		pdf.Ln(2)
	}
	images := 0
	charts := func(cs []Chart) error {
		for i := range cs {
			png, err := cs[i].draw("png", 6*vg.Inch, 2.6*vg.Inch)
			if err != nil {
				return err
			}
			images++
			name := fmt.Sprintf("chart%d", images)
			pdf.RegisterImageOptionsReader(name, fpdf.ImageOptions{ImageType: "PNG"}, bytes.NewReader(png))
			iw := cw * 0.8
			h := iw * 2.6 / 6
			if pdf.GetY()+h > ph-pdfMargin-bannerH-4 {
				pdf.AddPage()
			}
			pdf.ImageOptions(name, pdfMargin+(cw-iw)/2, pdf.GetY(), iw, h, true, fpdf.ImageOptions{ImageType: "PNG"}, 0, "")
			if r := n.ref(cs[i].Source); r > 0 {
				text(8, "", fmt.Sprintf("Source [%d]", r))
			}
			pdf.Ln(2)
		}
		return nil
	}

	text(18, "B", fmt.Sprintf("Genesis annual progress report %d", d.Year))
	pdf.Ln(1)
	text(9, "", fmt.Sprintf("Period %s to %s (exclusive) · generated %s for %s. This report counts only the records its reader may read. Every number is traceable to platform records: its note [n] names the API path and the CLI command that list them.",
		d.From.Format("2006-01-02"), d.To.Format("2006-01-02"), d.GeneratedAt.Format("2006-01-02 15:04 MST"), d.Reader))
	pdf.Ln(3)
	for _, s := range d.Sections {
		if pdf.GetY() > ph*0.75 {
			pdf.AddPage()
		}
		text(14, "B", s.Title)
		chip(s.Marking)
		if s.Note != "" {
			text(9, "", s.Note)
			pdf.Ln(1)
		}
		figures(s.Figures)
		if err := charts(s.Charts); err != nil {
			return err
		}
		for _, t := range s.Tables {
			for _, row := range t.Rows {
				if len(row) == 0 {
					continue
				}
				text(9, "B", row[0])
				var rest []string
				for i := 1; i < len(row) && i < len(t.Columns); i++ {
					if row[i] != "" {
						rest = append(rest, t.Columns[i]+": "+row[i])
					}
				}
				text(9, "", strings.Join(rest, " · "))
				pdf.Ln(1)
			}
			if r := n.ref(t.Source); r > 0 {
				text(8, "", fmt.Sprintf("Source [%d]", r))
			}
			pdf.Ln(2)
		}
		for _, it := range s.Items {
			if pdf.GetY() > ph*0.8 {
				pdf.AddPage()
			}
			text(11, "B", it.Title)
			chip(it.Marking)
			for _, l := range it.Lines {
				text(9, "", l)
			}
			figures(it.Figures)
			if err := charts(it.Charts); err != nil {
				return err
			}
		}
		pdf.Ln(3)
	}
	text(14, "B", "Sources")
	for i, s := range n.list {
		line := fmt.Sprintf("[%d] GET %s", i+1, s.API)
		if s.CLI != "" {
			line += " · " + s.CLI
		}
		text(8, "", line)
	}
	if err := pdf.Output(w); err != nil {
		return errors.E(errors.Internal, errors.Msg("cannot make the PDF"), err)
	}
	return nil
}
