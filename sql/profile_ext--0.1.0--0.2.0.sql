-- profile_ext 0.1.0 -> 0.2.0.  CREATE EXTENSION profile_ext runs the frozen 0.1.0 script and
-- then this one; ALTER EXTENSION profile_ext UPDATE runs this one alone.  Each concern keeps
-- its own section below, in this order.
\echo Use "ALTER EXTENSION profile_ext UPDATE TO '0.2.0'" to load this file. \quit

-- ============================================================================ install script
-- hygiene: COST, NULL handling and comments of existing functions

-- Every function that decodes a profile (or pprof) says so to the planner, as 0.1.0's
-- accessors did: a decode takes tens to hundreds of microseconds.
ALTER FUNCTION profile_in(cstring) COST 1000;
ALTER FUNCTION profile_recv(internal) COST 1000;
ALTER FUNCTION profile_from_pprof(bytea) COST 1000;
ALTER FUNCTION profile_merge_deserialfn(bytea, internal) COST 1000;
ALTER FUNCTION flamegraph(profile, text, int) COST 1000;
ALTER FUNCTION profile_top(profile, text, int) COST 1000;
ALTER FUNCTION profile_filter(profile, text, text) COST 1000;
ALTER FUNCTION profile_diff(profile, profile) COST 1000;
ALTER FUNCTION profile_to_folded(profile, text) COST 1000;
ALTER FUNCTION profile_to_pprof(profile, boolean) COST 1000;
ALTER FUNCTION flamegraph_svg(profile, text, text, int, int) COST 1000;
ALTER FUNCTION flamegraph_diff_svg(profile, profile, text, text, int, int) COST 1000;

-- A NULL sample type means the default ('samples:count'), as everywhere else; 0.1.0
-- declared it STRICT, which made that default unreachable.  NULL text still gives NULL.
ALTER FUNCTION profile_from_folded(text, text) COST 1000 CALLED ON NULL INPUT;

COMMENT ON FUNCTION profile_in(cstring) IS 'text input: \x-hex of native, pprof or gzipped pprof bytes';
COMMENT ON FUNCTION profile_out(profile) IS 'text output: \x-hex of the stored bytes';
COMMENT ON FUNCTION profile_recv(internal) IS 'binary input: native, pprof or gzipped pprof bytes (COPY BINARY of .pb.gz files)';
COMMENT ON FUNCTION profile_send(profile) IS 'binary output: the stored bytes';
COMMENT ON FUNCTION profile_merge_transfn(internal, profile) IS 'profile_merge support: fold one profile into the state';
COMMENT ON FUNCTION profile_merge_combinefn(internal, internal) IS 'profile_merge support: combine two partial states (parallel query)';
COMMENT ON FUNCTION profile_merge_serialfn(internal) IS 'profile_merge support: a state as uncompressed stored bytes';
COMMENT ON FUNCTION profile_merge_deserialfn(bytea, internal) IS 'profile_merge support: a state from its serial form, validated';
COMMENT ON FUNCTION profile_merge_finalfn(internal) IS 'profile_merge support: the merged profile, NULL without rows';

-- ============================================================================ stored format
-- version 2: a header readable without decoding the tree
-- Values written from now on are format version 2 (docs/FORMAT.md): an uncompressed summary
-- (sample types, period, time, duration, node counts, one total per sample type) follows the
-- fixed header.  These accessors fetch only that prefix of a version 2 value (the first TOAST
-- chunk), so they cost about as much as reading a few hundred bytes, not a decode; version 1
-- values still decode whole.  The planner hears it through COST.
ALTER FUNCTION profile_sample_types(profile) COST 5;
ALTER FUNCTION profile_total(profile, text) COST 5;
ALTER FUNCTION profile_time(profile) COST 5;
ALTER FUNCTION profile_duration(profile) COST 5;
ALTER FUNCTION profile_info(profile) COST 10;

-- ============================================================================ diff ranking
-- profile_diff_top ranks by culprit score (what got more expensive, and where the new cost
-- enters) and returns it as a new last column; ranking => 'self' is 0.1.0's order.

DROP FUNCTION profile_diff_top(profile, profile, text, int, boolean);
CREATE FUNCTION profile_diff_top(base profile, target profile, sample_type text DEFAULT NULL,
								 n int DEFAULT 20, "normalize" boolean DEFAULT true,
								 ranking text DEFAULT 'increase')
	RETURNS TABLE(function text, base_self bigint, base_total bigint,
				  target_self bigint, target_total bigint,
				  change double precision, total_change double precision,
				  score double precision)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 20 COST 1000;
COMMENT ON FUNCTION profile_diff_top(profile, profile, text, int, boolean, text) IS 'functions ranked by the part of the change from base to target they cause (score; ranking: increase, decrease or self); normalize: shares of each side''s total, in percent points';

-- flamegraph_diff gets the same blame per row (percent points; the culprit has the largest),
-- after Grafana's columns, which keep their meaning.
DROP FUNCTION flamegraph_diff(profile, profile, text, int);
CREATE FUNCTION flamegraph_diff(base profile, target profile, sample_type text DEFAULT NULL,
								max_nodes int DEFAULT 8192)
	RETURNS TABLE(level int, label text, value bigint, self bigint,
				  "valueRight" bigint, "selfRight" bigint, blame double precision)
	AS 'MODULE_PATHNAME', 'profile_flamegraph_diff' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1000
	COST 1000;
COMMENT ON FUNCTION flamegraph_diff(profile, profile, text, int) IS 'diff flame graph rows: base in value/self, target in valueRight/selfRight (Grafana), blame: the change entering at the row, in percent points (profile_diff_top''s score per call site)';
COMMENT ON FUNCTION flamegraph_diff_svg(profile, profile, text, text, int, int) IS 'differential SVG flame graph: widths from target, red/blue by the change entering at each box (the culprit is the reddest)';

-- ============================================================================ retention and rollups
-- A store is a table (ts, labels, profile) partitioned by day on ts, plus hourly (or any
-- divisor of a day) rollups kept longer than the raw rows, and daily ones merged from those
-- (a month's flame graph reads ~30 daily rows per label set, not 720 hourly ones).  Every
-- store is one row of profile_store; its tables and its trigger function are user objects,
-- not extension members: pg_dump dumps them, and DROP EXTENSION refuses while they use the
-- profile type.
--
-- Rollups are exact by recompute-and-replace: a statement-level insert/update/delete
-- trigger appends the touched buckets to <table>_rollup_dirty, and maintenance removes those
-- markers, recomputes profile_merge of every series of each bucket from the raw rows and
-- replaces the rollup rows, all in one statement (one snapshot).  A marker written by a
-- transaction that commits later is seen together with its rows by a later run, so late rows
-- and late commits are never skipped, and rerunning changes nothing (no merge-on-conflict).
-- Bucket boundaries are date_bin(rollup, ts, '2000-01-01 00:00+00'): immutable, time-zone
-- independent, and aligned with the UTC days the partitions cover.

CREATE TABLE profile_store (
	table_schema name NOT NULL,
	table_name name NOT NULL,
	raw_retention interval NOT NULL CHECK (raw_retention >= interval '1 day'),
	rollup interval NOT NULL CHECK (rollup > interval '0'),
	rollup_retention interval NOT NULL CHECK (rollup_retention >= interval '1 day'),
	premake int NOT NULL CHECK (premake BETWEEN 1 AND 365),
	schedule text,
	partman_schema name,
	cron_jobid bigint,
	created_at timestamptz NOT NULL DEFAULT now(),
	updated_at timestamptz NOT NULL DEFAULT now(),
	last_maintained timestamptz,
	PRIMARY KEY (table_schema, table_name)
);
COMMENT ON TABLE profile_store IS 'profile stores made by profile_store_create: retention, rollup and maintenance settings (one row per store)';
SELECT pg_catalog.pg_extension_config_dump('profile_store', '');
-- Anybody may make a store of a table they own; rows are changeable only by members of the
-- owning role of the store's table, and visible also to roles that may read that table (a
-- dashboard's reader calls profile_store_merge).
GRANT SELECT, INSERT, UPDATE, DELETE ON profile_store TO PUBLIC;
ALTER TABLE profile_store ENABLE ROW LEVEL SECURITY;
CREATE POLICY profile_store_owner ON profile_store
	USING (pg_catalog.pg_has_role((SELECT c.relowner FROM pg_catalog.pg_class c
		JOIN pg_catalog.pg_namespace n ON n.oid = c.relnamespace
		WHERE n.nspname = table_schema AND c.relname = table_name), 'USAGE'));
CREATE POLICY profile_store_reader ON profile_store FOR SELECT
	USING (pg_catalog.has_table_privilege(
		pg_catalog.to_regclass(pg_catalog.format('%I.%I', table_schema, table_name)), 'SELECT'));

-- The daily partitions of a store's table, with their bounds (the default partition left out).
CREATE FUNCTION profile_store_partitions(store regclass)
	RETURNS TABLE(partition regclass, lower_bound timestamptz, upper_bound timestamptz)
	LANGUAGE sql STABLE SET search_path = pg_catalog, pg_temp AS $$
	SELECT c.oid::regclass, b[1]::timestamptz, b[2]::timestamptz
	  FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid,
		   regexp_match(pg_get_expr(c.relpartbound, c.oid), 'FROM \(''([^'']+)''\) TO \(''([^'']+)''\)') b
	 WHERE i.inhparent = store
	 ORDER BY 2
$$;
COMMENT ON FUNCTION profile_store_partitions(regclass) IS 'the range partitions of a store''s table and their bounds, oldest first';

-- The settings row of a store; a clear error for tables that are not stores.
CREATE FUNCTION profile_store_settings(store regclass) RETURNS profile_store
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s @extschema@.profile_store;
BEGIN
	SELECT p.* INTO s FROM @extschema@.profile_store p JOIN pg_class c ON c.relname = p.table_name
	  JOIN pg_namespace n ON n.oid = c.relnamespace AND n.nspname = p.table_schema
	 WHERE c.oid = store;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'table % is not a profile store', store
			USING ERRCODE = 'undefined_table',
				  HINT = 'Make one with SELECT profile_store_create(''name''); a store is visible to roles that may read its table.';
	END IF;
	RETURN s;
END $$;
COMMENT ON FUNCTION profile_store_settings(regclass) IS 'settings of a profile store (error when the table is not one)';

-- A store name as the caller means it: resolved with the caller's search_path (so these
-- wrappers have no SET clause and call only qualified functions), then handed to workers
-- that run with a safe search_path.
CREATE FUNCTION profile_store_resolve(name text) RETURNS regclass
	LANGUAGE plpgsql STABLE AS $$
DECLARE
	rel regclass := pg_catalog.to_regclass(name);
BEGIN
	IF rel IS NULL THEN
		RAISE EXCEPTION 'profile store "%" does not exist', name USING ERRCODE = 'undefined_table',
			HINT = 'Make one with SELECT profile_store_create(''name''); names follow search_path.';
	END IF;
	RETURN rel;
END $$;
COMMENT ON FUNCTION profile_store_resolve(text) IS 'the table a store name refers to, resolved with the caller''s search_path';

-- Trigger of a store's default partition, which exists only to turn "no partition of
-- relation found" into an error that says what is accepted.  It never stores a row.
CREATE FUNCTION profile_store_reject_row() RETURNS trigger
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	parent regclass := TG_ARGV[0]::regclass;
	s @extschema@.profile_store := @extschema@.profile_store_settings(parent);
	lo timestamptz;
	hi timestamptz;
BEGIN
	SELECT min(lower_bound), max(upper_bound) INTO lo, hi FROM @extschema@.profile_store_partitions(parent);
	IF NEW.ts IS NULL THEN
		RAISE EXCEPTION 'profile rows of store % need a ts', parent USING ERRCODE = 'not_null_violation';
	ELSIF NEW.ts < now() - s.raw_retention THEN
		RAISE EXCEPTION 'profile at % is older than the raw retention of store % (%)', NEW.ts, parent, s.raw_retention
			USING ERRCODE = 'check_violation',
				  DETAIL = format('Rows are accepted from %s to %s.', lo, hi),
				  HINT = format('A longer retention keeps older rows: SELECT profile_store_create(%L, raw_retention => ...).', parent::text);
	ELSIF NEW.ts >= now() + make_interval(days => s.premake) THEN
		RAISE EXCEPTION 'profile at % is too far in the future for store %', NEW.ts, parent
			USING ERRCODE = 'check_violation',
				  DETAIL = format('Rows are accepted from %s to %s (partitions are made %s days ahead).', lo, hi, s.premake),
				  HINT = 'Check the clock of the sender.';
	ELSE
		RAISE EXCEPTION 'store % has no partition for % yet', parent, NEW.ts
			USING ERRCODE = 'check_violation',
				  DETAIL = format('Partitions cover %s to %s.', lo, hi),
				  HINT = format('Maintenance makes them: CALL profile_store_maintain(%L).', parent::text);
	END IF;
END $$;
COMMENT ON FUNCTION profile_store_reject_row() IS 'trigger of a store''s default partition: refuse rows outside the partitions with the reason';

-- pg_partman's functions set search_path for the session and put back the value they found,
-- which inside our functions is the safe path of the SET clause: it would outlive the call.
-- After each of them, the caller's path goes back as the session value, and the safe one is
-- set again for the rest of the function.
CREATE FUNCTION profile_store_restore_path(caller_schemas text) RETURNS void
	LANGUAGE sql AS $$
	SELECT pg_catalog.set_config('search_path', caller_schemas, false),
		   pg_catalog.set_config('search_path', 'pg_catalog, pg_temp', true)
$$;
COMMENT ON FUNCTION profile_store_restore_path(text) IS 'after a pg_partman call: the caller''s search_path back for the session, the safe one for the rest of the function';

-- Make the missing daily partitions of [from_day, to_day) (UTC days).
CREATE FUNCTION profile_store_make_partitions(store regclass, from_day timestamptz, to_day timestamptz, caller_schemas text)
	RETURNS int LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
	s @extschema@.profile_store := @extschema@.profile_store_settings(store);
	d timestamptz;
	missing timestamptz[] := '{}';
BEGIN
	FOR d IN SELECT g FROM generate_series(date_trunc('day', from_day), to_day - interval '1 microsecond', interval '1 day') g
			  WHERE NOT EXISTS (SELECT 1 FROM @extschema@.profile_store_partitions(store) p
								 WHERE p.lower_bound <= g AND p.upper_bound > g) LOOP
		missing := missing || d;
	END LOOP;
	IF cardinality(missing) = 0 THEN
		RETURN 0;
	END IF;
	IF s.partman_schema IS NOT NULL THEN
		EXECUTE format('SELECT %I.create_partition_time($1, $2, false)', s.partman_schema)
			USING format('%I.%I', s.table_schema, s.table_name), missing;
		PERFORM @extschema@.profile_store_restore_path(caller_schemas);
	ELSE
		FOREACH d IN ARRAY missing LOOP
			EXECUTE format('CREATE TABLE %I.%I PARTITION OF %I.%I FOR VALUES FROM (%L) TO (%L)',
						   s.table_schema, s.table_name || to_char(d, '"_p"YYYY_MM_DD'),
						   s.table_schema, s.table_name, d, d + interval '1 day');
		END LOOP;
	END IF;
	RETURN cardinality(missing);
END $$;
COMMENT ON FUNCTION profile_store_make_partitions(regclass, timestamptz, timestamptz, text) IS 'create the missing daily partitions of a store between two times (pg_partman''s when the store uses it)';

CREATE FUNCTION profile_store_setup(table_schema name, table_name name, raw_retention interval,
									rollup interval, rollup_retention interval, premake int,
									schedule text, caller_schemas text)
	RETURNS regclass LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
	qual text := format('%I.%I', table_schema, table_name);
	rel regclass := to_regclass(qual);
	old @extschema@.profile_store;
	partman name;
	jobid bigint;
	secs numeric := extract(epoch FROM rollup);
BEGIN
	IF length(table_name) > 50 THEN
		RAISE EXCEPTION 'profile store name "%" is too long', table_name USING ERRCODE = 'name_too_long',
			DETAIL = 'Store names have at most 50 bytes: partition and rollup table names add a suffix.';
	END IF;
	IF rollup > interval '1 day' OR secs <= 0 OR 86400 % secs <> 0 OR date_part('month', rollup) <> 0 THEN
		RAISE EXCEPTION 'rollup must divide a day evenly, not %', rollup USING ERRCODE = 'invalid_parameter_value',
			HINT = 'Use 1 minute, 5 minutes, 1 hour or 1 day, for example: buckets never cross a daily partition.';
	END IF;
	IF raw_retention < interval '1 day' OR rollup_retention < raw_retention THEN
		RAISE EXCEPTION 'retentions must be at least one day, and rollup_retention at least raw_retention'
			USING ERRCODE = 'invalid_parameter_value',
				  DETAIL = format('raw_retention %s, rollup_retention %s.', raw_retention, rollup_retention);
	END IF;
	IF premake IS NULL OR premake < 1 THEN
		RAISE EXCEPTION 'premake must be at least 1 day' USING ERRCODE = 'invalid_parameter_value';
	END IF;

	SELECT p.* INTO old FROM @extschema@.profile_store p
	 WHERE p.table_schema = profile_store_setup.table_schema AND p.table_name = profile_store_setup.table_name;
	IF rel IS NOT NULL AND old.table_name IS NULL THEN
		IF (SELECT relkind FROM pg_class WHERE oid = rel) <> 'p' THEN
			RAISE EXCEPTION 'table % exists and is not partitioned', qual USING ERRCODE = 'wrong_object_type',
				DETAIL = 'A profile store is a table partitioned by day on ts, made by profile_store_create.',
				HINT = format('Rename it, make the store, then move the rows still inside the retention: '
					'ALTER TABLE %1$s RENAME TO %2$I; SELECT profile_store_create(%3$L); '
					'INSERT INTO %1$s (ts, labels, profile) SELECT ts, labels, profile FROM %4$I.%2$I '
					'WHERE ts >= now() - interval %5$L; DROP TABLE %4$I.%2$I;',
					qual, table_name || '_old', qual, table_schema, raw_retention);
		END IF;
		RAISE EXCEPTION 'partitioned table % exists and is not a profile store', qual USING ERRCODE = 'wrong_object_type',
			HINT = 'Rename it, make the store, and move its rows with INSERT ... SELECT.';
	END IF;
	IF old.table_name IS NOT NULL AND old.rollup <> rollup THEN
		RAISE EXCEPTION 'the rollup width of store % is % and cannot change', qual, old.rollup
			USING ERRCODE = 'feature_not_supported',
				  DETAIL = 'Rollups older than the raw retention could not be recomputed.',
				  HINT = 'Make a new store for another width.';
	END IF;

	IF old.table_name IS NULL THEN
		partman := (SELECT n.nspname FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
					 WHERE e.extname = 'pg_partman');
		EXECUTE format('CREATE TABLE %s (ts timestamptz NOT NULL, labels jsonb NOT NULL DEFAULT ''{}'', '
					   'profile @extschema@.profile NOT NULL) PARTITION BY RANGE (ts)', qual);
		EXECUTE format('CREATE INDEX %I ON %s USING gin (labels jsonb_path_ops)', table_name || '_labels', qual);
		EXECUTE format('CREATE INDEX %I ON %s (ts)', table_name || '_ts', qual);
		EXECUTE format('CREATE TABLE %I.%I (bucket timestamptz NOT NULL, labels jsonb NOT NULL, '
					   'profile @extschema@.profile NOT NULL, n bigint NOT NULL, updated_at timestamptz NOT NULL, '
					   'PRIMARY KEY (bucket, labels))', table_schema, table_name || '_rollup');
		EXECUTE format('CREATE INDEX %I ON %I.%I USING gin (labels jsonb_path_ops)',
					   table_name || '_rollup_labels', table_schema, table_name || '_rollup');
		EXECUTE format('CREATE TABLE %I.%I (bucket timestamptz NOT NULL, labels jsonb NOT NULL, '
					   'profile @extschema@.profile NOT NULL, n bigint NOT NULL, updated_at timestamptz NOT NULL, '
					   'PRIMARY KEY (bucket, labels))', table_schema, table_name || '_rollup_daily');
		EXECUTE format('CREATE INDEX %I ON %I.%I USING gin (labels jsonb_path_ops)',
					   table_name || '_rollup_daily_labels', table_schema, table_name || '_rollup_daily');
		EXECUTE format('CREATE TABLE %I.%I (bucket timestamptz NOT NULL)', table_schema, table_name || '_rollup_dirty');
		EXECUTE format('CREATE INDEX %I ON %I.%I (bucket)', table_name || '_rollup_dirty_bucket',
					   table_schema, table_name || '_rollup_dirty');
		-- Writers of the store append markers; markers only cause recomputation.
		EXECUTE format('GRANT INSERT ON %I.%I TO PUBLIC', table_schema, table_name || '_rollup_dirty');
		EXECUTE format('COMMENT ON TABLE %s IS %L', qual, 'profile store (profile_store_create): daily partitions of ts, rollups in ' || table_name || '_rollup');
		EXECUTE format('COMMENT ON TABLE %I.%I IS %L', table_schema, table_name || '_rollup',
					   'rollups of profile store ' || qual || ': profile_merge of the raw rows of each (bucket, labels)');
		EXECUTE format('COMMENT ON TABLE %I.%I IS %L', table_schema, table_name || '_rollup_dirty',
					   'buckets of profile store ' || qual || ' changed since maintenance last rolled them up');
		EXECUTE format('COMMENT ON TABLE %I.%I IS %L', table_schema, table_name || '_rollup_daily',
					   'daily rollups of profile store ' || qual || ': profile_merge of each complete day''s rollups per labels');
		-- The statement trigger appends the buckets a statement touched: only an append (no
		-- unique key, no rollup row lock), so concurrent writers never wait on each other.
		-- One function per store with static SQL: its plan is prepared once per session,
		-- where a shared function would plan an EXECUTE on every statement.
		EXECUTE format($t$CREATE FUNCTION %1$I.%2$I() RETURNS trigger LANGUAGE plpgsql
			SET search_path = pg_catalog, pg_temp AS $body$
		BEGIN
			IF TG_OP = 'INSERT' THEN
				INSERT INTO %3$s (bucket) SELECT DISTINCT date_bin(%4$L, ts, '2000-01-01 00:00+00') FROM new_rows;
			ELSIF TG_OP = 'DELETE' THEN
				INSERT INTO %3$s (bucket) SELECT DISTINCT date_bin(%4$L, ts, '2000-01-01 00:00+00') FROM old_rows;
			ELSE
				INSERT INTO %3$s (bucket) SELECT date_bin(%4$L, ts, '2000-01-01 00:00+00') FROM old_rows
					UNION SELECT date_bin(%4$L, ts, '2000-01-01 00:00+00') FROM new_rows;
			END IF;
			RETURN NULL;
		END $body$
		$t$, table_schema, table_name || '_rollup_mark',
			format('%I.%I', table_schema, table_name || '_rollup_dirty'), rollup);
		EXECUTE format('COMMENT ON FUNCTION %I.%I() IS %L', table_schema, table_name || '_rollup_mark',
					   'trigger of profile store ' || qual || ': log the rollup buckets a statement changed (profile_store_create)');
		FOREACH jobid IN ARRAY ARRAY[1, 2, 3] LOOP	-- one trigger per event: transition tables allow one event each
			EXECUTE format('CREATE TRIGGER %I AFTER %s ON %s REFERENCING %s FOR EACH STATEMENT '
						   'EXECUTE FUNCTION %I.%I()',
						   table_name || '_rollup_' || lower((ARRAY['INSERT', 'DELETE', 'UPDATE'])[jobid]),
						   (ARRAY['INSERT', 'DELETE', 'UPDATE'])[jobid], qual,
						   (ARRAY['NEW TABLE AS new_rows', 'OLD TABLE AS old_rows', 'OLD TABLE AS old_rows NEW TABLE AS new_rows'])[jobid],
						   table_schema, table_name || '_rollup_mark');
		END LOOP;
		INSERT INTO @extschema@.profile_store (table_schema, table_name, raw_retention, rollup, rollup_retention,
											   premake, schedule, partman_schema)
		VALUES (table_schema, table_name, raw_retention, rollup, rollup_retention, premake, schedule, partman);
		rel := qual::regclass;
		IF partman IS NOT NULL THEN
			EXECUTE format('SELECT %I.create_parent(p_parent_table => $1, p_control => ''ts'', p_type => ''native'', '
						   'p_interval => ''daily'', p_premake => $2, p_start_partition => $3, p_jobmon => false)', partman)
				USING qual, premake, to_char(date_trunc('day', now() - raw_retention), 'YYYY-MM-DD HH24:MI:SS+00');
			PERFORM @extschema@.profile_store_restore_path(caller_schemas);
			-- Maintenance runs partman for this table itself, after rolling up what it drops.
			EXECUTE format('UPDATE %I.part_config SET retention = $2, retention_keep_table = false, '
						   'retention_keep_index = false, infinite_time_partitions = true, '
						   'automatic_maintenance = ''off'' WHERE parent_table = $1', partman)
				USING qual, raw_retention::text;
		ELSE
			EXECUTE format('CREATE TABLE %I.%I PARTITION OF %s DEFAULT', table_schema, table_name || '_default', qual);
		END IF;
		EXECUTE format('CREATE TRIGGER %I BEFORE INSERT ON %I.%I FOR EACH ROW EXECUTE FUNCTION @extschema@.profile_store_reject_row(%L)',
					   table_name || '_reject', table_schema, table_name || '_default', qual);
	ELSE
		UPDATE @extschema@.profile_store p SET raw_retention = profile_store_setup.raw_retention,
			   rollup_retention = profile_store_setup.rollup_retention, premake = profile_store_setup.premake,
			   schedule = profile_store_setup.schedule, updated_at = now()
		 WHERE p.table_schema = profile_store_setup.table_schema AND p.table_name = profile_store_setup.table_name;
		IF old.partman_schema IS NOT NULL THEN
			EXECUTE format('UPDATE %I.part_config SET retention = $2, premake = $3 WHERE parent_table = $1', old.partman_schema)
				USING qual, raw_retention::text, premake;
		END IF;
	END IF;

	-- Every day inside the raw retention and the premade days have a partition from now on.
	PERFORM @extschema@.profile_store_make_partitions(rel, now() - raw_retention,
													  date_trunc('day', now()) + make_interval(days => premake + 1), caller_schemas);

	-- The maintenance job, where pg_cron is installed in this database.
	IF schedule IS NOT NULL AND to_regprocedure('cron.schedule(text,text,text)') IS NOT NULL THEN
		jobid := cron.schedule('profile_store_maintain ' || qual, schedule,
							   format('CALL @extschema@.profile_store_maintain(%L)', qual));
		UPDATE @extschema@.profile_store p SET cron_jobid = jobid
		 WHERE p.table_schema = profile_store_setup.table_schema AND p.table_name = profile_store_setup.table_name;
	ELSIF old.cron_jobid IS NOT NULL AND schedule IS NULL AND to_regprocedure('cron.unschedule(bigint)') IS NOT NULL THEN
		PERFORM cron.unschedule(old.cron_jobid);
		UPDATE @extschema@.profile_store p SET cron_jobid = NULL
		 WHERE p.table_schema = profile_store_setup.table_schema AND p.table_name = profile_store_setup.table_name;
	ELSIF schedule IS NOT NULL AND old.table_name IS NULL THEN
		RAISE NOTICE 'pg_cron is not installed in this database: schedule CALL profile_store_maintain(%) yourself', quote_literal(qual);
	END IF;
	RETURN rel;
END $$;
COMMENT ON FUNCTION profile_store_setup(name, name, interval, interval, interval, int, text, text) IS 'worker of profile_store_create (schema and table already resolved)';

CREATE FUNCTION profile_store_create(name text, raw_retention interval DEFAULT '14 days',
									 rollup interval DEFAULT '1 hour',
									 rollup_retention interval DEFAULT '400 days',
									 premake int DEFAULT 3, schedule text DEFAULT '*/5 * * * *')
	RETURNS regclass LANGUAGE sql AS $$
	SELECT @extschema@.profile_store_setup(
		CASE WHEN pg_catalog.cardinality(i) = 2 THEN i[1]
			 ELSE pg_catalog.current_schema() END,
		i[pg_catalog.cardinality(i)], raw_retention, rollup, rollup_retention, premake, schedule,
		pg_catalog.current_setting('search_path'))
	  FROM pg_catalog.parse_ident(name) i
$$;
COMMENT ON FUNCTION profile_store_create(text, interval, interval, interval, int, text) IS 'make (or change the settings of) a profile store: a table partitioned by day on ts, its rollups and the maintenance job';

-- Remove a store: its job, its pg_partman configuration, its tables and its settings.
CREATE FUNCTION profile_store_drop_rel(store regclass) RETURNS void
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s @extschema@.profile_store := @extschema@.profile_store_settings(store);
	qual text := format('%I.%I', s.table_schema, s.table_name);
	template text;
BEGIN
	IF s.cron_jobid IS NOT NULL AND to_regprocedure('cron.unschedule(bigint)') IS NOT NULL THEN
		BEGIN
			PERFORM cron.unschedule(s.cron_jobid);
		EXCEPTION WHEN OTHERS THEN
			RAISE NOTICE 'pg_cron job % of store % was already gone', s.cron_jobid, qual;
		END;
	END IF;
	IF s.partman_schema IS NOT NULL THEN
		EXECUTE format('DELETE FROM %I.part_config WHERE parent_table = $1 RETURNING template_table', s.partman_schema)
			INTO template USING qual;
		IF template IS NOT NULL THEN
			EXECUTE format('DROP TABLE IF EXISTS %s', template);
		END IF;
	END IF;
	EXECUTE format('DROP TABLE %s, %I.%I, %I.%I, %I.%I', qual, s.table_schema, s.table_name || '_rollup',
				   s.table_schema, s.table_name || '_rollup_daily', s.table_schema, s.table_name || '_rollup_dirty');
	EXECUTE format('DROP FUNCTION %I.%I()', s.table_schema, s.table_name || '_rollup_mark');
	DELETE FROM @extschema@.profile_store p WHERE p.table_schema = s.table_schema AND p.table_name = s.table_name;
END $$;
COMMENT ON FUNCTION profile_store_drop_rel(regclass) IS 'worker of profile_store_drop (store already resolved)';

CREATE FUNCTION profile_store_drop(name text) RETURNS void
	LANGUAGE sql AS $$
	SELECT @extschema@.profile_store_drop_rel(@extschema@.profile_store_resolve($1))
$$;
COMMENT ON FUNCTION profile_store_drop(text) IS 'drop a profile store: its tables (raw rows and rollups), its pg_cron job, its pg_partman settings';

-- Recompute the daily rollups of the complete days among days (timestamps inside them) from
-- the rollups of their buckets.  A day still in progress has none: queries read its buckets.
CREATE FUNCTION profile_store_refresh_days(store regclass, days timestamptz[]) RETURNS int
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
	s @extschema@.profile_store := @extschema@.profile_store_settings(store);
	done int;
BEGIN
	IF s.rollup = interval '1 day' OR cardinality(days) = 0 THEN
		RETURN 0;
	END IF;
	EXECUTE format($q$
		WITH complete AS (SELECT DISTINCT date_bin('1 day', b, '2000-01-01 00:00+00') AS day
							FROM unnest($1::timestamptz[]) b
						   WHERE date_bin('1 day', b, '2000-01-01 00:00+00') + interval '1 day' <= now()),
		m AS (SELECT c.day, r.labels, @extschema@.profile_merge(r.profile) AS profile, sum(r.n)::bigint AS n
				FROM complete c JOIN %1$s r ON r.bucket >= c.day AND r.bucket < c.day + interval '1 day'
			   GROUP BY c.day, r.labels),
		up AS (INSERT INTO %2$s (bucket, labels, profile, n, updated_at)
			   SELECT day, labels, profile, n, now() FROM m
			   ON CONFLICT (bucket, labels) DO UPDATE
			   SET profile = EXCLUDED.profile, n = EXCLUDED.n, updated_at = EXCLUDED.updated_at),
		stale AS (DELETE FROM %2$s x USING complete c
				   WHERE x.bucket = c.day
					 AND NOT EXISTS (SELECT 1 FROM m WHERE m.day = x.bucket AND m.labels = x.labels))
		SELECT count(*) FROM complete$q$,
		format('%I.%I', s.table_schema, s.table_name || '_rollup'),
		format('%I.%I', s.table_schema, s.table_name || '_rollup_daily'))
		INTO done USING days;
	RETURN done;
END $$;
COMMENT ON FUNCTION profile_store_refresh_days(regclass, timestamptz[]) IS 'recompute the daily rollups of a store''s complete days among the given ones from their bucket rollups';

-- Recompute the rollups of up to max_buckets marked buckets (the oldest first): one
-- statement, so the markers it removes, the raw rows it reads and the rollup rows it
-- writes share one snapshot; then the daily rollups of their days, in the same transaction.
-- Refreshes of one store take turns (transaction advisory lock), so a day's recompute sees
-- every bucket rollup committed before it.  Returns the number of buckets done.
CREATE FUNCTION profile_store_refresh_some(store regclass, max_buckets int, only_before timestamptz DEFAULT 'infinity')
	RETURNS int LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
	s @extschema@.profile_store := @extschema@.profile_store_settings(store);
	horizon timestamptz := (SELECT min(lower_bound) FROM @extschema@.profile_store_partitions(store));
	done int;
	touched timestamptz[];
BEGIN
	PERFORM pg_advisory_xact_lock(hashtextextended('profile_store_maintain ' || store::oid::text, 0));
	EXECUTE format($q$
		WITH picked AS (SELECT DISTINCT bucket FROM %1$s WHERE bucket < $4 ORDER BY bucket LIMIT $1),
		gone AS (DELETE FROM %1$s d USING picked WHERE d.bucket = picked.bucket RETURNING d.bucket),
		k AS (SELECT DISTINCT bucket FROM gone),
		m AS (SELECT k.bucket, x.labels, @extschema@.profile_merge(x.profile) AS profile, count(*) AS n
				FROM k JOIN %2$s x ON x.ts >= k.bucket AND x.ts < k.bucket + $2
			   GROUP BY k.bucket, x.labels),
		up AS (INSERT INTO %3$s AS r (bucket, labels, profile, n, updated_at)
			   SELECT bucket, labels, profile, n, now() FROM m
			   ON CONFLICT (bucket, labels) DO UPDATE
			   SET profile = EXCLUDED.profile, n = EXCLUDED.n, updated_at = EXCLUDED.updated_at
			   RETURNING 1),
		stale AS (DELETE FROM %3$s r USING k
				   WHERE r.bucket = k.bucket AND k.bucket >= $3
					 AND NOT EXISTS (SELECT 1 FROM m WHERE m.bucket = r.bucket AND m.labels = r.labels)
				  RETURNING 1)
		SELECT count(*), coalesce(array_agg(bucket), '{}') FROM k$q$,
		format('%I.%I', s.table_schema, s.table_name || '_rollup_dirty'),
		format('%I.%I', s.table_schema, s.table_name),
		format('%I.%I', s.table_schema, s.table_name || '_rollup'))
		INTO done, touched USING max_buckets, s.rollup, coalesce(horizon, 'infinity'), only_before;
	PERFORM @extschema@.profile_store_refresh_days(store, touched);
	RETURN done;
END $$;
COMMENT ON FUNCTION profile_store_refresh_some(regclass, int, timestamptz) IS 'recompute the rollups of the oldest marked buckets of a store (one statement, one snapshot), then their days''';

-- Drop the partitions older than the raw retention, after rolling up what was written to
-- them: writers of those days are blocked first (SHARE lock), so a transaction that commits
-- rows there late is either rolled up here or waited for.  Returns the partitions dropped.
CREATE FUNCTION profile_store_expire(store regclass, caller_schemas text) RETURNS int
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC'
	SET lock_timeout = '30s' SET jit = off AS $$
DECLARE
	s @extschema@.profile_store := @extschema@.profile_store_settings(store);
	cutoff timestamptz := now() - s.raw_retention;
	before int := (SELECT count(*) FROM @extschema@.profile_store_partitions(store));
	expired record;
BEGIN
	FOR expired IN SELECT * FROM @extschema@.profile_store_partitions(store) WHERE upper_bound <= cutoff LOOP
		EXECUTE format('LOCK TABLE %s IN SHARE MODE', expired.partition);
	END LOOP;
	IF FOUND THEN
		WHILE @extschema@.profile_store_refresh_some(store, 1000, cutoff) > 0 LOOP
		END LOOP;
		IF s.partman_schema IS NULL THEN
			FOR expired IN SELECT * FROM @extschema@.profile_store_partitions(store) WHERE upper_bound <= cutoff LOOP
				EXECUTE format('DROP TABLE %s', expired.partition);
			END LOOP;
		END IF;
	END IF;
	IF s.partman_schema IS NOT NULL THEN
		-- drops what expired (rolled up above) and makes the partitions ahead
		EXECUTE format('SELECT %I.run_maintenance(p_parent_table => $1, p_jobmon => false)', s.partman_schema)
			USING format('%I.%I', s.table_schema, s.table_name);
		PERFORM @extschema@.profile_store_restore_path(caller_schemas);
	END IF;
	-- markers of dropped days have nothing left to roll up
	EXECUTE format('DELETE FROM %I.%I WHERE bucket < $1', s.table_schema, s.table_name || '_rollup_dirty')
		USING (SELECT min(lower_bound) FROM @extschema@.profile_store_partitions(store));
	RETURN before - (SELECT count(*) FROM @extschema@.profile_store_partitions(store));
END $$;
COMMENT ON FUNCTION profile_store_expire(regclass, text) IS 'drop a store''s partitions older than its raw retention after rolling up their last changes';

-- The end of maintenance: partitions for every day inside the retention and ahead, rollups
-- older than their retention deleted.
CREATE FUNCTION profile_store_finish_maintenance(store regclass, caller_schemas text) RETURNS void
	LANGUAGE plpgsql SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
	s @extschema@.profile_store := @extschema@.profile_store_settings(store);
BEGIN
	PERFORM @extschema@.profile_store_make_partitions(store, now() - s.raw_retention,
		date_trunc('day', now()) + make_interval(days => s.premake + 1), caller_schemas);
	-- days that ended after their last bucket was rolled up get their daily rollups now
	EXECUTE format($q$SELECT @extschema@.profile_store_refresh_days($1, coalesce(array_agg(DISTINCT
			date_bin('1 day', r.bucket, '2000-01-01 00:00+00')), '{}'))
		  FROM %1$s r
		 WHERE r.bucket >= date_bin('1 day', now(), '2000-01-01 00:00+00') - interval '7 days'
		   AND r.bucket < date_bin('1 day', now(), '2000-01-01 00:00+00')
		   AND NOT EXISTS (SELECT 1 FROM %2$s d WHERE d.bucket = date_bin('1 day', r.bucket, '2000-01-01 00:00+00'))$q$,
		format('%I.%I', s.table_schema, s.table_name || '_rollup'),
		format('%I.%I', s.table_schema, s.table_name || '_rollup_daily'))
		USING store;
	EXECUTE format('DELETE FROM %I.%I WHERE bucket < $1', s.table_schema, s.table_name || '_rollup')
		USING now() - s.rollup_retention;
	EXECUTE format('DELETE FROM %I.%I WHERE bucket < $1', s.table_schema, s.table_name || '_rollup_daily')
		USING now() - s.rollup_retention;
	UPDATE @extschema@.profile_store p SET last_maintained = now()
	 WHERE p.table_schema = s.table_schema AND p.table_name = s.table_name;
END $$;
COMMENT ON FUNCTION profile_store_finish_maintenance(regclass, text) IS 'make a store''s missing partitions and delete its rollups older than their retention';

-- What the scheduled job runs.  Each step commits, so a run killed half way loses nothing:
-- the markers of unfinished buckets are still there for the next run.  Runs of one store
-- take turns step by step (a transaction advisory lock per step), and a refresh is correct
-- even when two overlap.  CALL it outside a transaction block (it commits).  No SET clause
-- (it would forbid COMMIT): it calls only qualified functions, which set their own path.
CREATE PROCEDURE profile_store_maintain(name text)
	LANGUAGE plpgsql AS $$
DECLARE
	store regclass := @extschema@.profile_store_resolve(name);
	lock_key bigint := pg_catalog.hashtextextended('profile_store_maintain ' OPERATOR(pg_catalog.||) store::oid::text, 0);
	n int;
BEGIN
	LOOP
		PERFORM pg_catalog.pg_advisory_xact_lock(lock_key);
		n := @extschema@.profile_store_refresh_some(store, 24);
		COMMIT;
		EXIT WHEN n OPERATOR(pg_catalog.=) 0;
	END LOOP;
	PERFORM pg_catalog.pg_advisory_xact_lock(lock_key);
	PERFORM @extschema@.profile_store_expire(store, pg_catalog.current_setting('search_path'));
	COMMIT;
	PERFORM pg_catalog.pg_advisory_xact_lock(lock_key);
	PERFORM @extschema@.profile_store_finish_maintenance(store, pg_catalog.current_setting('search_path'));
	COMMIT;
END $$;
COMMENT ON PROCEDURE profile_store_maintain(text) IS 'maintenance of a profile store (what its pg_cron job runs): roll up changed buckets, drop expired partitions, make new ones, expire old rollups';

-- The merged profile of [from_ts, to_ts) and a label filter: whole days from the daily
-- rollups, the other whole buckets from the bucket rollups, the partial buckets at the edges
-- (and buckets changed since the last maintenance, with their days) from raw rows, so the
-- result equals profile_merge of the raw rows wherever they still exist.  Where they no
-- longer exist, the window is effectively rounded inwards to whole buckets.
CREATE FUNCTION profile_store_merge_rel(store regclass, from_ts timestamptz, to_ts timestamptz,
										labels_filter jsonb)
	RETURNS profile LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET jit = off AS $$
DECLARE
	s @extschema@.profile_store := @extschema@.profile_store_settings(store);
	raw text := format('%I.%I', s.table_schema, s.table_name);
	rollup text := format('%I.%I', s.table_schema, s.table_name || '_rollup');
	daily text := format('%I.%I', s.table_schema, s.table_name || '_rollup_daily');
	dirty text := format('%I.%I', s.table_schema, s.table_name || '_rollup_dirty');
	origin constant timestamptz := '2000-01-01 00:00+00';
	lo timestamptz;		-- first whole bucket
	hi timestamptz;		-- end of the last whole bucket
	lo_day timestamptz;	-- first whole day inside [lo, hi)
	hi_day timestamptz;	-- end of the last whole day
	raw_filter text := '';
	rollup_filter text := '';
	result @extschema@.profile;
BEGIN
	IF from_ts IS NULL OR to_ts IS NULL OR from_ts >= to_ts THEN
		RETURN NULL;
	END IF;
	IF labels_filter IS NOT NULL THEN
		raw_filter := ' AND x.labels @> $5';
		rollup_filter := ' AND r.labels @> $5';
	END IF;
	lo := date_bin(s.rollup, from_ts, origin);
	IF lo < from_ts THEN
		lo := lo + s.rollup;
	END IF;
	hi := date_bin(s.rollup, to_ts, origin);
	IF hi <= lo THEN
		-- no whole bucket: raw rows only
		EXECUTE format('SELECT @extschema@.profile_merge(x.profile) FROM %s x WHERE x.ts >= $1 AND x.ts < $2%s',
					   raw, raw_filter)
			INTO result USING from_ts, to_ts, lo, hi, labels_filter, s.rollup;
		RETURN result;
	END IF;
	lo_day := date_bin('1 day', lo, origin);
	IF lo_day < lo THEN
		lo_day := lo_day + interval '1 day';
	END IF;
	hi_day := greatest(date_bin('1 day', hi, origin), lo_day);
	IF s.rollup = interval '1 day' THEN
		hi_day := lo_day;	-- the bucket rollups are daily already
	END IF;
	-- Each branch is one index range (time, or time per changed bucket); literals via USING
	-- give a plan for these values (a generic plan would scan every partition).  A day is
	-- read from its daily rollup when it has one and none of its buckets changed since.
	EXECUTE format($q$
		WITH changed AS (SELECT DISTINCT bucket FROM %3$s WHERE bucket >= $3 AND bucket < $4),
		covered AS (SELECT DISTINCT d.bucket AS day FROM %6$s d
					 WHERE d.bucket >= $7 AND d.bucket < $8
					   AND NOT EXISTS (SELECT 1 FROM changed c
									    WHERE c.bucket >= d.bucket AND c.bucket < d.bucket + interval '1 day'))
		SELECT @extschema@.profile_merge(p) FROM (
			SELECT r.profile AS p FROM %6$s r
			 WHERE r.bucket >= $7 AND r.bucket < $8%5$s
			   AND r.bucket IN (SELECT day FROM covered)
			UNION ALL
			SELECT r.profile FROM %2$s r
			 WHERE r.bucket >= $3 AND r.bucket < $4%5$s
			   AND NOT EXISTS (SELECT 1 FROM changed c WHERE c.bucket = r.bucket)
			   AND NOT EXISTS (SELECT 1 FROM covered v
								WHERE r.bucket >= v.day AND r.bucket < v.day + interval '1 day')
			UNION ALL
			SELECT x.profile FROM %1$s x WHERE x.ts >= $1 AND x.ts < $3%4$s
			UNION ALL
			SELECT x.profile FROM %1$s x WHERE x.ts >= $4 AND x.ts < $2%4$s
			UNION ALL
			SELECT x.profile FROM changed c JOIN %1$s x ON x.ts >= c.bucket AND x.ts < c.bucket + $6
			 WHERE true%4$s
		) u$q$, raw, rollup, dirty, raw_filter, rollup_filter, daily)
		INTO result USING from_ts, to_ts, lo, hi, labels_filter, s.rollup, lo_day, hi_day;
	RETURN result;
END $$;
COMMENT ON FUNCTION profile_store_merge_rel(regclass, timestamptz, timestamptz, jsonb) IS 'worker of profile_store_merge (store already resolved)';

CREATE FUNCTION profile_store_merge(name text, "from" timestamptz, "to" timestamptz,
									labels_filter jsonb DEFAULT NULL)
	RETURNS profile LANGUAGE sql STABLE AS $$
	SELECT @extschema@.profile_store_merge_rel(@extschema@.profile_store_resolve($1), $2, $3, $4)
$$;
COMMENT ON FUNCTION profile_store_merge(text, timestamptz, timestamptz, jsonb) IS 'merged profile of a store''s window [from, to) whose labels contain labels_filter: whole buckets from the rollups, edges from raw rows';

-- Storage, per day (a partition of the raw table, or a day of rollups) and service_name.
CREATE FUNCTION profile_store_storage_rel(store regclass)
	RETURNS TABLE(kind text, day date, service_name text, partition regclass, "rows" bigint,
				  stored_bytes bigint, bytes_per_profile bigint, partition_bytes bigint)
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp SET TimeZone = 'UTC' AS $$
DECLARE
	s @extschema@.profile_store := @extschema@.profile_store_settings(store);
BEGIN
	-- stored_bytes: the row as stored (compressed profile, labels, tuple header);
	-- partition_bytes: the whole partition with its indexes and TOAST, once per partition
	RETURN QUERY EXECUTE format($q$
		SELECT 'raw'::text, p.lower_bound::date, g.service, p.partition, g.n, g.bytes,
			   g.bytes / nullif(g.n, 0),
			   CASE WHEN row_number() OVER (PARTITION BY p.partition ORDER BY g.service NULLS FIRST) = 1
					THEN pg_total_relation_size(p.partition) END
		  FROM @extschema@.profile_store_partitions($1) p
		  JOIN (SELECT x.tableoid AS part, x.labels->>'service_name' AS service, count(*) AS n,
					   sum(pg_column_size(x.profile) + pg_column_size(x.labels) + 32)::bigint AS bytes
				  FROM %1$s x GROUP BY 1, 2) g ON g.part = p.partition
		UNION ALL
		SELECT 'rollup', r.bucket::date, r.labels->>'service_name', NULL::regclass, count(*),
			   sum(pg_column_size(r.profile) + pg_column_size(r.labels) + 56)::bigint,
			   sum(pg_column_size(r.profile) + pg_column_size(r.labels) + 56)::bigint / count(*), NULL::bigint
		  FROM %2$s r GROUP BY 2, 3
		UNION ALL
		SELECT 'rollup_daily', r.bucket::date, r.labels->>'service_name', NULL::regclass, count(*),
			   sum(pg_column_size(r.profile) + pg_column_size(r.labels) + 56)::bigint,
			   sum(pg_column_size(r.profile) + pg_column_size(r.labels) + 56)::bigint / count(*), NULL::bigint
		  FROM %3$s r GROUP BY 2, 3
		ORDER BY 1, 2, 3$q$,
		format('%I.%I', s.table_schema, s.table_name), format('%I.%I', s.table_schema, s.table_name || '_rollup'),
		format('%I.%I', s.table_schema, s.table_name || '_rollup_daily'))
		USING store;
END $$;
COMMENT ON FUNCTION profile_store_storage_rel(regclass) IS 'worker of profile_store_storage (store already resolved)';

CREATE FUNCTION profile_store_storage(name text)
	RETURNS TABLE(kind text, day date, service_name text, partition regclass, "rows" bigint,
				  stored_bytes bigint, bytes_per_profile bigint, partition_bytes bigint)
	LANGUAGE sql STABLE AS $$
	SELECT * FROM @extschema@.profile_store_storage_rel(@extschema@.profile_store_resolve($1))
$$;
COMMENT ON FUNCTION profile_store_storage(text) IS 'storage of a store per day and service_name: raw partitions and rollups, rows, stored bytes, bytes per profile, partition size';

-- What the configured retentions cost: each service's stored bytes per day (over the time
-- its rows span) times the retention, raw and rollup; indexes and TOAST are added in
-- proportion to the raw partitions' measured overhead.
CREATE FUNCTION profile_store_projection_rel(store regclass)
	RETURNS TABLE(kind text, service_name text, retention interval, observed interval,
				  bytes_per_day bigint, projected_bytes bigint, projected_size text)
	LANGUAGE plpgsql STABLE SET search_path = pg_catalog, pg_temp AS $$
DECLARE
	s @extschema@.profile_store := @extschema@.profile_store_settings(store);
	overhead float8;
BEGIN
	SELECT coalesce(sum(st.partition_bytes)::float8 / nullif(sum(st.stored_bytes), 0), 1) INTO overhead
	  FROM @extschema@.profile_store_storage_rel(store) st WHERE st.kind = 'raw';
	RETURN QUERY EXECUTE format($q$
		WITH per AS (
			SELECT 'raw'::text AS kind, x.labels->>'service_name' AS service,
				   max(x.ts) - min(x.ts) + $2 AS span,
				   sum(pg_column_size(x.profile) + pg_column_size(x.labels) + 32) * $4 AS bytes
			  FROM %1$s x GROUP BY 2
			UNION ALL
			SELECT 'rollup', r.labels->>'service_name', max(r.bucket) - min(r.bucket) + $2,
				   sum(pg_column_size(r.profile) + pg_column_size(r.labels) + 56) * 1.0
			  FROM %2$s r GROUP BY 2
			UNION ALL
			SELECT 'rollup_daily', r.labels->>'service_name', max(r.bucket) - min(r.bucket) + interval '1 day',
				   sum(pg_column_size(r.profile) + pg_column_size(r.labels) + 56) * 1.0
			  FROM %3$s r GROUP BY 2),
		rated AS (
			SELECT kind, service, span, CASE kind WHEN 'raw' THEN $1 ELSE $3 END AS keep,
				   (bytes * 86400 / extract(epoch FROM span))::bigint AS per_day
			  FROM per)
		SELECT * FROM (
			SELECT kind, service, keep, span, per_day,
				   (per_day * extract(epoch FROM keep) / 86400)::bigint,
				   pg_size_pretty((per_day * extract(epoch FROM keep) / 86400)::bigint)
			  FROM rated
			UNION ALL
			SELECT kind, '(total)', keep, max(span), sum(per_day)::bigint,
				   sum(per_day * extract(epoch FROM keep) / 86400)::bigint,
				   pg_size_pretty(sum(per_day * extract(epoch FROM keep) / 86400)::bigint)
			  FROM rated GROUP BY kind, keep) u
		ORDER BY u.kind, u.service = '(total)', u.service$q$,
		format('%I.%I', s.table_schema, s.table_name), format('%I.%I', s.table_schema, s.table_name || '_rollup'),
		format('%I.%I', s.table_schema, s.table_name || '_rollup_daily'))
		USING s.raw_retention, s.rollup, s.rollup_retention, overhead;
END $$;
COMMENT ON FUNCTION profile_store_projection_rel(regclass) IS 'worker of profile_store_projection (store already resolved)';

CREATE FUNCTION profile_store_projection(name text)
	RETURNS TABLE(kind text, service_name text, retention interval, observed interval,
				  bytes_per_day bigint, projected_bytes bigint, projected_size text)
	LANGUAGE sql STABLE AS $$
	SELECT * FROM @extschema@.profile_store_projection_rel(@extschema@.profile_store_resolve($1))
$$;
COMMENT ON FUNCTION profile_store_projection(text) IS 'projected size of a store''s configured retentions per service_name (and in total: service_name ''(total)''), raw and rollup, from the bytes per day stored so far';

-- A merge without an aggregate (upserts, PL code): the result of profile_merge over two rows.
CREATE FUNCTION profile_merge(profile, profile) RETURNS profile
	AS 'MODULE_PATHNAME', 'profile_merge2' LANGUAGE C IMMUTABLE PARALLEL SAFE COST 1000;
COMMENT ON FUNCTION profile_merge(profile, profile) IS 'merge two profiles (NULL is skipped): what the profile_merge aggregate gives for these two rows';


-- ============================================================================ scale-out
-- Profiles spread over several PostgreSQL servers ("shards") that one coordinator queries
-- through postgres_fdw.  The coordinator's table is LIST-partitioned on
-- profile_shard_of(labels, N), each partition a foreign table on one shard, each shard its own
-- foreign server (its own connection, so shards run concurrently under async append).
-- Grouping by that partition key makes PostgreSQL 15 aggregate partitionwise and ship the
-- whole profile_merge to every shard; the coordinator merges one profile per shard.
-- postgres_fdw is needed only by these functions at call time (profile_shards_create
-- creates it when missing), never by CREATE EXTENSION profile_ext.  The functions are
-- PL/pgSQL with schema-qualified names and dynamic SQL (EXECUTE ... USING: one custom plan
-- per call whose time bounds are constants, never a generic plan); planner settings are set
-- for the call only.

CREATE FUNCTION profile_shard_of(labels jsonb, shards int) RETURNS int
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION profile_shard_of(jsonb, int) IS 'the shard (0 .. shards-1) of a label set: FNV-1a 32-bit of its service_name (empty when absent) modulo shards; the routing rule of the coordinator''s partition key and of writers that go straight to a shard';

CREATE FUNCTION profile_shard_total(p profile, sample_type jsonb) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE COST 1000;
COMMENT ON FUNCTION profile_shard_total(profile, jsonb) IS 'profile_total with the sample type as a jsonb string (null: the default type): postgres_fdw ships it to shards, while a text constant argument, having a collation not taken from a column, keeps profile_total(p, ''cpu'') on the coordinator';

-- Runs on the shard inside the pushed-down query (immutable, so postgres_fdw ships it; the
-- argument, a grouping column, keeps the coordinator from evaluating it itself).
CREATE FUNCTION profile_shard_version(shard int) RETURNS text
	LANGUAGE sql IMMUTABLE PARALLEL SAFE
	SET search_path = pg_catalog, pg_temp
	AS $$ SELECT extversion FROM pg_catalog.pg_extension WHERE extname = 'profile_ext' $$;
COMMENT ON FUNCTION profile_shard_version(int) IS 'the profile_ext version installed where it runs (shipped to shards to compare their version with the coordinator''s; the argument is ignored)';

-- The shards of a coordinator table, from the catalogs (no table of our own to keep in step).
CREATE FUNCTION profile_shards(tbl regclass)
	RETURNS TABLE (shard int, partition regclass, server name, server_options text[],
				   version_table regclass)
	LANGUAGE sql STABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
SELECT (pg_catalog.regexp_match(pg_catalog.pg_get_expr(c.relpartbound, c.oid),
								'IN \((\d+)\)'))[1]::int,
	   c.oid::pg_catalog.regclass, s.srvname, s.srvoptions,
	   (SELECT v.ftrelid::pg_catalog.regclass FROM pg_catalog.pg_foreign_table v
		 WHERE v.ftserver = s.oid AND 'table_name=pg_extension' = ANY (v.ftoptions)
		 ORDER BY v.ftrelid LIMIT 1)
  FROM pg_catalog.pg_inherits i
  JOIN pg_catalog.pg_class c ON c.oid = i.inhrelid
  JOIN pg_catalog.pg_foreign_table ft ON ft.ftrelid = c.oid
  JOIN pg_catalog.pg_foreign_server s ON s.oid = ft.ftserver
 WHERE i.inhparent = tbl
 ORDER BY 1
$$;
COMMENT ON FUNCTION profile_shards(regclass) IS 'the shards of a table made by profile_shards_create: shard number, foreign partition, foreign server and its options, the foreign table reading the shard''s pg_extension';

-- Ask every shard (one after the other) whether it answers, which profile_ext it runs and
-- whether its table is readable.
CREATE FUNCTION profile_shards_check(tbl regclass)
	RETURNS TABLE (shard int, server name, reachable boolean, version text, problem text)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	here text := (SELECT e.extversion FROM pg_catalog.pg_extension e
				   WHERE e.extname = 'profile_ext');
	s record;
BEGIN
	FOR s IN SELECT * FROM @extschema@.profile_shards(tbl) LOOP
		shard := s.shard;
		server := s.server;
		reachable := true;
		version := NULL;
		problem := NULL;
		BEGIN
			IF s.version_table IS NULL THEN
				problem := 'no foreign table on the shard''s pg_extension (made by profile_shards_create)';
			ELSE
				EXECUTE pg_catalog.format(
					'SELECT extversion FROM %s WHERE extname = %L', s.version_table, 'profile_ext')
					INTO version;
				IF version IS NULL THEN
					problem := 'profile_ext is not installed on the shard';
				ELSIF version IS DISTINCT FROM here THEN
					problem := pg_catalog.format(
						'the shard runs profile_ext %s, the coordinator %s', version, here);
				END IF;
			END IF;
			IF problem IS NULL THEN
				EXECUTE pg_catalog.format(
					'SELECT pg_catalog.count(*) FROM (SELECT ts, labels, profile FROM ONLY %s LIMIT 1) t',
					s.partition);
			END IF;
		EXCEPTION WHEN OTHERS THEN
			reachable := SQLSTATE NOT LIKE '08%';
			problem := SQLERRM;
		END;
		RETURN NEXT;
	END LOOP;
END
$$;
COMMENT ON FUNCTION profile_shards_check(regclass) IS 'one row per shard: reachable, its profile_ext version, and the problem (unreachable, other version, table missing) or NULL when it is fine';

-- conninfo "key=value key='quoted value'" into key/value pairs; raises on anything else.
CREATE FUNCTION profile_shards_parse_conninfo(conninfo text)
	RETURNS TABLE (key text, value text)
	LANGUAGE plpgsql IMMUTABLE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	re constant text := '^(\s*([A-Za-z_]+)\s*=\s*(''((?:[^''\\]|\\.)*)''|([^\s'']+)))';
	rest text := conninfo;
	m text[];
BEGIN
	LOOP
		EXIT WHEN rest ~ '^\s*$';
		m := pg_catalog.regexp_match(rest, re);
		IF m IS NULL THEN
			RAISE EXCEPTION 'invalid shard connection string "%"', conninfo
				USING ERRCODE = 'invalid_parameter_value',
					  DETAIL = pg_catalog.format('Cannot parse at "%s".', rest),
					  HINT = 'Use keyword=value pairs, such as ''host=db1 port=5432 dbname=prof user=ingest''.';
		END IF;
		key := m[2];
		value := COALESCE(pg_catalog.regexp_replace(m[4], '\\(.)', '\1', 'g'), m[5]);
		RETURN NEXT;
		rest := pg_catalog.substr(rest, pg_catalog.length(m[1]) + 1);
	END LOOP;
END
$$;
COMMENT ON FUNCTION profile_shards_parse_conninfo(text) IS 'a libpq keyword=value connection string as key/value rows (helper of profile_shards_create)';

CREATE FUNCTION profile_shards_create(tbl text, shards text[], remote_table text DEFAULT NULL)
	RETURNS int
	LANGUAGE plpgsql VOLATILE
	AS $$
DECLARE
	-- libpq options that postgres_fdw takes in the user mapping, not in the server
	mapping_keys constant text[] := ARRAY['user', 'password', 'sslcert', 'sslkey', 'sslpassword'];
	ident text[] := pg_catalog.parse_ident(tbl);
	nsp text;
	rel text;
	n int := COALESCE(pg_catalog.array_length(shards, 1), 0);
	srv text;
	part text;
	remote text[];
	srv_opts text;
	map_opts text;
	kv record;
	bad record;
BEGIN
	IF n < 1 THEN
		RAISE EXCEPTION 'profile_shards_create needs at least one shard'
			USING ERRCODE = 'invalid_parameter_value';
	END IF;
	IF pg_catalog.array_position(shards, NULL) IS NOT NULL THEN
		RAISE EXCEPTION 'a shard connection string is NULL' USING ERRCODE = 'null_value_not_allowed';
	END IF;
	IF pg_catalog.cardinality(ident) > 2 THEN
		RAISE EXCEPTION 'table name "%" has too many dots', tbl USING ERRCODE = 'invalid_name';
	END IF;
	nsp := CASE WHEN pg_catalog.cardinality(ident) = 2 THEN ident[1] ELSE pg_catalog.current_schema() END;
	rel := ident[pg_catalog.cardinality(ident)];
	IF nsp IS NULL THEN
		RAISE EXCEPTION 'no schema to create "%" in', tbl USING ERRCODE = 'invalid_schema_name';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM pg_catalog.pg_extension WHERE extname = 'postgres_fdw') THEN
		BEGIN
			CREATE EXTENSION postgres_fdw;
		EXCEPTION WHEN insufficient_privilege THEN
			RAISE EXCEPTION 'sharding needs the extension postgres_fdw, which you may not create'
				USING ERRCODE = 'insufficient_privilege',
					  HINT = 'Ask a superuser to run CREATE EXTENSION postgres_fdw in this database.';
		END;
	END IF;

	EXECUTE pg_catalog.format(
		'CREATE TABLE %I.%I (ts timestamptz NOT NULL, labels jsonb NOT NULL, profile @extschema@.profile NOT NULL)'
		' PARTITION BY LIST (@extschema@.profile_shard_of(labels, %s))', nsp, rel, n);
	EXECUTE pg_catalog.format(
		'COMMENT ON TABLE %I.%I IS %L', nsp, rel, pg_catalog.format(
			'profiles on %s shards, routed by profile_shard_of(labels, %s) (profile_shards_create); query with profile_sharded_merge', n, n));

	FOR i IN 0 .. n - 1 LOOP
		srv := pg_catalog.format('%s_shard_%s', rel, i);
		part := srv;
		srv_opts := '';
		map_opts := '';
		FOR kv IN SELECT * FROM @extschema@.profile_shards_parse_conninfo(shards[i + 1]) LOOP
			IF kv.key = ANY (mapping_keys) THEN
				map_opts := map_opts || pg_catalog.format(', %I %L', kv.key, kv.value);
			ELSIF kv.key NOT IN ('extensions', 'async_capable') THEN
				srv_opts := srv_opts || pg_catalog.format(', %I %L', kv.key, kv.value);
			END IF;
		END LOOP;
		-- Defaults that keep the merge pushed down and concurrent (see the README): ship
		-- profile_ext's functions, run shards asynchronously, make pulling rows look as
		-- expensive as it is (profiles are large rows), do not hang on a dead host.
		IF srv_opts !~ '(^|, )connect_timeout ' THEN
			srv_opts := srv_opts || ', connect_timeout ''10''';
		END IF;
		IF srv_opts !~ '(^|, )fdw_tuple_cost ' THEN
			srv_opts := srv_opts || ', fdw_tuple_cost ''1''';
		END IF;
		IF srv_opts !~ '(^|, )batch_size ' THEN
			srv_opts := srv_opts || ', batch_size ''100''';
		END IF;
		EXECUTE pg_catalog.format(
			'CREATE SERVER %I FOREIGN DATA WRAPPER postgres_fdw OPTIONS (extensions %L, async_capable %L%s)',
			srv, 'profile_ext', 'true', srv_opts);
		EXECUTE pg_catalog.format('COMMENT ON SERVER %I IS %L', srv,
			pg_catalog.format('shard %s of %I.%I (profile_shards_create)', i, nsp, rel));
		EXECUTE pg_catalog.format('CREATE USER MAPPING FOR CURRENT_USER SERVER %I%s', srv,
			CASE WHEN map_opts = '' THEN '' ELSE ' OPTIONS (' || pg_catalog.substr(map_opts, 3) || ')' END);

		remote := pg_catalog.parse_ident(COALESCE(pg_catalog.replace(remote_table, '%s', i::text),
												  pg_catalog.format('%I.%I', nsp, rel)));
		IF pg_catalog.cardinality(remote) = 1 THEN
			remote := ARRAY[nsp] || remote;
		END IF;
		EXECUTE pg_catalog.format(
			'CREATE FOREIGN TABLE %I.%I PARTITION OF %I.%I FOR VALUES IN (%s) SERVER %I'
			' OPTIONS (schema_name %L, table_name %L)', nsp, part, nsp, rel, i, srv, remote[1], remote[2]);
		EXECUTE pg_catalog.format('COMMENT ON FOREIGN TABLE %I.%I IS %L', nsp, part,
			pg_catalog.format('shard %s of %I.%I: %I.%I on server %I', i, nsp, rel, remote[1], remote[2], srv));
		EXECUTE pg_catalog.format(
			'CREATE FOREIGN TABLE %I.%I (extname name, extversion text) SERVER %I'
			' OPTIONS (schema_name %L, table_name %L)', nsp, part || '_extensions', srv,
			'pg_catalog', 'pg_extension');
		EXECUTE pg_catalog.format('COMMENT ON FOREIGN TABLE %I.%I IS %L', nsp, part || '_extensions',
			pg_catalog.format('pg_extension of shard %s of %I.%I (profile_shards_check reads the shard''s profile_ext version here)', i, nsp, rel));
	END LOOP;

	-- Every shard must answer, run this profile_ext version and have the table.
	FOR bad IN SELECT * FROM @extschema@.profile_shards_check(pg_catalog.format('%I.%I', nsp, rel)::regclass)
			 WHERE problem IS NOT NULL LOOP
		RAISE EXCEPTION 'shard % (server %) is not usable: %', bad.shard, bad.server, bad.problem
			USING ERRCODE = CASE WHEN bad.reachable THEN 'object_not_in_prerequisite_state'
								 ELSE 'sqlclient_unable_to_establish_sqlconnection' END,
				  HINT = 'Every shard needs profile_ext of the same version as here and the table (a plain (ts, labels, profile) table or a profile store).';
	END LOOP;
	RETURN n;
END
$$;
COMMENT ON FUNCTION profile_shards_create(text, text[], text) IS 'shard a profiles table: one postgres_fdw server (extensions profile_ext, async_capable) and user mapping per connection string, and a table LIST-partitioned on profile_shard_of(labels, N) whose partitions are the shards'' tables (remote_table: their name, %s = shard number; default the same name); checks every shard';

-- Inside the coordinator's query, over the rows the shards sent: a shard that ran another
-- profile_ext version is an error naming it.  VOLATILE, so it stays on the coordinator.
CREATE FUNCTION profile_shards_version_ok(tbl regclass, shard int, version text, expected text)
	RETURNS boolean
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
BEGIN
	IF version IS DISTINCT FROM expected THEN
		RAISE EXCEPTION 'shard % of % (server %) runs profile_ext %, the coordinator %',
			shard, tbl, (SELECT s.server FROM @extschema@.profile_shards(tbl) s WHERE s.shard = $2),
			COALESCE(version, '(none)'), expected
			USING ERRCODE = 'object_not_in_prerequisite_state',
				  HINT = 'Run ALTER EXTENSION profile_ext UPDATE on every shard and on the coordinator.';
	END IF;
	RETURN true;
END
$$;
COMMENT ON FUNCTION profile_shards_version_ok(regclass, int, text, text) IS 'true when a shard''s profile_ext version is the coordinator''s, else an error naming the shard (used inside the sharded queries)';

-- What a sharded query needs: the partition key expression to group by, the coordinator's
-- version, the WHERE conditions ($1 from, $2 to, $3 filter, $6 the shards that answer) and,
-- for an explicitly partial answer, the shards that answer (a NOTICE lists the others).
CREATE FUNCTION profile_shards_plan(tbl regclass, from_ts timestamptz, to_ts timestamptz,
									filter jsonb, allow_partial boolean, caller text,
									OUT key text, OUT version text, OUT live int[],
									OUT conds text)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	missing text;
BEGIN
	key := pg_catalog.substring(pg_catalog.pg_get_partkeydef(tbl), '^LIST \((.*profile_shard_of\(.*)\)$');
	IF key IS NULL THEN
		RAISE EXCEPTION '%: % is not a table made by profile_shards_create', caller, tbl
			USING ERRCODE = 'wrong_object_type',
				  HINT = 'Its partition key must be profile_shard_of(labels, N).';
	END IF;
	version := (SELECT e.extversion FROM pg_catalog.pg_extension e WHERE e.extname = 'profile_ext');
	IF allow_partial THEN
		SELECT pg_catalog.array_agg(c.shard ORDER BY c.shard) FILTER (WHERE c.problem IS NULL),
			   pg_catalog.string_agg(pg_catalog.format('shard %s (server %s): %s', c.shard, c.server, c.problem),
									 '; ' ORDER BY c.shard) FILTER (WHERE c.problem IS NOT NULL)
		  INTO live, missing
		  FROM @extschema@.profile_shards_check(tbl) c;
		IF live IS NULL THEN
			RAISE EXCEPTION '%: no shard of % answers', caller, tbl
				USING ERRCODE = 'sqlclient_unable_to_establish_sqlconnection', DETAIL = missing;
		END IF;
		IF missing IS NULL THEN
			live := NULL;		-- all there: no shard filter
		ELSE
			RAISE NOTICE '%: partial answer without %', caller, missing;
		END IF;
	END IF;
	conds := '';
	IF from_ts IS NOT NULL THEN conds := conds || ' AND ts >= $1'; END IF;
	IF to_ts IS NOT NULL THEN conds := conds || ' AND ts < $2'; END IF;
	IF filter IS NOT NULL AND filter <> '{}' THEN conds := conds || ' AND labels @> $3'; END IF;
	IF live IS NOT NULL THEN conds := conds || pg_catalog.format(' AND %s = ANY ($6)', key); END IF;
END
$$;
COMMENT ON FUNCTION profile_shards_plan(regclass, timestamptz, timestamptz, jsonb, boolean, text) IS 'partition key, coordinator version, WHERE conditions and (allow_partial) the shards that answer, for the sharded query functions';

-- A sharded query failed: when a shard is unreachable, lacks this version's functions or
-- broke the connection, say which shard; otherwise raise the error as it was.
CREATE FUNCTION profile_shards_fail(tbl regclass, caller text, state text, message text,
									detail text)
	RETURNS void
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	broken text;
BEGIN
	IF state LIKE '08%' OR state IN ('42883', '42P01', '42703', 'HV00N') THEN
		SELECT pg_catalog.string_agg(pg_catalog.format('shard %s (server %s): %s', c.shard, c.server, c.problem),
									 '; ' ORDER BY c.shard)
		  INTO broken
		  FROM @extschema@.profile_shards_check(tbl) c WHERE c.problem IS NOT NULL;
		IF broken IS NOT NULL THEN
			RAISE EXCEPTION '%: %', caller, broken
				USING ERRCODE = state,
					  DETAIL = COALESCE(NULLIF(detail, ''), message),
					  HINT = 'Bring the shard back (or fix its version), or pass allow_partial => true for an answer without it.';
		END IF;
	END IF;
	IF COALESCE(detail, '') = '' THEN
		RAISE EXCEPTION '%', message USING ERRCODE = state;
	END IF;
	RAISE EXCEPTION '%', message USING ERRCODE = state, DETAIL = detail;
END
$$;
COMMENT ON FUNCTION profile_shards_fail(regclass, text, text, text, text) IS 'raise the error of a failed sharded query, naming the shards that are unreachable or run another version';

-- Planner settings for one sharded query (transaction-local, put back by
-- profile_shards_settings(saved)): partitionwise aggregation on, so grouping by the partition
-- key ships profile_merge to every shard; sorting and hashing off, so that the plans that
-- would group on the coordinator (after pulling every row) never look cheaper than the
-- pushed-down one when the coordinator's row estimates for the shards are poor (no
-- statistics on foreign tables, a shard that just grew).  The shards plan their own part
-- with their own settings.
CREATE FUNCTION profile_shards_settings(saved text[] DEFAULT NULL) RETURNS text[]
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	names constant text[] := ARRAY['enable_partitionwise_aggregate', 'enable_sort', 'enable_hashagg'];
	sharded constant text[] := ARRAY['on', 'off', 'off'];
	before text[] := ARRAY[]::text[];
BEGIN
	FOR i IN 1 .. pg_catalog.cardinality(names) LOOP
		before := before || pg_catalog.current_setting(names[i]);
		PERFORM pg_catalog.set_config(names[i], COALESCE(saved[i], sharded[i]), true);
	END LOOP;
	RETURN before;
END
$$;
COMMENT ON FUNCTION profile_shards_settings(text[]) IS 'set the planner settings of a sharded query for the transaction and return the previous ones; with them as argument, put them back';

CREATE FUNCTION profile_sharded_merge(tbl regclass, from_ts timestamptz, to_ts timestamptz,
									  filter jsonb DEFAULT '{}', allow_partial boolean DEFAULT false)
	RETURNS @extschema@.profile
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	p record;
	saved text[];
	result @extschema@.profile;
	st text; msg text; det text;
BEGIN
	p := @extschema@.profile_shards_plan(tbl, from_ts, to_ts, filter, allow_partial, 'profile_sharded_merge');
	saved := @extschema@.profile_shards_settings();
	BEGIN
		-- inner level: one row per shard, computed there; outer level: here
		EXECUTE pg_catalog.format(
			'SELECT @extschema@.profile_merge(s.m),'
			' pg_catalog.bool_and(@extschema@.profile_shards_version_ok($4, s.k, s.v, $5)) FROM ('
			' SELECT %1$s AS k, @extschema@.profile_merge(profile) AS m,'
			' @extschema@.profile_shard_version(%1$s) AS v'
			' FROM %2$s WHERE true%3$s GROUP BY 1) s', p.key, tbl, p.conds)
			INTO result USING from_ts, to_ts, filter, tbl, p.version, p.live;
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
		PERFORM @extschema@.profile_shards_fail(tbl, 'profile_sharded_merge', st, msg, det);
	END;
	PERFORM @extschema@.profile_shards_settings(saved);
	RETURN result;
END
$$;
COMMENT ON FUNCTION profile_sharded_merge(regclass, timestamptz, timestamptz, jsonb, boolean) IS 'profile_merge of a sharded table''s profiles with from_ts <= ts < to_ts (NULL: open) and labels @> filter, merged on each shard (one profile per shard crosses the network) and then here; an unreachable shard is an error naming it unless allow_partial (then a NOTICE lists the missing shards)';

CREATE FUNCTION profile_sharded_timeline(tbl regclass, from_ts timestamptz, to_ts timestamptz,
										 bucket interval, filter jsonb DEFAULT '{}',
										 sample_type text DEFAULT NULL,
										 allow_partial boolean DEFAULT false)
	RETURNS TABLE ("time" timestamptz, total bigint)
	LANGUAGE plpgsql VOLATILE
	SET search_path = pg_catalog, pg_temp
	AS $$
DECLARE
	p record;
	saved text[];
	st text; msg text; det text;
BEGIN
	p := @extschema@.profile_shards_plan(tbl, from_ts, to_ts, filter, allow_partial, 'profile_sharded_timeline');
	saved := @extschema@.profile_shards_settings();
	BEGIN
		RETURN QUERY EXECUTE pg_catalog.format(
			'SELECT b, t FROM ('
			' SELECT s.b, pg_catalog.sum(s.t)::bigint AS t,'
			' pg_catalog.bool_and(@extschema@.profile_shards_version_ok($4, s.k, s.v, $5)) AS versions_ok FROM ('
			' SELECT %1$s AS k, pg_catalog.date_bin($7, ts, ''2000-01-01 00:00:00+00''::timestamptz) AS b,'
			' pg_catalog.sum(@extschema@.profile_shard_total(profile, $8)) AS t,'
			' @extschema@.profile_shard_version(%1$s) AS v'
			' FROM %2$s WHERE true%3$s GROUP BY 1, 2) s GROUP BY s.b) g ORDER BY b', p.key, tbl, p.conds)
			USING from_ts, to_ts, filter, tbl, p.version, p.live, bucket, pg_catalog.to_jsonb(sample_type);
	EXCEPTION WHEN OTHERS THEN
		GET STACKED DIAGNOSTICS st = RETURNED_SQLSTATE, msg = MESSAGE_TEXT, det = PG_EXCEPTION_DETAIL;
		PERFORM @extschema@.profile_shards_fail(tbl, 'profile_sharded_timeline', st, msg, det);
	END;
	PERFORM @extschema@.profile_shards_settings(saved);
END
$$;
COMMENT ON FUNCTION profile_sharded_timeline(regclass, timestamptz, timestamptz, interval, jsonb, text, boolean) IS 'the timeline of a sharded table: sum of profile_total(profile, sample_type) per date_bin(bucket, ts, ''2000-01-01 00:00:00+00'') bucket, summed on each shard and then here; errors and allow_partial as in profile_sharded_merge';
