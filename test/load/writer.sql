-- pgbench writer (test/scripts/load.sh): one transaction stores a batch of 5 profiles.
-- The profiles are parsed from pprof on the server (profile_from_pprof), which is the
-- same conversion, pe_pg_from_bytes, that profile_recv runs for each row of a binary
-- COPY; only the wire framing differs.  (An INSERT ... SELECT of a profile column would
-- copy the stored value without parsing anything, so the staging table keeps pprof.)
-- load.sh runs real COPY FROM STDIN of generator output in parallel for the wire path.
-- Variables: -D nstaging=<rows in load_staging>.
\set id random(1, :nstaging - 4)
INSERT INTO load_profiles (ts, labels, profile)
	SELECT now(), labels, profile_from_pprof(pprof)
	FROM load_staging WHERE id BETWEEN :id AND :id + 4;
