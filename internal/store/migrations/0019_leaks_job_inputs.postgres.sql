-- The versions each job reads, by asset ID: raising an asset's label raises
-- the jobs that read it (their records, specs and logs derive from their
-- inputs), found here in the same transaction. Existing jobs are filled in
-- from the NAME@VERSION list they were submitted with.
CREATE TABLE job_inputs (
	asset_id TEXT NOT NULL,
	version BIGINT NOT NULL,
	job_id TEXT NOT NULL REFERENCES jobs(id),
	PRIMARY KEY (asset_id, version, job_id)
);

INSERT INTO job_inputs (asset_id, version, job_id)
SELECT DISTINCT a.id, split_part(i.value, '@', 2)::BIGINT, j.id
FROM jobs j CROSS JOIN LATERAL jsonb_array_elements_text(j.inputs::jsonb) AS i(value)
JOIN assets a ON a.name = split_part(i.value, '@', 1) OR a.id = split_part(i.value, '@', 1)
WHERE position('@' IN i.value) > 0;
