package app

import (
	"context"
	"embed"
	"encoding/json"

	"github.com/goccy/go-yaml"

	"github.com/genesis-science/genesis"
	"github.com/genesis-science/genesis/internal/blob"
	"github.com/genesis-science/genesis/internal/blob/manifest"
	"github.com/genesis-science/genesis/internal/catalog"
	"github.com/genesis-science/genesis/internal/catalog/meta"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/mission"
	"github.com/genesis-science/genesis/internal/yamlsafe"
)

// The demo's mission content (issue 15): fictional organisations, small
// synthetic datasets and models, and national challenges across the
// priority domains linked to them and to the demo campaign — all marked
// demo (datasets: origin synthetic, "(demo)" in their titles;
// organisations: "-demo" names; challenges: the demo flag).

//go:embed demodata
var demoData embed.FS

// demoMission is demodata/challenges.yaml.
type demoMission struct {
	Organisations []genesis.Organization `yaml:"organisations"`
	Datasets      []struct {
		Name     string    `yaml:"name"`
		File     string    `yaml:"file"`
		Metadata meta.Core `yaml:"metadata"`
	} `yaml:"datasets"`
	Models []struct {
		Name      string             `yaml:"name"`
		Title     string             `yaml:"title"`
		TrainedOn string             `yaml:"trained_on"`
		Framework string             `yaml:"framework"`
		Task      string             `yaml:"task"`
		Metrics   map[string]float64 `yaml:"metrics"`
	} `yaml:"models"`
	Challenges []mission.Spec `yaml:"challenges"`
}

func loadDemoMission() (*demoMission, error) {
	b, err := demoData.ReadFile("demodata/challenges.yaml")
	if err != nil {
		return nil, errors.E(errors.Internal, err)
	}
	var d demoMission
	if err := yamlsafe.Unmarshal(b, &d, yaml.Strict()); err != nil {
		return nil, errors.E(errors.Internal, errors.Msg("demodata/challenges.yaml: "+yamlsafe.Message(err)))
	}
	return &d, nil
}

// setUpDemoMission seeds the demo's mission content as p (an
// administrator). Every step is idempotent: what exists (by name, as p
// sees it) is left alone. Links to the demo campaign are dropped when the
// campaign is not there (the user removed it).
func (a *App) setUpDemoMission(ctx context.Context, p *genesis.Principal) (created int, err error) {
	const op errors.Op = "app.setUpDemoMission"
	d, err := loadDemoMission()
	if err != nil {
		return 0, errors.E(op, err)
	}
	for _, o := range d.Organisations {
		if _, err := a.Identity.Org(ctx, o.Name); errors.Is(errors.NotExist, err) {
			if _, err := a.Identity.CreateOrg(ctx, o); err != nil && !errors.Is(errors.Exist, err) {
				return 0, errors.E(op, err)
			}
		} else if err != nil {
			return 0, errors.E(op, err)
		}
	}
	for _, ds := range d.Datasets {
		if _, err := a.Catalog.Get(ctx, p, ds.Name); err == nil {
			continue
		} else if !errors.Is(errors.NotExist, err) {
			return 0, errors.E(op, err)
		}
		data, err := demoData.ReadFile("demodata/" + ds.File)
		if err != nil {
			return 0, errors.E(op, errors.Internal, err)
		}
		if _, err := a.Catalog.Create(ctx, p, catalog.CreateSpec{Name: ds.Name, Title: ds.Metadata.Title, Description: ds.Metadata.Description, Label: "OPEN"}); err != nil {
			return 0, errors.E(op, err)
		}
		if err := a.putDemoFile(ctx, p, ds.Name, ds.File, data, nil, nil); err != nil {
			return 0, errors.E(op, err)
		}
		if _, err := a.Catalog.SetMetadata(ctx, p, ds.Name, ds.Metadata, "", nil); err != nil {
			return 0, errors.E(op, err)
		}
	}
	for _, m := range d.Models {
		if _, err := a.Catalog.Get(ctx, p, m.Name); err == nil {
			continue
		} else if !errors.Is(errors.NotExist, err) {
			return 0, errors.E(op, err)
		}
		in := []catalog.VersionRef{{Asset: m.TrainedOn, Version: 1}}
		if _, err := a.Catalog.RegisterModel(ctx, p, catalog.RegisterSpec{Name: m.Name, Title: m.Title, TrainedOn: in}); err != nil {
			return 0, errors.E(op, err)
		}
		metrics, _ := json.Marshal(m.Metrics)
		card := "# " + m.Title + "\n\nA demo model set up by genesis up; its metrics are illustrative, not measured.\n"
		if err := a.putDemoFile(ctx, p, m.Name, "model.json", []byte(`{"demo": true}`), in,
			&catalog.ModelMeta{Framework: m.Framework, Task: m.Task, Metrics: metrics, Card: card}); err != nil {
			return 0, errors.E(op, err)
		}
	}
	_, campErr := a.Campaigns.Get(ctx, p, DemoCampaign)
	for _, sp := range d.Challenges {
		if _, err := a.Challenges.Get(ctx, p, sp.Name); err == nil {
			continue
		} else if !errors.Is(errors.NotExist, err) {
			return created, errors.E(op, err)
		}
		sp.Demo = true
		if campErr != nil {
			var links []mission.LinkSpec
			for _, l := range sp.Links {
				if l.Kind != mission.LinkCampaign {
					links = append(links, l)
				}
			}
			sp.Links = links
		}
		if _, err := a.Challenges.Create(ctx, p, &sp); err != nil {
			return created, errors.E(op, errors.Msg("demo challenge "+sp.Name), err)
		}
		created++
	}
	return created, nil
}

// putDemoFile commits one file as a new version of asset name.
func (a *App) putDemoFile(ctx context.Context, p *genesis.Principal, name, path string, data []byte, inputs []catalog.VersionRef, m *catalog.ModelMeta) error {
	id := blob.Sum(data)
	man := &manifest.Manifest{Entries: []manifest.Entry{{Path: path, Type: manifest.File, Mode: 0o644, Size: int64(len(data)), Hash: id,
		Chunks: []manifest.Chunk{{ID: id, Size: int64(len(data))}}}}}
	raw, err := man.Marshal()
	if err != nil {
		return errors.E(errors.Internal, err)
	}
	if err := a.Catalog.PutChunk(ctx, p, name, id, data); err != nil {
		return err
	}
	if err := a.Catalog.PutChunk(ctx, p, name, blob.Sum(raw), raw); err != nil {
		return err
	}
	_, err = a.Catalog.Commit(ctx, p, name, catalog.CommitSpec{Manifest: blob.Sum(raw), Message: "demo data set up by genesis up", Inputs: inputs, Model: m})
	return err
}
