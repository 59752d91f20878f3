package app

import (
	"log/slog"
	"os"
	"path/filepath"

	"github.com/genesis-science/genesis/internal/agent"
	"github.com/genesis-science/genesis/internal/catalog/search"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/lit/library"
	"github.com/genesis-science/genesis/internal/llm"
)

// openAgents builds the literature library and the research agents. Both
// read as their caller. A chat endpoint in cfg.LLM gives the agents their
// LLM method; without one they work without a model.
func (a *App) openAgents(cfg config.Config, ix search.Index, log *slog.Logger) error {
	var chat llm.Chatter
	var emb llm.Embedder
	if cfg.LLM.ChatURL != "" || cfg.LLM.EmbedURL != "" {
		c, err := llm.New(cfg.LLM)
		if err != nil {
			return err
		}
		a.LLM, chat, emb = c, c.Chatter(), c.Embedder()
	}
	lib, err := library.New(library.Config{DB: a.DB, Catalog: a.Catalog, Index: ix, Authz: a.Authz, Principals: a.Identity,
		Audit: a.Audit, Embedder: emb, Logger: log})
	if err != nil {
		return err
	}
	a.Library = lib
	dir := filepath.Join(cfg.DataDir, "agent")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return errors.E(errors.Internal, err)
	}
	a.Agent, err = agent.New(agent.Config{Library: lib, Catalog: a.Catalog, Campaigns: a.Campaigns, Chatter: chat, Fleet: a.Instruments,
		Audit: a.Audit, DB: a.DB, Logger: log, WorkDir: dir})
	if err != nil {
		return err
	}
	if chat != nil {
		log.Info("agents: chat model configured", "model", cfg.LLM.ChatModel)
	}
	return nil
}
