-- Retention and rollups without pg_partman and pg_cron (the cluster test
-- test/scripts/retention.sh runs them with both): profile_store_create,
-- profile_store_maintain, profile_store_merge, the storage functions, and the
-- two-argument profile_merge.  Outputs hold no clock times: data is placed
-- relative to now() and only counts and comparisons are printed.
SET client_min_messages = notice;
SET timezone = 'UTC';
SET datestyle = 'ISO';
SET intervalstyle = 'postgres';

-- ---------------------------------------------------------------- profile_merge(a, b)
CREATE TEMP TABLE two (name text, p profile);
INSERT INTO two VALUES
	('a', profile_from_folded(E'main;work 3 30\nmain;idle 1 10', 'samples:count,cpu:nanoseconds')),
	('b', profile_from_folded(E'main;work 5 50\nmain;gc 2 20', 'samples:count,cpu:nanoseconds'));
SELECT profile_to_folded(profile_merge(a.p, b.p), 'cpu') AS merged,
	   profile_to_folded(profile_merge(a.p, b.p)) = (SELECT profile_to_folded(profile_merge(p)) FROM two) AS same_as_aggregate,
	   profile_total(profile_merge(a.p, b.p)) AS total
  FROM two a, two b WHERE a.name = 'a' AND b.name = 'b';
SELECT profile_to_folded(profile_merge(p, NULL)) = profile_to_folded(p) AS null_skipped,
	   profile_merge(NULL::profile, NULL::profile) IS NULL AS both_null
  FROM two WHERE name = 'a';
SELECT profile_merge(p, profile_from_folded('x 1', 'alloc_space:bytes')) FROM two WHERE name = 'a';

-- ---------------------------------------------------------------- a store
SELECT profile_store_create('regress_store', raw_retention => '3 days', rollup => '1 hour',
							rollup_retention => '30 days', premake => 2);
SELECT attname, format_type(atttypid, atttypmod) AS type, attnotnull
  FROM pg_attribute WHERE attrelid = 'regress_store'::regclass AND attnum > 0 ORDER BY attnum;
SELECT indexrelid::regclass AS index, pg_get_indexdef(indexrelid) ~ 'gin' AS gin
  FROM pg_index WHERE indrelid = 'regress_store'::regclass ORDER BY 1::text;
SELECT count(*) AS partitions, min(lower_bound) = date_trunc('day', now() - interval '3 days', 'UTC') AS from_retention,
	   max(upper_bound) = date_trunc('day', now(), 'UTC') + interval '3 days' AS premade
  FROM profile_store_partitions('regress_store');
SELECT table_name, raw_retention, rollup, rollup_retention, premake, partman_schema, cron_jobid FROM profile_store;
-- the tables are user data, not members of the extension
SELECT count(*) AS member_tables FROM pg_depend
 WHERE refclassid = 'pg_extension'::regclass AND deptype = 'e' AND classid = 'pg_class'::regclass
   AND objid::regclass::text LIKE 'regress_store%';

-- three days of profiles, every 10 minutes, two services
INSERT INTO regress_store (ts, labels, profile)
SELECT t, jsonb_build_object('service_name', 'svc' || s),
	   profile_from_folded(format(E'main;svc%s;f%s %s\nmain;gc %s', s, (extract(epoch FROM t)::bigint / 600) % 5,
								  1 + (extract(epoch FROM t)::bigint / 600) % 7, s), 'cpu:nanoseconds')
  FROM generate_series(now() - interval '2 days 23 hours', now(), interval '10 minutes') t, generate_series(1, 2) s;
SELECT count(*) > 0 AS marked FROM regress_store_rollup_dirty;
CALL profile_store_maintain('regress_store');
SELECT count(*) AS markers_left FROM regress_store_rollup_dirty;
-- every rollup row is profile_merge of its raw rows
CREATE TEMP VIEW rollup_check AS
SELECT count(*) AS buckets,
	   count(*) FILTER (WHERE profile_to_folded(r.profile) IS DISTINCT FROM
		   (SELECT profile_to_folded(profile_merge(x.profile)) FROM regress_store x
			 WHERE x.labels = r.labels AND x.ts >= r.bucket AND x.ts < r.bucket + interval '1 hour')
		   OR r.n <> (SELECT count(*) FROM regress_store x
			 WHERE x.labels = r.labels AND x.ts >= r.bucket AND x.ts < r.bucket + interval '1 hour')) AS wrong,
	   (SELECT sum(profile_total(profile)) FROM regress_store_rollup) = (SELECT sum(profile_total(profile)) FROM regress_store) AS totals_equal
  FROM regress_store_rollup r;
SELECT buckets > 100 AS many_buckets, wrong, totals_equal FROM rollup_check;
CREATE TEMP TABLE snapshot AS SELECT bucket, labels, profile::text AS p, n, updated_at FROM regress_store_rollup;
CALL profile_store_maintain('regress_store');
SELECT count(*) AS changed_by_second_run FROM regress_store_rollup r FULL JOIN snapshot s USING (bucket, labels)
 WHERE s.p IS DISTINCT FROM r.profile::text OR s.updated_at IS DISTINCT FROM r.updated_at;

-- a late row for a bucket already rolled up: the query sees it at once, the rollup after maintenance
INSERT INTO regress_store VALUES (now() - interval '1 day', '{"service_name": "svc1"}',
								  profile_from_folded('main;late 1000', 'cpu:nanoseconds'));
CREATE TEMP VIEW windows AS
SELECT w.f, w.t, l.filter FROM (VALUES
	(now() - interval '2 days 5 hours 7 minutes', now() - interval '3 hours 11 minutes'),
	(now() - interval '1 day 30 minutes', now() - interval '1 day 10 minutes'),
	(now() - interval '4 days', now() + interval '1 hour'),
	(date_trunc('hour', now()) - interval '1 day', date_trunc('hour', now()))) w(f, t),
	(VALUES (NULL::jsonb), ('{"service_name": "svc1"}'), ('{"service_name": "nope"}')) l(filter);
CREATE TEMP VIEW cross_check AS
SELECT count(*) AS windows,
	   count(*) FILTER (WHERE profile_to_folded(profile_store_merge('regress_store', f, t, filter)) IS DISTINCT FROM
		   (SELECT profile_to_folded(profile_merge(profile)) FROM regress_store
			 WHERE ts >= f AND ts < t AND (filter IS NULL OR labels @> filter))) AS different
  FROM windows;
SELECT * FROM cross_check;
SELECT buckets > 100 AS many_buckets, wrong, totals_equal FROM rollup_check;
CALL profile_store_maintain('regress_store');
SELECT buckets > 100 AS many_buckets, wrong, totals_equal FROM rollup_check;
SELECT * FROM cross_check;
-- deleted rows leave the rollup too
DELETE FROM regress_store WHERE profile_total(profile) = 1000;
CALL profile_store_maintain('regress_store');
SELECT buckets > 100 AS many_buckets, wrong, totals_equal FROM rollup_check;

-- ---------------------------------------------------------------- what is refused
CREATE FUNCTION regress_try(sql text) RETURNS text LANGUAGE plpgsql AS $$
BEGIN
	EXECUTE sql;
	RETURN 'accepted';
EXCEPTION WHEN OTHERS THEN
	RETURN SQLSTATE || ': ' || regexp_replace(SQLERRM, '\d{4}-\d\d-\d\d [0-9:.+]+', 'TIME', 'g');
END $$;
SELECT regress_try($$INSERT INTO regress_store VALUES (now() - interval '10 days', '{}', profile_from_folded('a 1'))$$);
SELECT regress_try($$INSERT INTO regress_store VALUES (now() + interval '10 days', '{}', profile_from_folded('a 1'))$$);
SELECT regress_try($$INSERT INTO regress_store VALUES (now() - interval '2 days', '{}', profile_from_folded('a 1'))$$);
SELECT count(*) AS default_rows FROM regress_store_default;
CREATE TABLE regress_plain (ts timestamptz, labels jsonb, profile profile);
\set VERBOSITY default
SELECT profile_store_create('regress_plain');
\set VERBOSITY terse
SELECT profile_store_create('regress_store', rollup => '5 minutes');
SELECT profile_store_create('regress_other', rollup => '7 minutes');
SELECT profile_store_create('regress_other', raw_retention => '30 days', rollup_retention => '7 days');
SELECT profile_store_merge('regress_plain', now() - interval '1 hour', now());
CALL profile_store_maintain('no_such_store');
\set VERBOSITY default

-- ---------------------------------------------------------------- declarative changes
-- a longer retention makes the older days' partitions at once; a shorter one drops at maintenance
SELECT profile_store_create('regress_store', raw_retention => '5 days', rollup_retention => '30 days', premake => 2);
SELECT count(*) AS partitions FROM profile_store_partitions('regress_store');
SELECT regress_try($$INSERT INTO regress_store VALUES (now() - interval '4 days', '{"service_name": "svc1"}', profile_from_folded('main;backfill 5', 'cpu:nanoseconds'))$$);
CALL profile_store_maintain('regress_store');
SELECT buckets > 100 AS many_buckets, wrong, totals_equal FROM rollup_check;
CREATE TEMP TABLE before_drop AS
SELECT date_trunc('day', ts, 'UTC') AS day, labels, profile_to_folded(profile_merge(profile)) AS folded
  FROM regress_store GROUP BY 1, 2;
SELECT profile_store_create('regress_store', raw_retention => '1 day', rollup_retention => '30 days', premake => 2);
SELECT count(*) AS partitions_until_maintenance FROM profile_store_partitions('regress_store');
CALL profile_store_maintain('regress_store');
SELECT count(*) AS partitions, bool_and(upper_bound > now() - interval '1 day') AS none_expired
  FROM profile_store_partitions('regress_store');
-- the rollups of the dropped days still give each day's merge
SELECT count(*) > 5 AS days, count(*) FILTER (WHERE b.folded IS DISTINCT FROM
		(SELECT profile_to_folded(profile_merge(r.profile)) FROM regress_store_rollup r
		  WHERE r.labels = b.labels AND r.bucket >= b.day AND r.bucket < b.day + interval '1 day')) AS different
  FROM before_drop b;
-- and so do the daily rollups of the complete days
SELECT count(*) > 3 AS days, count(*) FILTER (WHERE b.folded IS DISTINCT FROM profile_to_folded(d.profile)) AS different
  FROM before_drop b JOIN regress_store_rollup_daily d ON d.bucket = b.day AND d.labels = b.labels;
SELECT count(*) AS daily_rows_of_today FROM regress_store_rollup_daily WHERE bucket + interval '1 day' > now();

-- ---------------------------------------------------------------- another role
-- A dashboard's reader with SELECT on the store's tables can merge; a role without cannot
-- see the store, and nobody but the owner changes its settings.
CREATE ROLE regress_store_reader;
GRANT SELECT ON regress_store, regress_store_rollup, regress_store_rollup_daily, regress_store_rollup_dirty TO regress_store_reader;
CREATE ROLE regress_store_stranger;
SET ROLE regress_store_reader;
SELECT profile_total(profile_store_merge('regress_store', now() - interval '1 day', now())) > 0 AS reader_merges;
UPDATE profile_store SET raw_retention = '1 year';
RESET ROLE;
SELECT raw_retention FROM profile_store;
SET ROLE regress_store_stranger;
SELECT count(*) AS visible_stores FROM profile_store;
SELECT profile_store_merge('regress_store', now() - interval '1 day', now());
RESET ROLE;
DROP ROLE regress_store_stranger;
REVOKE ALL ON regress_store, regress_store_rollup, regress_store_rollup_daily, regress_store_rollup_dirty FROM regress_store_reader;
DROP ROLE regress_store_reader;

-- ---------------------------------------------------------------- storage
SELECT kind, count(DISTINCT day) > 0 AS days, sum("rows") > 0 AS "rows", bool_and(bytes_per_profile > 0) AS sized,
	   count(partition_bytes) > 0 AS partition_sizes
  FROM profile_store_storage('regress_store') GROUP BY kind ORDER BY kind;
SELECT kind, service_name, retention, projected_bytes >= bytes_per_day AS projected
  FROM profile_store_projection('regress_store') ORDER BY kind, service_name;

DROP VIEW rollup_check, cross_check;
SELECT profile_store_drop('regress_store');
SELECT count(*) AS stores, to_regclass('regress_store_rollup') IS NULL AS rollups_dropped FROM profile_store;
DROP TABLE regress_plain;
DROP FUNCTION regress_try(text);
