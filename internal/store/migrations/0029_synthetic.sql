-- Synthetic data (issue 15): a dataset version may be marked synthetic,
-- naming its generator — a job, a campaign, a simulator (an instrument of
-- kind sim) or a model — as "kind:ID". A version made by a release keeps
-- synthetic but not the generator (which may be labelled above the
-- released version; the source version still names it). The search
-- document of an asset carries whether its newest version is synthetic.
ALTER TABLE asset_versions ADD COLUMN synthetic BOOLEAN NOT NULL DEFAULT FALSE;

ALTER TABLE asset_versions ADD COLUMN generator TEXT NOT NULL DEFAULT '';

-- The generator's label when the version was made: a reader of the
-- version who may not read a generator of that label is not told its ID.
ALTER TABLE asset_versions ADD COLUMN generator_label TEXT NOT NULL DEFAULT '';

ALTER TABLE search_docs ADD COLUMN synthetic BOOLEAN NOT NULL DEFAULT FALSE;
