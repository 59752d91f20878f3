// Package sites is the registry of the federation's compute sites: what
// each is (local processes, a Slurm cluster, a DOE IRI facility), how to
// reach it (endpoint, and credentials kept encrypted at rest and never
// shown), the highest label it may process (its accreditation, with the
// nationality and agreement constraints of its operator), its capacity and
// power, and whether it is up — by heartbeat: a site that misses its
// heartbeats is marked down by Monitor.
//
// The registry also answers the mission's resource-inventory question:
// Inventory totals compute, storage and network across sites, per site and
// by accreditation level.
package sites

import (
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/rand"
	"encoding/json"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/authz"
	"github.com/genesis-science/genesis/internal/compartment"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
	"github.com/genesis-science/genesis/internal/store"
	"github.com/genesis-science/genesis/internal/text"
)

// Kinds of site.
const (
	KindLocal = "local"
	KindSlurm = "slurm"
	KindIRI   = "iri"
)

// Statuses of a site.
const (
	Up       = "up"
	Degraded = "degraded"
	Down     = "down"
	Draining = "draining"
)

// GPU is a count of one GPU model per node.
type GPU struct {
	Model string `json:"model"`
	Count int    `json:"count"`
}

// Capacity is what a site offers.
type Capacity struct {
	Nodes         int     `json:"nodes"`
	CoresPerNode  int     `json:"cores_per_node"`
	MemoryGBNode  float64 `json:"memory_gb_per_node"`
	GPUsPerNode   []GPU   `json:"gpus_per_node,omitempty"`
	ScratchTB     float64 `json:"scratch_tb"`
	BandwidthGbps float64 `json:"bandwidth_gbps"` // network bandwidth to the platform
}

// Site is a compute site as the API shows it (never its credentials).
type Site struct {
	ID            string   `json:"id"`
	Name          string   `json:"name"`
	Kind          string   `json:"kind"`
	Endpoint      string   `json:"endpoint,omitempty"`
	HasCredential bool     `json:"has_credentials"`
	Accreditation string   `json:"accreditation"` // the highest label it may process
	OperatorOrg   string   `json:"operator_org,omitempty"`
	Nationalities []string `json:"operator_nationalities,omitempty"`
	Capacity      Capacity `json:"capacity"`
	PowerCapKW    float64  `json:"power_cap_kw"`
	PowerDrawKW   float64  `json:"power_draw_kw"`
	Status        string   `json:"status"`
	StatusReason  string   `json:"status_reason,omitempty"`
	// HeartbeatSeconds is the expected heartbeat interval; three missed
	// heartbeats mark the site down. 0: no heartbeat expected (local).
	HeartbeatSeconds int64      `json:"heartbeat_seconds"`
	LastHeartbeat    *time.Time `json:"last_heartbeat,omitempty"`
	CreatedBy        string     `json:"created_by"`
	CreatedAt        time.Time  `json:"created_at"`
	UpdatedAt        time.Time  `json:"updated_at"`
}

// Registry keeps the sites.
type Registry struct {
	db    store.DB
	authz *authz.Authorizer
	users interface {
		AuthzPrincipal(ctx context.Context, p *genesis.Principal) (authz.Principal, error)
	}
	aead cipher.AEAD
	now  func() time.Time

	onCredentials atomic.Pointer[func(siteID string)]
}

// New returns the registry; secretKey (32 bytes) encrypts credentials.
func New(db store.DB, az *authz.Authorizer, users interface {
	AuthzPrincipal(ctx context.Context, p *genesis.Principal) (authz.Principal, error)
}, secretKey []byte) (*Registry, error) {
	block, err := aes.NewCipher(secretKey)
	if err != nil {
		return nil, errors.E(errors.Op("sites.New"), errors.Internal, errors.Msg("the secrets key must be 32 bytes"), err)
	}
	aead, err := cipher.NewGCM(block)
	if err != nil {
		return nil, errors.E(errors.Op("sites.New"), errors.Internal, err)
	}
	return &Registry{db: db, authz: az, users: users, aead: aead, now: time.Now}, nil
}

var openLabel = label.MustParse("OPEN")

func (r *Registry) can(ctx context.Context, p *genesis.Principal, act authz.Action, id string) error {
	ap, err := r.users.AuthzPrincipal(ctx, p)
	if err != nil {
		return err
	}
	// A site record is OPEN infrastructure knowledge; what a site may
	// process is its accreditation, decided at placement.
	err = r.authz.Can(ctx, ap, act, authz.Resource{Type: authz.Site, ID: id, Label: openLabel})
	if err != nil && act != authz.Read && (errors.Is(errors.NotExist, err) || errors.Is(errors.Permission, err)) {
		return errors.E(errors.Permission, errors.Msg("only operators and administrators change sites"))
	}
	return err
}

// Spec describes a site to add.
type Spec struct {
	Name, Kind, Endpoint string
	// Credentials (e.g. a slurmrestd JWT or an IRI client secret) are
	// encrypted before they are stored.
	Credentials      string
	Accreditation    string
	OperatorOrg      string
	Nationalities    []string
	Capacity         Capacity
	PowerCapKW       float64
	HeartbeatSeconds int64
}

func invalid(field, msg string) error {
	return errors.E(errors.Op("sites"), errors.Invalid, errors.Field(field), errors.Msg(msg))
}

// Bounds on what a site may claim: generous for any real machine, small
// enough that sums and products over every site stay exact.
const (
	MaxNodes        = 1_000_000
	MaxCoresPerNode = 65_536
	MaxGPUsPerNode  = 1_024
	MaxMemoryGB     = 1 << 20    // per node
	MaxStorageTB    = 10_000_000 // 10 EB
	MaxBandwidth    = 10_000_000 // Gb/s
	MaxPowerKW      = 10_000_000 // 10 GW
	MaxHeartbeat    = 7 * 86_400 // seconds
)

// check validates s; it returns the accreditation's canonical marking,
// which the caller parses with compartment.Parse in its transaction (so
// that only known compartments and agreements are interned).
func (s *Spec) check() (string, error) {
	if err := text.Name("name", s.Name); err != nil {
		return "", err
	}
	if err := text.First(text.Line("endpoint", s.Endpoint, 2048), text.Line("operator_org", s.OperatorOrg, text.MaxLine)); err != nil {
		return "", err
	}
	if !slices.Contains([]string{KindLocal, KindSlurm, KindIRI}, s.Kind) {
		return "", invalid("kind", "kind must be local, slurm or iri")
	}
	if s.Kind != KindLocal && !strings.HasPrefix(s.Endpoint, "http://") && !strings.HasPrefix(s.Endpoint, "https://") {
		return "", invalid("endpoint", "a slurm or iri site needs an http(s) endpoint")
	}
	acc, err := label.Canonical(s.Accreditation)
	if err != nil {
		return "", invalid("accreditation", "accreditation: "+label.Message(err))
	}
	c := s.Capacity
	if err := text.First(
		text.Integer("capacity.nodes", int64(c.Nodes), 1, MaxNodes),
		text.Integer("capacity.cores_per_node", int64(c.CoresPerNode), 1, MaxCoresPerNode),
		text.Number("capacity.memory_gb_per_node", c.MemoryGBNode, 0, MaxMemoryGB),
		text.Number("capacity.scratch_tb", c.ScratchTB, 0, MaxStorageTB),
		text.Number("capacity.bandwidth_gbps", c.BandwidthGbps, 0, MaxBandwidth),
		text.Number("power_cap_kw", s.PowerCapKW, 0, MaxPowerKW),
		text.Integer("heartbeat_seconds", s.HeartbeatSeconds, 0, MaxHeartbeat),
	); err != nil {
		return "", err
	}
	if c.MemoryGBNode <= 0 {
		return "", invalid("capacity.memory_gb_per_node", "capacity.memory_gb_per_node: must be more than 0")
	}
	if len(c.GPUsPerNode) > 64 {
		return "", invalid("capacity.gpus_per_node", "capacity.gpus_per_node: at most 64 GPU models")
	}
	for _, g := range c.GPUsPerNode {
		if g.Model == "" || g.Count < 1 {
			return "", invalid("capacity.gpus_per_node", "each GPU entry needs a model and a count ≥ 1")
		}
		if err := text.First(text.Line("capacity.gpus_per_node.model", g.Model, 64), text.Integer("capacity.gpus_per_node.count", int64(g.Count), 1, MaxGPUsPerNode)); err != nil {
			return "", err
		}
	}
	for i, n := range s.Nationalities {
		s.Nationalities[i] = strings.ToUpper(n)
		if !label.IsNation(s.Nationalities[i]) {
			return "", invalid("operator_nationalities", "nationalities are ISO 3166-1 alpha-3 codes")
		}
	}
	return acc, nil
}

// Add registers a site (operators and administrators).
func (r *Registry) Add(ctx context.Context, p *genesis.Principal, s Spec) (*Site, error) {
	const op errors.Op = "sites.Add"
	if err := r.can(ctx, p, authz.Write, "new-site"); err != nil {
		return nil, errors.E(op, err)
	}
	acc, err := s.check()
	if err != nil {
		return nil, err
	}
	sealed := r.seal(s.Name, s.Credentials)
	capJSON, _ := json.Marshal(s.Capacity)
	now := r.now().UTC().Truncate(time.Microsecond)
	site := &Site{ID: "site_" + strings.ToLower(randID()), Name: s.Name, Kind: s.Kind, Endpoint: s.Endpoint, HasCredential: sealed != nil,
		Accreditation: acc, OperatorOrg: s.OperatorOrg, Nationalities: s.Nationalities, Capacity: s.Capacity,
		PowerCapKW: s.PowerCapKW, Status: Up, HeartbeatSeconds: s.HeartbeatSeconds, CreatedBy: string(p.ID), CreatedAt: now, UpdatedAt: now}
	if s.HeartbeatSeconds > 0 {
		site.Status, site.StatusReason = Down, "no heartbeat yet"
	}
	err = r.db.Update(ctx, func(tx store.Tx) error {
		if _, err := compartment.Parse(ctx, tx, "accreditation", acc); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO sites (id, name, kind, endpoint, credentials, accreditation, operator_org, nationalities, capacity, power_cap_kw, power_draw_kw,
			status, status_reason, heartbeat_seconds, created_by, created_at, updated_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, ?, ?, ?, ?)`,
			site.ID, site.Name, site.Kind, site.Endpoint, sealed, site.Accreditation, site.OperatorOrg, strings.Join(site.Nationalities, ","),
			string(capJSON), site.PowerCapKW, site.Status, site.StatusReason, site.HeartbeatSeconds, site.CreatedBy, store.T(now), store.T(now))
		return err
	})
	if errors.Is(errors.Exist, err) {
		return nil, errors.E(op, errors.Exist, errors.Field("name"), errors.Msg("a site with that name exists"))
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	return site, nil
}

func randID() string {
	const alphabet = "abcdefghijklmnopqrstuvwxyz234567"
	b := make([]byte, 16)
	rand.Read(b)
	for i := range b {
		b[i] = alphabet[int(b[i])%len(alphabet)]
	}
	return string(b)
}

const cols = `id, name, kind, endpoint, credentials IS NOT NULL, accreditation, operator_org, nationalities, capacity, power_cap_kw, power_draw_kw,
	status, status_reason, heartbeat_seconds, last_heartbeat, created_by, created_at, updated_at`

func scan(sc interface{ Scan(...any) error }) (*Site, error) {
	var s Site
	var nats, capJSON string
	var hb *int64
	var c, u int64
	if err := sc.Scan(&s.ID, &s.Name, &s.Kind, &s.Endpoint, &s.HasCredential, &s.Accreditation, &s.OperatorOrg, &nats, &capJSON, &s.PowerCapKW, &s.PowerDrawKW,
		&s.Status, &s.StatusReason, &s.HeartbeatSeconds, &hb, &s.CreatedBy, &c, &u); err != nil {
		return nil, err
	}
	if nats != "" {
		s.Nationalities = strings.Split(nats, ",")
	}
	json.Unmarshal([]byte(capJSON), &s.Capacity)
	s.LastHeartbeat, s.CreatedAt, s.UpdatedAt = store.FromNullT(hb), store.FromT(c), store.FromT(u)
	return &s, nil
}

// List returns every site, by name.
func (r *Registry) List(ctx context.Context, p *genesis.Principal) ([]Site, error) {
	const op errors.Op = "sites.List"
	if err := r.can(ctx, p, authz.Read, "sites"); err != nil {
		return nil, errors.E(op, err)
	}
	out, err := r.All(ctx)
	if err != nil {
		return nil, errors.E(op, err)
	}
	return out, nil
}

// Get returns one site by name or ID.
func (r *Registry) Get(ctx context.Context, p *genesis.Principal, idOrName string) (*Site, error) {
	const op errors.Op = "sites.Get"
	var s *Site
	err := r.db.View(ctx, func(tx store.Tx) error {
		var err error
		s, err = scan(tx.QueryRow(ctx, `SELECT `+cols+` FROM sites WHERE id = ? OR name = ?`, idOrName, idOrName))
		return err
	})
	if err == nil {
		err = r.can(ctx, p, authz.Read, s.ID)
	}
	if err != nil {
		return nil, errors.E(op, err)
	}
	return s, nil
}

// seal encrypts credentials, bound to the site's name; nil for none.
func (r *Registry) seal(name, credentials string) []byte {
	if credentials == "" {
		return nil
	}
	nonce := make([]byte, r.aead.NonceSize())
	rand.Read(nonce)
	return r.aead.Seal(nonce, nonce, []byte(credentials), []byte(name))
}

// SetCredentials replaces a site's credentials (operators and
// administrators): a rotated slurmrestd JWT or IRI token. "" removes them.
// Code holding a client built from the old ones is told through
// OnCredentials.
func (r *Registry) SetCredentials(ctx context.Context, p *genesis.Principal, idOrName, credentials string) (*Site, error) {
	const op errors.Op = "sites.SetCredentials"
	site, err := r.Get(ctx, p, idOrName)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := r.can(ctx, p, authz.Write, site.ID); err != nil {
		return nil, errors.E(op, err)
	}
	if len(credentials) > 64<<10 {
		return nil, invalid("credentials", "credentials are at most 64 KiB")
	}
	now := r.now().UTC().Truncate(time.Microsecond)
	err = r.db.Update(ctx, func(tx store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE sites SET credentials = ?, updated_at = ? WHERE id = ?`, r.seal(site.Name, credentials), store.T(now), site.ID)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errors.E(errors.NotExist)
		}
		return nil
	})
	if err != nil {
		return nil, errors.E(op, err)
	}
	if f := r.onCredentials.Load(); f != nil {
		(*f)(site.ID)
	}
	site.HasCredential, site.UpdatedAt = credentials != "", now
	return site, nil
}

// OnCredentials registers f to be called with a site's ID after its
// credentials change (or it is removed): the application drops the
// backend it built from the old ones.
func (r *Registry) OnCredentials(f func(siteID string)) { r.onCredentials.Store(&f) }

// Credentials decrypts a site's credentials for the code that talks to it.
// It is not reachable from the API.
func (r *Registry) Credentials(ctx context.Context, idOrName string) (string, error) {
	const op errors.Op = "sites.Credentials"
	var name string
	var sealed []byte
	err := r.db.View(ctx, func(tx store.Tx) error {
		return tx.QueryRow(ctx, `SELECT name, credentials FROM sites WHERE id = ? OR name = ?`, idOrName, idOrName).Scan(&name, &sealed)
	})
	if err != nil {
		return "", errors.E(op, err)
	}
	if len(sealed) == 0 {
		return "", nil
	}
	n := r.aead.NonceSize()
	if len(sealed) < n {
		return "", errors.E(op, errors.Internal, errors.Msg("stored credentials are malformed"))
	}
	plain, err := r.aead.Open(nil, sealed[:n], sealed[n:], []byte(name))
	if err != nil {
		return "", errors.E(op, errors.Internal, errors.Msg("stored credentials do not decrypt with this deployment's key"))
	}
	return string(plain), nil
}

func (r *Registry) setStatus(ctx context.Context, p *genesis.Principal, idOrName, status, reason string) (*Site, error) {
	s, err := r.Get(ctx, p, idOrName)
	if err != nil {
		return nil, err
	}
	if err := r.can(ctx, p, authz.Operate, s.ID); err != nil {
		return nil, err
	}
	err = r.db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `UPDATE sites SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?`, status, reason, store.T(r.now()), s.ID)
		return err
	})
	if err != nil {
		return nil, err
	}
	return r.Get(ctx, p, s.ID)
}

// Drain stops new work from being placed on a site; running work finishes.
func (r *Registry) Drain(ctx context.Context, p *genesis.Principal, idOrName, reason string) (*Site, error) {
	if reason == "" {
		reason = "drained by an operator"
	}
	if err := text.Line("reason", reason, 1024); err != nil {
		return nil, errors.E(errors.Op("sites.Drain"), err)
	}
	s, err := r.setStatus(ctx, p, idOrName, Draining, reason)
	if err != nil {
		return nil, errors.E(errors.Op("sites.Drain"), err)
	}
	return s, nil
}

// Remove deletes a site from the registry.
func (r *Registry) Remove(ctx context.Context, p *genesis.Principal, idOrName string) error {
	const op errors.Op = "sites.Remove"
	s, err := r.Get(ctx, p, idOrName)
	if err != nil {
		return errors.E(op, err)
	}
	if err := r.can(ctx, p, authz.Delete, s.ID); err != nil {
		return errors.E(op, err)
	}
	err = r.db.Update(ctx, func(tx store.Tx) error {
		_, err := tx.Exec(ctx, `DELETE FROM sites WHERE id = ?`, s.ID)
		return err
	})
	if err != nil {
		return errors.E(op, err)
	}
	if f := r.onCredentials.Load(); f != nil {
		(*f)(s.ID)
	}
	return nil
}

// Heartbeat records that a site is alive, with its status and power draw.
func (r *Registry) Heartbeat(ctx context.Context, p *genesis.Principal, idOrName, status, reason string, powerDrawKW float64) (*Site, error) {
	const op errors.Op = "sites.Heartbeat"
	if status == "" {
		status = Up
	}
	if err := text.First(text.Number("power_draw_kw", powerDrawKW, 0, MaxPowerKW), text.Line("reason", reason, 1024)); err != nil {
		return nil, errors.E(op, err)
	}
	s, err := r.Get(ctx, p, idOrName)
	if err != nil {
		return nil, errors.E(op, err)
	}
	if err := r.can(ctx, p, authz.Operate, s.ID); err != nil {
		return nil, errors.E(op, err)
	}
	if err := r.observe(ctx, s.ID, status, reason, &powerDrawKW); err != nil {
		return nil, errors.E(op, err)
	}
	return r.Get(ctx, p, s.ID)
}

// MarkMissing marks down every site whose last heartbeat is older than
// three intervals. It returns how many it marked.
func (r *Registry) MarkMissing(ctx context.Context) (int, error) {
	now := r.now()
	var n int
	err := r.db.Update(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT id, heartbeat_seconds, COALESCE(last_heartbeat, created_at) FROM sites WHERE heartbeat_seconds > 0 AND status IN (?, ?)`, Up, Degraded)
		if err != nil {
			return err
		}
		var ids []string
		if err := rows.Each(func() error {
			var id string
			var every, last int64
			if err := rows.Scan(&id, &every, &last); err != nil {
				return err
			}
			if now.Sub(store.FromT(last)) > 3*time.Duration(every)*time.Second {
				ids = append(ids, id)
			}
			return nil
		}); err != nil {
			return err
		}
		for _, id := range ids {
			if _, err := tx.Exec(ctx, `UPDATE sites SET status = ?, status_reason = ?, updated_at = ? WHERE id = ?`, Down, "missed three heartbeats", store.T(now), id); err != nil {
				return err
			}
		}
		n = len(ids)
		return nil
	})
	return n, err
}

// Monitor is the background loop that marks silent sites down.
type Monitor struct {
	Registry *Registry
	Every    time.Duration
	OnError  func(error)
}

// Run checks heartbeats every m.Every until ctx ends.
func (m *Monitor) Run(ctx context.Context) error {
	return every(ctx, m.Every, func(ctx context.Context) error {
		_, err := m.Registry.MarkMissing(ctx)
		return err
	}, m.OnError)
}

// every calls fn every d until ctx ends, passing its errors to onError
// (when set and ctx is not done).
func every(ctx context.Context, d time.Duration, fn func(context.Context) error, onError func(error)) error {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := fn(ctx); err != nil && onError != nil && ctx.Err() == nil {
				onError(err)
			}
		}
	}
}

// EnsureLocal registers the embedded default's local site — this machine,
// accredited for OPEN data unless told otherwise — when no site of that
// name exists. It is for `genesis up`, not the API.
func (r *Registry) EnsureLocal(ctx context.Context, accreditation string, c Capacity) (bool, error) {
	const op errors.Op = "sites.EnsureLocal"
	s := Spec{Name: "local", Kind: KindLocal, Accreditation: accreditation, Capacity: c}
	acc, err := s.check()
	if err != nil {
		return false, errors.E(op, err)
	}
	capJSON, _ := json.Marshal(c)
	now := store.T(r.now())
	created := false
	err = r.db.Update(ctx, func(tx store.Tx) error {
		var n int
		if err := tx.QueryRow(ctx, `SELECT COUNT(*) FROM sites WHERE name = 'local'`).Scan(&n); err != nil || n > 0 {
			return err
		}
		if _, err := compartment.Parse(ctx, tx, "accreditation", acc); err != nil {
			return err
		}
		created = true
		_, err := tx.Exec(ctx, `INSERT INTO sites (id, name, kind, endpoint, credentials, accreditation, operator_org, nationalities, capacity, power_cap_kw, power_draw_kw,
			status, status_reason, heartbeat_seconds, created_by, created_at, updated_at) VALUES (?, 'local', 'local', '', NULL, ?, '', '', ?, 0, 0, ?, '', 0, 'genesis', ?, ?)`,
			"site_"+randID(), acc, string(capJSON), Up, now, now)
		return err
	})
	if err != nil {
		return false, errors.E(op, err)
	}
	return created, nil
}

// All lists every site for the scheduler (no principal: the scheduler
// decides placement, not visibility).
func (r *Registry) All(ctx context.Context) ([]Site, error) {
	out := []Site{}
	err := r.db.View(ctx, func(tx store.Tx) error {
		rows, err := tx.Query(ctx, `SELECT `+cols+` FROM sites ORDER BY name`)
		if err != nil {
			return err
		}
		return rows.Each(func() error {
			s, err := scan(rows)
			if err == nil {
				out = append(out, *s)
			}
			return err
		})
	})
	return out, err
}

// Observe records a site's status as the platform observed it (by probing
// its backend): like a heartbeat, but from the platform itself. A drained
// site stays drained.
func (r *Registry) Observe(ctx context.Context, idOrName, status, reason string) error {
	if err := r.observe(ctx, idOrName, status, reason, nil); err != nil {
		return errors.E(errors.Op("sites.Observe"), err)
	}
	return nil
}

// observe records a site's status (and power draw, when given) as of now.
// An operator's drain outlasts heartbeats and probes.
func (r *Registry) observe(ctx context.Context, idOrName, status, reason string, powerDrawKW *float64) error {
	if status != Up && status != Degraded && status != Down {
		return invalid("status", "a heartbeat or probe reports up, degraded or down")
	}
	now := store.T(r.now())
	return r.db.Update(ctx, func(tx store.Tx) error {
		res, err := tx.Exec(ctx, `UPDATE sites SET status = CASE WHEN status = ? THEN status ELSE ? END,
			status_reason = CASE WHEN status = ? THEN status_reason ELSE ? END,
			power_draw_kw = COALESCE(?, power_draw_kw), last_heartbeat = ?, updated_at = ? WHERE id = ? OR name = ?`,
			Draining, status, Draining, truncateReason(reason), powerDrawKW, now, now, idOrName, idOrName)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return errors.E(errors.NotExist)
		}
		return nil
	})
}

// truncateReason bounds a status reason reported by a backend or probe and
// replaces any control or bidi character in it: it comes from outside and
// is shown on terminals (operators' own reasons are refused instead).
func truncateReason(s string) string {
	if len(s) > 1024 {
		s = strings.ToValidUTF8(s[:1024], "")
	}
	s, _ = text.Sanitize(s, false)
	return s
}
