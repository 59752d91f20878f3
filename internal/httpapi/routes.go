package httpapi

import (
	"net/http"
	"slices"
)

// routes lists every endpoint. openapi.yaml describes the same set, and
// TestOpenAPICoversRoutes keeps them equal.
func (s *Server) routes() {
	m := s
	m.Handle("GET /healthz", s.public(s.healthz))
	m.Handle("GET /readyz", s.public(s.readyz))
	m.Handle("GET /api/v1/openapi.json", s.public(s.openapi))

	m.Handle("GET /api/v1/whoami", s.authed(s.whoami))

	m.Handle("GET /api/v1/principals", s.authed(s.listPrincipals))
	m.Handle("POST /api/v1/principals", s.authed(s.createPrincipal))
	m.Handle("GET /api/v1/principals/{id}", s.authed(s.getPrincipal))
	m.Handle("PATCH /api/v1/principals/{id}", s.authed(s.updatePrincipal))
	m.Handle("POST /api/v1/principals/{id}/disable", s.authed(s.disablePrincipal))
	m.Handle("POST /api/v1/principals/{id}/tokens", s.authed(s.createTokenFor))
	m.Handle("POST /api/v1/principals/{id}/clearance", s.authed(s.setClearance))

	m.Handle("GET /api/v1/organizations", s.authed(s.listOrgs))
	m.Handle("POST /api/v1/organizations", s.authed(s.createOrg))
	m.Handle("GET /api/v1/organizations/{id}", s.authed(s.getOrg))

	m.Handle("GET /api/v1/projects", s.authed(s.listProjects))
	m.Handle("POST /api/v1/projects", s.authed(s.createProject))
	m.Handle("GET /api/v1/projects/{id}", s.authed(s.getProject))
	m.Handle("GET /api/v1/projects/{id}/members", s.authed(s.listMembers))
	m.Handle("POST /api/v1/projects/{id}/members", s.authed(s.addMember))

	m.Handle("GET /api/v1/agreements", s.authed(s.listAgreements))
	m.Handle("POST /api/v1/agreements", s.authed(s.createAgreement))
	m.Handle("GET /api/v1/agreements/{id}", s.authed(s.getAgreement))
	m.Handle("POST /api/v1/agreements/{id}/end", s.authed(s.endAgreement))
	m.Handle("GET /api/v1/compartments", s.authed(s.listCompartments))
	m.Handle("POST /api/v1/compartments", s.authed(s.registerCompartment))

	m.Handle("GET /api/v1/policy", s.authed(s.getPolicy))
	m.Handle("PUT /api/v1/policy", s.authed(s.setPolicy))
	m.Handle("POST /api/v1/policy/test", s.authed(s.testPolicy))

	m.Handle("GET /api/v1/audit/checkpoint", s.authed(s.needs(s.auditLog != nil, "audit log", s.auditCheckpoint)))
	m.Handle("GET /api/v1/audit/entries", s.authed(s.needs(s.auditLog != nil, "audit log", s.listAudit)))
	m.Handle("GET /api/v1/audit/entries/{index}/proof", s.authed(s.needs(s.auditLog != nil, "audit log", s.auditProof)))

	m.Handle("GET /api/v1/datasets", s.catalogRoute(s.listDatasets))
	m.Handle("POST /api/v1/datasets", s.catalogRoute(s.createDataset))
	m.Handle("GET /api/v1/models", s.catalogRoute(s.listModels))
	m.Handle("POST /api/v1/models", s.catalogRoute(s.registerModel))
	m.Handle("GET /api/v1/assets/{name}", s.catalogRoute(s.getDataset))
	m.Handle("POST /api/v1/assets/{name}/label", s.catalogRoute(s.relabelDataset))
	m.Handle("GET /api/v1/assets/{name}/versions", s.catalogRoute(s.listVersions))
	m.Handle("POST /api/v1/assets/{name}/versions", s.catalogRoute(s.commitVersion))
	m.Handle("GET /api/v1/assets/{name}/versions/{version}", s.catalogRoute(s.getVersion))
	m.Handle("GET /api/v1/assets/{name}/versions/{version}/manifest", s.catalogRoute(s.getManifest))
	m.Handle("GET /api/v1/assets/{name}/versions/{version}/files/{path...}", s.catalogRoute(s.getFile))
	m.Handle("POST /api/v1/assets/{name}/chunks/missing", s.catalogRoute(s.missingChunks))
	m.Handle("GET /api/v1/local", s.authed(s.localInfo))
	m.Handle("POST /api/v1/assets/{name}/local-put", s.catalogRoute(s.localPut))
	m.Handle("PUT /api/v1/assets/{name}/chunks/{id}", s.catalogRoute(s.putChunk))
	m.Handle("GET /api/v1/assets/{name}/chunks/{id}", s.catalogRoute(s.getChunk))

	m.Handle("GET /api/v1/search", s.catalogRoute(s.search))
	m.Handle("GET /api/v1/search/suggest", s.catalogRoute(s.suggest))
	m.Handle("POST /api/v1/catalog/import", s.catalogRoute(s.importMetadata))
	m.Handle("PUT /api/v1/extension-schemas/{name}", s.catalogRoute(s.registerSchema))
	m.Handle("GET /api/v1/assets/{name}/metadata", s.catalogRoute(s.getMetadata))
	m.Handle("PUT /api/v1/assets/{name}/metadata", s.catalogRoute(s.setMetadata))
	m.Handle("GET /api/v1/assets/{name}/metadata/export", s.catalogRoute(s.exportMetadata))
	m.Handle("GET /api/v1/assets/{name}/lineage", s.catalogRoute(s.lineage))
	m.Handle("POST /api/v1/assets/{name}/releases", s.catalogRoute(s.requestRelease))
	m.Handle("GET /api/v1/releases", s.catalogRoute(s.listReleases))
	m.Handle("GET /api/v1/releases/{id}", s.catalogRoute(s.getRelease))
	m.Handle("POST /api/v1/releases/{id}/approve", s.catalogRoute(s.approveRelease))
	m.Handle("POST /api/v1/releases/{id}/reject", s.catalogRoute(s.rejectRelease))

	m.Handle("POST /api/v1/lit/import", s.litRoute(s.litImport))
	m.Handle("GET /api/v1/lit/search", s.litRoute(s.litSearch))
	m.Handle("GET /api/v1/lit/passages/{id}", s.litRoute(s.litPassage))
	m.Handle("GET /api/v1/lit/facts", s.litRoute(s.litFacts))
	m.Handle("GET /api/v1/lit/publications/{ref}", s.litRoute(s.litPublication))

	m.Handle("POST /api/v1/admin/fsck", s.catalogRoute(s.fsck))
	m.Handle("POST /api/v1/admin/gc", s.catalogRoute(s.gc))

	m.Handle("GET /api/v1/sites", s.authed(s.needs(s.sites != nil, "site registry", s.listSites)))
	m.Handle("POST /api/v1/sites", s.authed(s.needs(s.sites != nil, "site registry", s.addSite)))
	m.Handle("GET /api/v1/sites/{name}", s.authed(s.needs(s.sites != nil, "site registry", s.getSite)))
	m.Handle("DELETE /api/v1/sites/{name}", s.authed(s.needs(s.sites != nil, "site registry", s.removeSite)))
	m.Handle("POST /api/v1/sites/{name}/drain", s.authed(s.needs(s.sites != nil, "site registry", s.drainSite)))
	m.Handle("PUT /api/v1/sites/{name}/credentials", s.authed(s.needs(s.sites != nil, "site registry", s.setSiteCredentials)))
	m.Handle("POST /api/v1/sites/{name}/heartbeat", s.authed(s.needs(s.sites != nil, "site registry", s.heartbeat)))
	m.Handle("GET /api/v1/inventory", s.authed(s.needs(s.sites != nil, "site registry", s.inventory)))

	ins := func(h handlerFunc) http.Handler {
		return s.authed(s.needs(s.instruments != nil, "instrument registry", h))
	}
	m.Handle("GET /api/v1/instruments", ins(s.listInstruments))
	m.Handle("POST /api/v1/instruments", ins(s.addInstrument))
	m.Handle("POST /api/v1/instruments/estop", ins(s.estopAll))
	m.Handle("GET /api/v1/instruments/{name}", ins(s.getInstrument))
	m.Handle("DELETE /api/v1/instruments/{name}", ins(s.removeInstrument))
	m.Handle("POST /api/v1/instruments/{name}/status", ins(s.setInstrumentStatus))
	m.Handle("POST /api/v1/instruments/{name}/estop", ins(s.estopInstrument))
	m.Handle("POST /api/v1/instruments/{name}/reset", ins(s.resetInstrument))
	m.Handle("POST /api/v1/instruments/{name}/lock", ins(s.lockInstrument))
	m.Handle("POST /api/v1/instruments/{name}/unlock", ins(s.unlockInstrument))
	m.Handle("POST /api/v1/instruments/{name}/refresh", ins(s.refreshInstrument))
	m.Handle("GET /api/v1/workcells", ins(s.listWorkcells))
	m.Handle("POST /api/v1/workcells", ins(s.addWorkcell))
	m.Handle("GET /api/v1/workcells/{name}", ins(s.getWorkcell))
	m.Handle("GET /api/v1/approvals", ins(s.listApprovals))
	m.Handle("POST /api/v1/approvals/{id}/approve", ins(s.approve))
	m.Handle("POST /api/v1/approvals/{id}/deny", ins(s.deny))

	m.Handle("GET /api/v1/allocations", s.authed(s.needs(s.jobs != nil, "job service", s.listAllocations)))
	m.Handle("POST /api/v1/allocations", s.authed(s.needs(s.jobs != nil, "job service", s.setAllocation)))
	m.Handle("GET /api/v1/jobs", s.authed(s.needs(s.jobs != nil, "job service", s.listJobs)))
	m.Handle("POST /api/v1/jobs", s.authedWith(s.needs(s.jobs != nil, "job service", s.submitJob), true))
	m.Handle("GET /api/v1/jobs/{id}", s.authed(s.needs(s.jobs != nil, "job service", s.getJob)))
	m.Handle("POST /api/v1/jobs/{id}/cancel", s.authedWith(s.needs(s.jobs != nil, "job service", s.cancelJob), true))
	m.Handle("GET /api/v1/jobs/{id}/explain", s.authed(s.needs(s.jobs != nil, "job service", s.explainJob)))
	m.Handle("GET /api/v1/jobs/{id}/logs", s.authed(s.needs(s.jobs != nil, "job service", s.jobLogs)))

	// The campaign service puts its own, label-aware records on the audit
	// log (as the job service does).
	campaigns := func(h handlerFunc) http.Handler {
		return s.authedWith(s.needs(s.campaigns != nil, "campaign service", h), true)
	}
	m.Handle("GET /api/v1/campaigns", campaigns(s.listCampaigns))
	m.Handle("POST /api/v1/campaigns", campaigns(s.createCampaign))
	m.Handle("GET /api/v1/campaigns/{name}", campaigns(s.getCampaign))
	m.Handle("POST /api/v1/campaigns/{name}/start", campaigns(s.campaignAction("start")))
	m.Handle("POST /api/v1/campaigns/{name}/pause", campaigns(s.campaignAction("pause")))
	m.Handle("POST /api/v1/campaigns/{name}/resume", campaigns(s.campaignAction("resume")))
	m.Handle("POST /api/v1/campaigns/{name}/stop", campaigns(s.campaignAction("stop")))
	m.Handle("GET /api/v1/campaigns/{name}/experiments", campaigns(s.listExperiments))
	m.Handle("GET /api/v1/campaigns/{name}/suggestions", campaigns(s.campaignSuggestions))
	m.Handle("GET /api/v1/campaigns/{name}/plot", campaigns(s.campaignPlot))

	s.agentRoutes()
	s.missionRoutes()
	s.challengeRoutes()
	s.reportRoutes()
	s.partnerRoutes()

	m.Handle("GET /api/v1/tokens", s.authed(s.listTokens))
	m.Handle("POST /api/v1/tokens", s.authed(s.createToken))
	m.Handle("DELETE /api/v1/tokens/{id}", s.authed(s.revokeToken))

	// The audit log's C2SP tiles (issue 17: served by every replica).
	m.Handle("GET /api/v1/audit/tlog/{path...}", s.authed(s.needs(s.auditLog != nil, "audit log", s.auditTile)))

	// Protocol endpoints outside the REST API: JSON-RPC, not resources,
	// so openapi.yaml (which describes /api/v1) does not list them;
	// README and DESIGN do.
	if s.mcp != nil {
		s.mount("/mcp", s.mcpRoute(s.mcp))
	}
	// The web console answers every path outside the API that no route
	// matches (notFoundAsProblem hands them over), so it is listed here
	// but not registered on the mux: API paths keep their 404 and 405
	// problem documents.
	if s.console != nil {
		s.mounts = append(s.mounts, "/")
	}
}

// mount registers a protocol endpoint outside the REST API (all methods
// of one path); Mounts lists them.
func (s *Server) mount(pattern string, h http.Handler) {
	s.mounts = append(s.mounts, pattern)
	s.mux.Handle(pattern, h)
}

// Mounts lists the protocol endpoints outside the REST API ("/mcp").
func (s *Server) Mounts() []string { return slices.Clone(s.mounts) }

// Handle registers an endpoint and remembers its pattern for Routes.
func (s *Server) Handle(pattern string, h http.Handler) {
	s.patterns = append(s.patterns, pattern)
	s.mux.Handle(pattern, h)
}

// Routes lists the registered endpoint patterns ("METHOD /path").
func (s *Server) Routes() []string { return slices.Clone(s.patterns) }
