-- Security: nothing runs with elevated rights or touches server files; an
-- unprivileged role can use every function on its own data; functions with
-- internal arguments cannot be reached from SQL; and, the extension being
-- trusted, a non-superuser with CREATE on a database can install it.
\set VERBOSITY default
SET timezone = 'UTC';

-- ---------------------------------------------------------------- catalog checks
-- The extension's functions: none SECURITY DEFINER.  The type's functions are
-- in C (the aggregate's own pg_proc entry has language internal); the profile
-- store's are SQL and PL/pgSQL (checked below for their search_path).
CREATE TEMP VIEW sec_functions AS
SELECT p.oid, p.oid::regprocedure AS signature, p.prosecdef, p.proconfig, l.lanname,
	   p.proargtypes::oid[] AS argtypes, p.prorettype::regtype AS returns
  FROM pg_depend d
  JOIN pg_proc p ON d.classid = 'pg_proc'::regclass AND d.objid = p.oid
  JOIN pg_language l ON l.oid = p.prolang
 WHERE d.refclassid = 'pg_extension'::regclass AND d.deptype = 'e'
   AND d.refobjid = (SELECT oid FROM pg_extension WHERE extname = 'profile_ext');
SELECT count(*) > 25 AS many_functions,
	   bool_or(prosecdef) AS any_security_definer,
	   bool_or(proconfig IS NOT NULL) FILTER (WHERE lanname IN ('c', 'internal')) AS any_c_proconfig,
	   string_agg(DISTINCT lanname, ',') AS languages
  FROM sec_functions;
-- SQL and PL/pgSQL functions pin search_path, so that objects in the caller's
-- schemas cannot change what they call.  The exceptions resolve a store or table name
-- the way the caller means it and call only schema-qualified functions.
SELECT signature FROM sec_functions
 WHERE lanname IN ('sql', 'plpgsql')
   AND NOT coalesce('search_path=pg_catalog, pg_temp' = ANY (proconfig), false)
 ORDER BY signature::text;
-- Functions taking internal: each one also returns internal (so only the
-- executor can call it with a real state), or is a type's receive function,
-- or an aggregate's final / serial function.  A new one must be audited here.
SELECT signature, returns FROM sec_functions
 WHERE 'internal'::regtype::oid = ANY (argtypes)
 ORDER BY signature::text;
-- The library opens no files: its C code has no file functions (checked by
-- hand: src/core and src/pg call no open/fopen/pg_read_file/AllocateFile),
-- and no function takes a path or a file name.
SELECT count(*) AS functions_with_path_arguments FROM sec_functions f
 WHERE EXISTS (SELECT 1 FROM pg_proc p, unnest(p.proargnames) a
				WHERE p.oid = f.oid AND (replace(a, 'profile', '') ILIKE '%file%' OR a ILIKE '%path%'));

-- ---------------------------------------------------------------- an unprivileged role
SET client_min_messages = warning;
DROP DATABASE IF EXISTS regress_pe_trusted;
DROP ROLE IF EXISTS regress_profile_ext_user;
RESET client_min_messages;
CREATE ROLE regress_profile_ext_user NOSUPERUSER NOCREATEDB NOCREATEROLE;
CREATE SCHEMA regress_pe_user AUTHORIZATION regress_profile_ext_user;
SELECT bool_and(has_function_privilege('regress_profile_ext_user', oid, 'EXECUTE')) AS can_execute_all
  FROM sec_functions;
SET ROLE regress_profile_ext_user;
SET search_path = regress_pe_user, public;
SELECT current_user, rolsuper FROM pg_roles WHERE rolname = current_user;

CREATE TABLE own_profiles (name text PRIMARY KEY, p profile);
INSERT INTO own_profiles VALUES
	('base', profile_from_folded(E'main;work 30 300\nmain;idle 10 100', 'samples:count,cpu:nanoseconds')),
	('target', profile_from_folded(E'main;work 50 500\nmain;gc 5 50', 'samples:count,cpu:nanoseconds'));
-- type I/O: text out and in, binary send, pprof in and out, the bytea cast
INSERT INTO own_profiles SELECT 'text', p::text::profile FROM own_profiles WHERE name = 'base';
INSERT INTO own_profiles SELECT 'pprof', profile_to_pprof(p)::profile FROM own_profiles WHERE name = 'base';
INSERT INTO own_profiles
SELECT 'send', profile_from_pprof(profile_send(p)) FROM own_profiles WHERE name = 'base';
SELECT name, profile_total(p), profile_sample_types(p), profile_time(p), profile_duration(p),
	   profile_info(p)->'nodes' AS nodes
  FROM own_profiles ORDER BY name;
-- settings are the user's to change
SET profile_ext.max_nodes = 1000;
SET profile_ext.compression_level = 3;
-- merge (also in parallel), flame graphs, top, filter, diffs, folded, svg
SELECT profile_to_folded(profile_merge(p)) FROM own_profiles;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
EXPLAIN (COSTS OFF) SELECT profile_merge(p) FROM own_profiles;
SELECT profile_total(profile_merge(p)) AS parallel_merge FROM own_profiles;
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SELECT * FROM flamegraph((SELECT p FROM own_profiles WHERE name = 'base'));
SELECT * FROM profile_top((SELECT p FROM own_profiles WHERE name = 'target'));
SELECT profile_to_folded(profile_filter(p, focus => 'work')) FROM own_profiles WHERE name = 'target';
SELECT * FROM flamegraph_diff((SELECT p FROM own_profiles WHERE name = 'base'),
							  (SELECT p FROM own_profiles WHERE name = 'target'));
SELECT profile_to_folded(profile_diff(b.p, t.p), 'cpu')
  FROM own_profiles b, own_profiles t WHERE b.name = 'base' AND t.name = 'target';
SELECT function, base_self, target_self
  FROM profile_diff_top((SELECT p FROM own_profiles WHERE name = 'base'),
						(SELECT p FROM own_profiles WHERE name = 'target'));
SELECT flamegraph_svg(p) ~ '^<svg .*</svg>\s*$' AS svg,
	   flamegraph_diff_svg(p, p) ~ '^<svg .*</svg>\s*$' AS diff_svg
  FROM own_profiles WHERE name = 'base';
SELECT length(profile_to_pprof(p, false)) > 0 AS pprof_out FROM own_profiles WHERE name = 'base';

-- ---------------------------------------------------------------- internal arguments
-- No SQL expression has type internal: not a literal, not a NULL, and no
-- function the user can write may return it (or, in SQL and PL/pgSQL, take it).
SELECT profile_merge_transfn(NULL, p) FROM own_profiles;
SELECT profile_merge_finalfn(NULL);
SELECT profile_recv(NULL);
SELECT NULL::internal;
CREATE FUNCTION forge(internal) RETURNS internal LANGUAGE sql AS 'SELECT $1';
CREATE FUNCTION forge(int) RETURNS internal LANGUAGE sql AS 'SELECT NULL';
CREATE FUNCTION forge(internal) RETURNS int LANGUAGE plpgsql AS 'BEGIN RETURN 1; END';
-- Nor can an ordinary user pair another aggregate's internal state with
-- profile_merge's final function: internal transition types are superuser-only.
CREATE AGGREGATE forged_merge(anynonarray) (
	SFUNC = array_agg_transfn, STYPE = internal, FINALFUNC = profile_merge_finalfn);

RESET ROLE;
RESET search_path;
DROP SCHEMA regress_pe_user CASCADE;

-- ---------------------------------------------------------------- trusted
-- profile_ext.control says trusted = true: a role with CREATE on a database
-- installs it there without being superuser.  The member objects belong to
-- the bootstrap superuser, the extension to the role, which may drop it.
SELECT name, superuser, trusted FROM pg_available_extension_versions
 WHERE name = 'profile_ext' AND version = '0.2.0';
SELECT current_database() AS regress_db \gset
CREATE DATABASE regress_pe_trusted;
GRANT CREATE ON DATABASE regress_pe_trusted TO regress_profile_ext_user;
\c regress_pe_trusted
SET ROLE regress_profile_ext_user;
CREATE SCHEMA profiling;
CREATE EXTENSION profile_ext SCHEMA profiling;
SELECT e.extname, e.extowner::regrole AS extension_owner, n.nspname AS schema,
	   (SELECT t.typowner = 10 FROM pg_type t WHERE t.typname = 'profile')
		   AS type_owned_by_bootstrap_superuser
  FROM pg_extension e JOIN pg_namespace n ON n.oid = e.extnamespace
 WHERE e.extname = 'profile_ext';
SELECT profiling.profile_total(profiling.profile_from_folded('a;b 7')) AS works;
-- the role cannot change the extension's objects
CREATE OR REPLACE FUNCTION profiling.profile_total(profiling.profile, text) RETURNS bigint
	LANGUAGE sql AS 'SELECT 0::bigint';
DROP FUNCTION profiling.flamegraph_svg(profiling.profile, text, text, int, int);
DROP EXTENSION profile_ext;
RESET ROLE;
\c :regress_db
DROP DATABASE regress_pe_trusted;
DROP ROLE regress_profile_ext_user;
