-- How many times a job was placed: a job whose site died is placed again,
-- a bounded number of times.
ALTER TABLE jobs ADD COLUMN attempts INTEGER NOT NULL DEFAULT 0;
