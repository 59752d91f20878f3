package sites

import (
	"context"
	"sort"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
)

// Totals sums resources over some sites.
type Totals struct {
	Sites         int            `json:"sites"`
	SitesUp       int            `json:"sites_up"`
	Nodes         int            `json:"nodes"`
	Cores         int            `json:"cores"`
	MemoryTB      float64        `json:"memory_tb"`
	GPUs          map[string]int `json:"gpus"` // by model
	ScratchTB     float64        `json:"scratch_tb"`
	BandwidthGbps float64        `json:"bandwidth_gbps"`
	PowerCapKW    float64        `json:"power_cap_kw"`
	PowerDrawKW   float64        `json:"power_draw_kw"`
}

func (t *Totals) add(s *Site) {
	c := s.Capacity
	t.Sites++
	if s.Status == Up || s.Status == Degraded {
		t.SitesUp++
	}
	t.Nodes += c.Nodes
	t.Cores += c.Nodes * c.CoresPerNode
	t.MemoryTB += float64(c.Nodes) * c.MemoryGBNode / 1024
	if t.GPUs == nil {
		t.GPUs = map[string]int{}
	}
	for _, g := range c.GPUsPerNode {
		t.GPUs[g.Model] += c.Nodes * g.Count
	}
	t.ScratchTB += c.ScratchTB
	t.BandwidthGbps += c.BandwidthGbps
	t.PowerCapKW += s.PowerCapKW
	t.PowerDrawKW += s.PowerDrawKW
}

// SiteInventory is one site's line of the inventory.
type SiteInventory struct {
	Name          string `json:"name"`
	Kind          string `json:"kind"`
	Status        string `json:"status"`
	Accreditation string `json:"accreditation"`
	Totals
}

// Inventory is the federation's resource report.
type Inventory struct {
	Totals Totals `json:"totals"`
	// ByLevel sums sites by the level of their accreditation (OPEN,
	// PROPRIETARY, NATIONAL-SECURITY): what capacity can process data of
	// each tier.
	ByLevel map[string]Totals `json:"by_accreditation_level"`
	Sites   []SiteInventory   `json:"sites"`
}

// Inventory reports compute, storage, network and power across all sites.
func (r *Registry) Inventory(ctx context.Context, p *genesis.Principal) (*Inventory, error) {
	const op errors.Op = "sites.Inventory"
	ss, err := r.List(ctx, p)
	if err != nil {
		return nil, errors.E(op, err)
	}
	inv := &Inventory{Totals: Totals{GPUs: map[string]int{}}, ByLevel: map[string]Totals{}, Sites: []SiteInventory{}}
	for i := range ss {
		s := &ss[i]
		inv.Totals.add(s)
		level := "UNPARSEABLE"
		if l, err := label.Parse(s.Accreditation); err == nil {
			level = l.Level().String()
		}
		t := inv.ByLevel[level]
		t.add(s)
		inv.ByLevel[level] = t
		line := SiteInventory{Name: s.Name, Kind: s.Kind, Status: s.Status, Accreditation: s.Accreditation}
		line.add(s)
		inv.Sites = append(inv.Sites, line)
	}
	sort.Slice(inv.Sites, func(i, j int) bool { return inv.Sites[i].Name < inv.Sites[j].Name })
	return inv, nil
}
