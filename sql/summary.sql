-- Format versions 2 to 4: the summary (sample types, period, time, duration, counts, totals) is read
-- from the first bytes of a value, without fetching or decoding the call tree.
\pset null '(null)'

-- How many buffers (shared hit + read) a query touches, TOAST included.
CREATE FUNCTION pe_blocks(q text) RETURNS bigint LANGUAGE plpgsql AS $$
DECLARE
	plan json;
BEGIN
	EXECUTE 'EXPLAIN (ANALYZE, BUFFERS, COSTS OFF, TIMING OFF, SUMMARY OFF, FORMAT JSON) ' || q
		INTO plan;
	RETURN (plan -> 0 -> 'Plan' ->> 'Shared Hit Blocks')::bigint +
		(plan -> 0 -> 'Plan' ->> 'Shared Read Blocks')::bigint;
END $$;

-- A version 1 value (written by 0.1.0) reads as before, and as its rewrite in the current version.
CREATE TEMP TABLE v1 (p profile);
INSERT INTO v1 VALUES ('\x7f505246010100007d00000028b52ffd247d5503008287181b70693506c030b2b1442baafd147254b8e2f5fbbffb13b47d7f22538201e1d1e791e33801051c7d5d47bb4531bfec2db7c93d89f86d6cf95dc49509cea94ff9207aae92e236e6d4e1e326e263a4a57c236ea3480676013d5df31622b74146c94403010004b0047438f737');
SELECT profile_info(p) ->> 'format_version' AS version, profile_total(p), profile_sample_types(p),
	   profile_time(p), profile_duration(p) FROM v1;
SELECT profile_info(p) ->> 'format_version' AS version, profile_total(p), profile_sample_types(p),
	   profile_time(p), profile_duration(p)
  FROM (SELECT profile_merge(p) AS p FROM v1) m;
SELECT (SELECT profile_info(p) - '{format_version,compressed,decoded_bytes,stored_bytes}'::text[] FROM v1) =
	   (SELECT profile_info(profile_merge(p)) - '{format_version,compressed,decoded_bytes,stored_bytes}'::text[] FROM v1)
	   AS same_info;

-- A version 2 value (written before format version 3) reads the same way, and as its rewrite.
CREATE TEMP TABLE v2 (p profile);
INSERT INTO v2 VALUES ('\x7f5052460200000069000000190000003511ceb7010773616d706c657305636f756e740000000000000808006c084c0064622e7175657279000067632e776f726b6572000068616e646c65722e6765740008706f737400017474702e7365727665000069646c6500006a736f6e2e656e636f646500006d61696e000800010001000001020a010b0203030500010002000800003c180e');
SELECT profile_info(p) ->> 'format_version' AS version, profile_total(p), profile_sample_types(p),
	   profile_time(p), profile_duration(p) FROM v2
UNION ALL
SELECT profile_info(p) ->> 'format_version', profile_total(p), profile_sample_types(p),
	   profile_time(p), profile_duration(p)
  FROM (SELECT profile_merge(p) AS p FROM v2) m;
SELECT (SELECT profile_info(p) - '{format_version,compressed,decoded_bytes,stored_bytes}'::text[] FROM v2) =
	   (SELECT profile_info(profile_merge(p)) - '{format_version,compressed,decoded_bytes,stored_bytes}'::text[] FROM v2)
	   AS same_info,
	   (SELECT profile_to_folded(p) FROM v2) = (SELECT profile_to_folded(profile_merge(p)) FROM v2) AS same_stacks;

-- The encoder computes the totals.  A value whose summary total (6) disagrees with its tree
-- (5), with a correct summary checksum, is corrupt: input decodes the tree and refuses it.
CREATE TEMP TABLE tampered (what text, p text);
INSERT INTO tampered VALUES
	('valid', '\x7f505246020000001700000019000000eab03571010773616d706c657305636f756e740000000000000202000a020c006d61696e0000776f726b00020000000205000002'),
	('total 6', '\x7f505246020000001700000019000000df155698010773616d706c657305636f756e740000000000000202000c020c006d61696e0000776f726b00020000000205000002');
SELECT what, profile_to_folded(p::profile), profile_total(p::profile) FROM tampered WHERE what = 'valid';
\set VERBOSITY sqlstate
SELECT profile_total(p::profile) FROM tampered WHERE what = 'total 6';
\set VERBOSITY default
SELECT profile_total(p::profile) FROM tampered WHERE what = 'total 6';
-- A changed summary byte without its checksum fixed is refused too.
SELECT profile_total(overlay(p PLACING '74' FROM 49 FOR 2)::profile) FROM tampered WHERE what = 'valid';

-- Values of every size in a STORAGE external column (the type's default): inline, just
-- toasted, and many TOAST chunks.  The accessors agree with the decoded tree, and touch only
-- the first chunk: a handful of buffers, however large the value.
CREATE TABLE sizes (n int PRIMARY KEY, p profile);
INSERT INTO sizes
SELECT n, profile_from_folded((SELECT string_agg('main;f' || md5(i::text || 'a') || ';g' || md5(i::text) || ' ' || i, E'\n')
							   FROM generate_series(1, n) i))
  FROM unnest(ARRAY[1, 8, 60, 300, 3000, 20000]) n;
-- and one whose summary spans more than one TOAST chunk: 40 long sample type names
INSERT INTO sizes
SELECT -40, profile_from_folded((SELECT string_agg('main;f' || md5(i::text) || ' ' || (SELECT string_agg((i * k)::text, ' ') FROM generate_series(1, 40) k), E'\n')
								FROM generate_series(1, 500) i),
								(SELECT string_agg('type_' || k || repeat('x', 80) || ':unit', ',') FROM generate_series(1, 40) k));
SELECT attstorage FROM pg_attribute WHERE attrelid = 'sizes'::regclass AND attname = 'p';
VACUUM ANALYZE sizes;
SELECT n,
	   CASE WHEN octet_length(profile_send(p)) < 1800 THEN 'inline'
			WHEN octet_length(profile_send(p)) > 2400 THEN 'toasted' END AS stored,
	   length(profile_info(p) ->> 'sample_types') > 2000 AS long_summary,
	   profile_total(p) = (SELECT value FROM flamegraph(p, NULL, 0) WHERE level = 0) AS total_ok,
	   (profile_info(p) ->> 'nodes')::int = (SELECT count(*) - 1 FROM flamegraph(p, NULL, 0)) AS nodes_ok,
	   array_length(profile_sample_types(p), 1) AS types,
	   profile_time(p), profile_duration(p)
  FROM sizes ORDER BY n;
-- Buffers beyond finding the row (heap and primary key): the accessors read at most 3 (the
-- TOAST index and the first chunk's page; twice that for the long summary, which takes a
-- second, exact fetch), reading the whole value reads all its pages.
CREATE TEMP TABLE blocks AS
SELECT n, octet_length(profile_send(p)) AS bytes,
	   pe_blocks(format('SELECT n FROM sizes WHERE n = %s', n)) AS row_only,
	   pe_blocks(format('SELECT profile_total(p) FROM sizes WHERE n = %s', n)) AS total,
	   pe_blocks(format('SELECT profile_sample_types(p) FROM sizes WHERE n = %s', n)) AS types,
	   pe_blocks(format('SELECT profile_time(p) FROM sizes WHERE n = %s', n)) AS time,
	   pe_blocks(format('SELECT profile_duration(p) FROM sizes WHERE n = %s', n)) AS duration,
	   pe_blocks(format('SELECT profile_info(p) FROM sizes WHERE n = %s', n)) AS info,
	   pe_blocks(format('SELECT length(profile_send(p)) FROM sizes WHERE n = %s', n)) AS whole
  FROM sizes;
SELECT n, total - row_only <= few AS total_few, types - row_only <= few AS types_few,
	   time - row_only <= few AS time_few, duration - row_only <= few AS duration_few,
	   info - row_only <= few AS info_few, whole - row_only >= bytes / 8192 AS whole_all
  FROM blocks, LATERAL (SELECT CASE WHEN n < 0 THEN 6 ELSE 3 END AS few) f ORDER BY n;

-- ALTER EXTENSION profile_ext UPDATE from 0.1.0: version 1 values stay readable, values of
-- every version (1 to 4, the current) live side by side, and the planner learns that the
-- summary accessors are cheap.
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_pe_upgrade;
\c regress_pe_upgrade
SET client_min_messages = warning;
CREATE EXTENSION profile_ext VERSION '0.1.0';
CREATE TABLE old (p profile);
INSERT INTO old VALUES ('\x7f505246010100007d00000028b52ffd247d5503008287181b70693506c030b2b1442baafd147254b8e2f5fbbffb13b47d7f22538201e1d1e791e33801051c7d5d47bb4531bfec2db7c93d89f86d6cf95dc49509cea94ff9207aae92e236e6d4e1e326e263a4a57c236ea3480676013d5df31622b74146c94403010004b0047438f737');
SELECT procost FROM pg_proc WHERE proname = 'profile_total';
ALTER EXTENSION profile_ext UPDATE;
SELECT extversion FROM pg_extension WHERE extname = 'profile_ext';
SELECT proname, procost FROM pg_proc
 WHERE proname IN ('profile_total', 'profile_sample_types', 'profile_time', 'profile_duration', 'profile_info')
 ORDER BY proname;
INSERT INTO old VALUES ('\x7f5052460200000069000000190000003511ceb7010773616d706c657305636f756e740000000000000808006c084c0064622e7175657279000067632e776f726b6572000068616e646c65722e6765740008706f737400017474702e7365727665000069646c6500006a736f6e2e656e636f646500006d61696e000800010001000001020a010b0203030500010002000800003c180e');
-- the same profile as the version 2 value, written in format version 3 (before version 4)
INSERT INTO old VALUES ('\x7f5052460300000069000000190000003511ceb7010773616d706c657305636f756e740000000000000808006c0844000000080100000064622e71756572790067632e776f726b65720068616e646c65722e67657400706f7374007474702e73657276650069646c65006a736f6e2e656e636f6465006d61696e000800010001000001020a010b0203030500010002000800003c180e');
INSERT INTO old SELECT profile_merge(p) FROM old WHERE profile_info(p) ->> 'format_version' = '1';
SELECT profile_info(p) ->> 'format_version' AS version, profile_total(p), profile_sample_types(p) FROM old ORDER BY 1;
\c :regress_db
DROP DATABASE regress_pe_upgrade;

DROP TABLE sizes;
DROP FUNCTION pe_blocks(text);
