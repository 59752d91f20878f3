// Package report builds the annual progress report of issue 15: the
// challenges and their progress, the milestones, data and compute growth,
// campaigns run, experiments performed, models registered, publications
// and partners, rendered as one self-contained HTML page or a PDF.
//
// It guarantees three things. The report is computed AS ITS READER: every
// record it counts comes from a service call made as that principal, so a
// restricted record leaves no trace (name, number or marking) in the
// report of a reader who may not see it. Every number carries its source —
// the API path (and CLI command) that lists the records it counts — so
// the report is traceable to platform records. And the report carries a
// classification banner that is the join of the labels of everything it
// shows; each section shows its own marking.
//
// The mission services (challenges, milestones, partners, synthetic data)
// reach the report through Sources, plain functions the application
// adapts; a nil one makes its section say "not available on this server".
package report

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"sync/atomic"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/audit"
	"github.com/genesis-science/genesis/internal/campaign"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/compute/jobs"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
)

// Catalog is what the report reads from the catalog (*catalog.Service).
type Catalog interface {
	List(ctx context.Context, p *genesis.Principal, kind catalog.Kind, o catalog.ListOptions) ([]catalog.Asset, string, error)
	Versions(ctx context.Context, p *genesis.Principal, idOrName string) ([]catalog.Version, error)
}

// Jobs is what the report reads from the job service (*jobs.Service).
type Jobs interface {
	List(ctx context.Context, p *genesis.Principal, o jobs.ListOptions) ([]jobs.Job, string, error)
}

// Campaigns is what the report reads from the campaign service
// (*campaign.Service).
type Campaigns interface {
	List(ctx context.Context, p *genesis.Principal, o campaign.ListOptions) ([]campaign.Campaign, string, error)
	Experiments(ctx context.Context, p *genesis.Principal, idOrName string, o campaign.ExperimentOptions) ([]campaign.Experiment, string, error)
}

var (
	_ Catalog   = (*catalog.Service)(nil)
	_ Jobs      = (*jobs.Service)(nil)
	_ Campaigns = (*campaign.Service)(nil)
)

// Sources are the mission services the report shows, each called as the
// reader and answering only what the reader may see. A nil source makes
// its section say "not available on this server".
type Sources struct {
	Challenges func(ctx context.Context, p *genesis.Principal) ([]Challenge, error)
	Milestones func(ctx context.Context, p *genesis.Principal) ([]Milestone, error)
	Partners   func(ctx context.Context, p *genesis.Principal) ([]Partner, error)
	Synthetic  func(ctx context.Context, p *genesis.Principal) (*Synthetic, error)
}

// Challenge is one national challenge as the report shows it.
type Challenge struct {
	Name   string
	Title  string
	Domain string
	Lead   string
	// Label is the challenge's canonical marking ("" is OPEN).
	Label   string
	Targets []Target
	// Source is the API path that shows the challenge's progress; ""
	// means /api/v1/challenges/NAME/progress.
	Source string
}

// Target is one measurable target of a challenge and its progress.
type Target struct {
	Metric    string
	Unit      string
	Direction string // "max" (higher is better) or "min"
	Baseline  *float64
	Target    float64
	// Best is the best value reached so far, nil if none.
	Best *float64
	// Progress is the fraction of the way from the baseline to the target
	// (0..1; above 1 once passed), as the challenge service computes it.
	Progress float64
	Reached  bool
	// History is the best so far over time, oldest first.
	History []Point
}

// Point is a value at a time.
type Point struct {
	At    time.Time
	Value float64
}

// Milestone is one milestone of the mission plan, evaluated live.
type Milestone struct {
	Name     string
	Title    string
	Status   string // met, at risk (or at_risk), missed, not available
	Deadline time.Time
	DaysLeft int
	// Evidence links to the records the check looked at.
	Evidence []Link
	// Missing says what is missing for the milestone to be met.
	Missing []string
	// Label is the join of the labels of the records the check read ("" is OPEN).
	Label string
}

// Link is a text with the API path or CLI command behind it.
type Link struct {
	Text string
	Href string
}

// Partner is one partner organisation in the portfolio.
type Partner struct {
	Org        string
	Kind       string // national lab, university, company, agency, allied government
	Agreements []Agreement
	// Contributed counts what the partner brought.
	Datasets, Models, Sites, Instruments int
	// UsedNodeHours is the allocation the partner's projects consumed.
	UsedNodeHours float64
	Label         string // "" is OPEN
	// Source is the API path of the partner; "" means /api/v1/partners/ORG.
	Source string
}

// Agreement is an agreement a partner is party to.
type Agreement struct {
	ID       string
	Until    *time.Time
	Expiring bool
}

// Synthetic counts readable dataset versions marked synthetic and measured.
type Synthetic struct {
	Synthetic, Measured int
	Label               string // the join of the counted versions' labels
	Source              string // "" means /api/v1/search?synthetic=true
}

// Config is what a Service needs.
type Config struct {
	Catalog   Catalog   // required
	Jobs      Jobs      // nil: the compute section says not available
	Campaigns Campaigns // nil: the campaigns section says not available
	Sources   Sources
	// Audit receives a report.generate record for every report made,
	// labelled with its banner (durable first for NATIONAL-SECURITY).
	Audit audit.Appender
	Now   func() time.Time
}

// Service gathers and renders annual reports.
type Service struct {
	c   Config
	src atomic.Pointer[Sources] // c.Sources, replaceable while serving
}

// New returns a report service.
func New(c Config) *Service {
	if c.Now == nil {
		c.Now = time.Now
	}
	s := &Service{c: c}
	s.src.Store(&c.Sources)
	return s
}

// SetSources sets the mission sources (the application adapts them once
// the services exist); safe while reports are being made.
func (s *Service) SetSources(src Sources) { s.src.Store(&src) }

// Generate gathers the annual report for year as p, renders it in format
// ("html" or "pdf") and writes it to w once it is whole; the report is
// audited (report.generate, labelled with its banner) before a byte is
// written. A bad year or format is errors.Invalid and writes nothing.
func (s *Service) Generate(ctx context.Context, p *genesis.Principal, year int, format string, w io.Writer) (*Data, error) {
	const op errors.Op = "report.Generate"
	if format != FormatHTML && format != FormatPDF {
		return nil, errors.E(op, errors.Invalid, errors.Field("format"), errors.Msg("the report format must be html or pdf"))
	}
	d, err := s.Gather(ctx, p, year)
	if err != nil {
		return nil, errors.E(op, err)
	}
	var b bytes.Buffer
	if err := Render(&b, format, d); err != nil {
		return nil, errors.E(op, err)
	}
	l, err := label.Parse(d.Marking)
	if err != nil {
		return nil, errors.E(op, errors.Internal, err)
	}
	rec := audit.Record{Principal: string(p.ID), Action: "report.generate", ObjectType: "report", ObjectID: fmt.Sprintf("annual-%d", year),
		Decision: audit.Allow, Detail: fmt.Sprintf("annual report %d as %s, %s%s", year, format, bannerPrefix, d.Marking)}
	if err := catalog.Record(ctx, s.c.Audit, rec, l); err != nil {
		return nil, errors.E(op, err)
	}
	if _, err := w.Write(b.Bytes()); err != nil {
		return nil, errors.E(op, errors.Msg("cannot write the report"), err)
	}
	return d, nil
}

const bannerPrefix = "banner "

// BannerOf returns the banner a report.generate record's detail names.
// The caller must check it against the record's label hash: the detail
// alone proves nothing.
func BannerOf(detail string) (label.Label, bool) {
	i := strings.LastIndex(detail, bannerPrefix)
	if i < 0 {
		return label.Label{}, false
	}
	l, err := label.Parse(detail[i+len(bannerPrefix):])
	return l, err == nil
}
