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
SELECT DISTINCT a.id, CAST(substr(i.value, instr(i.value, '@') + 1) AS INTEGER), j.id
FROM jobs j, json_each(j.inputs) i
JOIN assets a ON a.name = substr(i.value, 1, instr(i.value, '@') - 1) OR a.id = substr(i.value, 1, instr(i.value, '@') - 1)
WHERE instr(i.value, '@') > 0;
