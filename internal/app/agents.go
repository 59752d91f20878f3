package app

import (
	"log/slog"
	"os"
	"path/filepath"

	"github.com/genesis-science/genesis/internal/agent"
	"github.com/genesis-science/genesis/internal/config"
	"github.com/genesis-science/genesis/internal/errors"
	"github.com/genesis-science/genesis/internal/llm"
)

// openAgents builds the research agents over the literature. They read as
// their caller; a chat endpoint in cfg.LLM gives them their LLM method,
// and without one they work without a model.
func (a *App) openAgents(cfg config.Config, log *slog.Logger) error {
	if cfg.LLM.ChatURL != "" {
		c, err := llm.New(cfg.LLM)
		if err != nil {
			return err
		}
		a.Chat = c.Chatter()
		log.Info("agents: chat model configured", "model", cfg.LLM.ChatModel)
	}
	dir := filepath.Join(cfg.DataDir, "agent")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return errors.E(errors.Internal, err)
	}
	var err error
	a.Agent, err = agent.New(agent.Config{Library: a.Literature, Catalog: a.Catalog, Campaigns: a.Campaigns, Chatter: a.Chat, Fleet: a.Instruments,
		Audit: a.Audit, DB: a.DB, Logger: log, WorkDir: dir, Challenges: a.Challenges})
	return err
}
