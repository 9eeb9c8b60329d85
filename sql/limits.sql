-- Limits: each profile_ext.* setting, when exceeded, is ERROR 54000
-- (program_limit_exceeded) with a message that names the setting.
\set VERBOSITY default

-- SQLSTATE, message and detail of the error a query raises.
CREATE FUNCTION lim_error(query text) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
	state text;
	msg text;
	detail text;
	hint text;
BEGIN
	EXECUTE query;
	RETURN 'no error';
EXCEPTION WHEN OTHERS THEN
	GET STACKED DIAGNOSTICS state = RETURNED_SQLSTATE, msg = MESSAGE_TEXT,
		detail = PG_EXCEPTION_DETAIL, hint = PG_EXCEPTION_HINT;
	RETURN state || ': ' || msg || coalesce(E'\n' || nullif(detail, ''), '')
		|| coalesce(E'\nHINT: ' || nullif(hint, ''), '');
END $$;

-- The settings exist once the library is loaded (by the first call of any
-- profile_ext function in a session; before that, SET only makes a placeholder
-- that is checked when the library loads).
SELECT profile_total(profile_from_folded('a 1')) AS loaded;
-- The settings and their defaults: 64 MB decoded, 200000 frames, 10 million nodes.
SELECT name, boot_val, unit, min_val, max_val, context
  FROM pg_settings WHERE name LIKE 'profile_ext.%' ORDER BY name;
SHOW profile_ext.max_decoded_size;

-- Out-of-range settings are refused by PostgreSQL itself.
SET profile_ext.max_decoded_size = '1kB';
SET profile_ext.max_stack_depth = 0;
SET profile_ext.max_nodes = -1;
SET profile_ext.compression_level = 20;

-- ---------------------------------------------------------------- max_decoded_size
-- A profile of 3000 stacks with distinct names: its pprof and its stored body
-- are larger than 64 kB.
CREATE TABLE lim_big AS
SELECT profile_from_folded(string_agg(format('main;handler_%s;%s %s', i % 40, md5(i::text), i),
									  E'\n')) AS p
  FROM generate_series(1, 3000) i;
CREATE TABLE lim_big_pprof AS
SELECT profile_to_pprof(p, false) AS plain, profile_to_pprof(p) AS gz FROM lim_big;
SELECT length(plain) > 65536 AS plain_over_64kB, length(gz) < length(plain) AS gzip_smaller,
	   (profile_info(p)->>'decoded_bytes')::int > 65536 AS stored_body_over_64kB
  FROM lim_big_pprof, lim_big;

SET profile_ext.max_decoded_size = '64kB';
-- plain pprof: refused on its size
SELECT lim_error('SELECT profile_from_pprof(plain) FROM lim_big_pprof');
-- gzipped pprof: inflation stops at the limit
SELECT lim_error('SELECT profile_from_pprof(gz) FROM lim_big_pprof');
-- a stored value whose body is larger: refused before decompressing
SELECT lim_error('SELECT profile_top(p) FROM lim_big');
SELECT lim_error('SELECT profile_merge(p) FROM lim_big');
-- the summary accessors do not decompress the body, so the limit does not apply
SELECT lim_error('SELECT profile_total(p) FROM lim_big');
-- Outputs are capped too: a profile whose stored body is under 64 kB while
-- its folded text and plain pprof are over.
RESET profile_ext.max_decoded_size;
CREATE TABLE lim_mid AS
SELECT profile_from_folded(string_agg(format('main;handler_%s;%s %s', i % 40, md5(i::text), i),
									  E'\n')) AS p
  FROM generate_series(1, 1400) i;
SELECT length(profile_to_folded(p)) > 65536 AS folded_over_64kB,
	   length(profile_to_pprof(p, false)) > 65536 AS pprof_over_64kB,
	   (profile_info(p)->>'decoded_bytes')::int < 65536 AS stored_body_under_64kB
  FROM lim_mid;
SET profile_ext.max_decoded_size = '64kB';
SELECT lim_error('SELECT profile_to_folded(p) FROM lim_mid');
SELECT lim_error('SELECT profile_to_pprof(p, false) FROM lim_mid');
RESET profile_ext.max_decoded_size;
SELECT profile_total(p) = 4501500 AS readable_again FROM lim_big;

-- ---------------------------------------------------------------- max_stack_depth
-- Folded stacks and pprof both count frames; a 10-frame stack passes, 11 do not.
CREATE TABLE lim_deep AS
SELECT n, profile_to_pprof(profile_from_folded(
		(SELECT string_agg('f' || i, ';') FROM generate_series(1, n) i) || ' 1')) AS pprof
  FROM (VALUES (10), (11)) v(n);
SET profile_ext.max_stack_depth = 10;
SELECT profile_total(profile_from_folded('f1;f2;f3;f4;f5;f6;f7;f8;f9;f10 1')) AS ten_frames_folded;
SELECT lim_error('SELECT profile_from_folded(''f1;f2;f3;f4;f5;f6;f7;f8;f9;f10;f11 1'')');
-- the line number points at the deep stack
SELECT lim_error(format('SELECT profile_from_folded(%L)',
						E'a 1\nb;c 2\nf1;f2;f3;f4;f5;f6;f7;f8;f9;f10;f11 1'));
SELECT n, lim_error(format('SELECT profile_from_pprof(%L::bytea)', pprof)) FROM lim_deep ORDER BY n;
-- Stored values are not input profiles: their size is bounded by max_nodes.
RESET profile_ext.max_stack_depth;
CREATE TABLE lim_deep_stored AS SELECT profile_from_pprof(pprof) AS p FROM lim_deep WHERE n = 11;
SET profile_ext.max_stack_depth = 10;
SELECT max(level) AS stored_deep_stack_levels FROM flamegraph((SELECT p FROM lim_deep_stored));
RESET profile_ext.max_stack_depth;

-- ---------------------------------------------------------------- max_nodes
-- The root counts: 99 one-frame stacks are 100 nodes.
CREATE TABLE lim_rows AS
SELECT i, profile_from_folded('stack_' || i || ' 1') AS p FROM generate_series(1, 200) i;
SET profile_ext.max_nodes = 100;
SELECT profile_total(profile_merge(p)) AS merged_99 FROM lim_rows WHERE i < 100;
-- merging many distinct stacks
SELECT lim_error('SELECT profile_merge(p) FROM lim_rows');
-- folded and pprof input
SELECT lim_error('SELECT profile_from_folded(string_agg(''s'' || i || '' 1'', E''\n'')) FROM generate_series(1, 150) i');
RESET profile_ext.max_nodes;
CREATE TABLE lim_wide AS SELECT profile_merge(p) AS p FROM lim_rows;
SET profile_ext.max_nodes = 100;
SELECT lim_error('SELECT profile_from_pprof(profile_to_pprof(p)) FROM lim_wide');
-- a stored value with more nodes (the summary alone stays readable)
SELECT lim_error('SELECT profile_to_folded(p) FROM lim_wide');
SELECT lim_error('SELECT profile_total(p) FROM lim_wide');
-- diffs build a union of both trees
SELECT lim_error($$SELECT profile_diff(profile_from_folded(string_agg('a' || i || ' 1', E'\n')),
                                        profile_from_folded(string_agg('b' || i || ' 1', E'\n')))
                     FROM generate_series(1, 60) i$$);
RESET profile_ext.max_nodes;
SELECT profile_total(p) AS merged_200 FROM lim_wide;

-- ---------------------------------------------------------------- compression_level
-- Any level stores the same profile: values differ, contents do not.
SET profile_ext.compression_level = 1;
CREATE TABLE lim_levels AS SELECT 1 AS level, profile_merge(p) AS p FROM lim_big;
SET profile_ext.compression_level = 19;
INSERT INTO lim_levels SELECT 19, profile_merge(p) FROM lim_big;
RESET profile_ext.compression_level;
SELECT count(DISTINCT profile_to_folded(p)) AS distinct_contents,
	   bool_and((profile_info(p)->>'compressed')::bool) AS all_compressed
  FROM lim_levels;

DROP TABLE lim_big, lim_big_pprof, lim_mid, lim_deep, lim_deep_stored, lim_rows, lim_wide, lim_levels;
DROP FUNCTION lim_error(text);
