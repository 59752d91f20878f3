package instruments

import (
	"context"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/label"
)

// InventoryLine is one instrument's line of the inventory.
type InventoryLine struct {
	Name          string `json:"name"`
	Kind          string `json:"kind"`
	Lab           string `json:"lab,omitempty"`
	Workcell      string `json:"workcell,omitempty"`
	Status        string `json:"status"`
	Accreditation string `json:"accreditation"`
}

// Inventory counts the lab's instruments by status and by the level of
// their accreditation (what equipment can process data of each tier).
type Inventory struct {
	Total       int             `json:"total"`
	ByStatus    map[string]int  `json:"by_status"`
	ByLevel     map[string]int  `json:"by_accreditation_level"`
	Instruments []InventoryLine `json:"instruments"`
}

// Inventory reports the instruments p may see.
func (r *Registry) Inventory(ctx context.Context, p *genesis.Principal) (*Inventory, error) {
	ins, err := r.List(ctx, p)
	if err != nil {
		return nil, errors.E(errors.Op("instruments.Inventory"), err)
	}
	inv := &Inventory{ByStatus: map[string]int{}, ByLevel: map[string]int{}, Instruments: []InventoryLine{}}
	for _, in := range ins {
		inv.Total++
		inv.ByStatus[string(in.Status)]++
		level := "UNPARSEABLE"
		if l, err := label.Parse(in.Accreditation); err == nil {
			level = l.Level().String()
		}
		inv.ByLevel[level]++
		inv.Instruments = append(inv.Instruments, InventoryLine{Name: in.Name, Kind: in.Kind, Lab: in.Lab, Workcell: in.Workcell,
			Status: string(in.Status), Accreditation: in.Accreditation})
	}
	return inv, nil
}
