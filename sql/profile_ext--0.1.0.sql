-- profile_ext 0.1.0: the profile type, merge and diff aggregates, flame graphs.
-- This base script is frozen once released: later versions ship upgrade scripts.

\echo Use "CREATE EXTENSION profile_ext" to load this file. \quit

-- The type ------------------------------------------------------------------

CREATE TYPE profile;

CREATE FUNCTION profile_in(cstring) RETURNS profile
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION profile_out(profile) RETURNS cstring
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION profile_recv(internal) RETURNS profile
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION profile_send(profile) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;

-- Values are zstd-compressed already: no TOAST compression, only out-of-line.
CREATE TYPE profile (
	INPUT = profile_in,
	OUTPUT = profile_out,
	RECEIVE = profile_recv,
	SEND = profile_send,
	INTERNALLENGTH = VARIABLE,
	ALIGNMENT = int4,
	STORAGE = external
);
COMMENT ON TYPE profile IS 'a profile: compressed call tree with one value per sample type, built from pprof';

CREATE FUNCTION profile_from_pprof(bytea) RETURNS profile
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION profile_from_pprof(bytea) IS 'profile from pprof bytes, gzipped or plain (native values are validated and kept)';

CREATE CAST (bytea AS profile) WITH FUNCTION profile_from_pprof(bytea);

-- Accessors -----------------------------------------------------------------
-- Functions that decode a profile declare COST 1000: a decode takes tens to
-- hundreds of microseconds, and with the default cost the planner would not
-- consider parallel aggregation over a few thousand profiles worthwhile.

CREATE FUNCTION profile_sample_types(profile) RETURNS text[]
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 1000;
COMMENT ON FUNCTION profile_sample_types(profile) IS 'sample types as type:unit, in order';

CREATE FUNCTION profile_total(profile, sample_type text DEFAULT NULL) RETURNS bigint
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE COST 1000;
COMMENT ON FUNCTION profile_total(profile, text) IS 'sum of all values of a sample type (NULL: the default type)';

CREATE FUNCTION profile_time(profile) RETURNS timestamptz
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 1000;
COMMENT ON FUNCTION profile_time(profile) IS 'when the profile starts, NULL when unknown';

CREATE FUNCTION profile_duration(profile) RETURNS interval
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 1000;
COMMENT ON FUNCTION profile_duration(profile) IS 'how long the profile covers';

CREATE FUNCTION profile_info(profile) RETURNS jsonb
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE COST 1000;
COMMENT ON FUNCTION profile_info(profile) IS 'header, totals, node and function counts, decoded and stored sizes';

-- Merge aggregate -----------------------------------------------------------

CREATE FUNCTION profile_merge_transfn(internal, profile) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE COST 1000;
CREATE FUNCTION profile_merge_combinefn(internal, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE COST 1000;
CREATE FUNCTION profile_merge_serialfn(internal) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION profile_merge_deserialfn(bytea, internal) RETURNS internal
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
CREATE FUNCTION profile_merge_finalfn(internal) RETURNS profile
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;

CREATE AGGREGATE profile_merge(profile) (
	SFUNC = profile_merge_transfn,
	STYPE = internal,
	FINALFUNC = profile_merge_finalfn,
	COMBINEFUNC = profile_merge_combinefn,
	SERIALFUNC = profile_merge_serialfn,
	DESERIALFUNC = profile_merge_deserialfn,
	PARALLEL = SAFE
);
COMMENT ON AGGREGATE profile_merge(profile) IS 'merge profiles of one kind: values summed per stack, durations summed, earliest time';

-- Reading a profile ---------------------------------------------------------

CREATE FUNCTION flamegraph(p profile, sample_type text DEFAULT NULL, max_nodes int DEFAULT 8192)
	RETURNS TABLE(level int, label text, value bigint, self bigint)
	AS 'MODULE_PATHNAME', 'profile_flamegraph' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION flamegraph(profile, text, int) IS 'flame graph rows in pre-order (Grafana Flame Graph panel), heaviest max_nodes kept';

CREATE FUNCTION profile_top(p profile, sample_type text DEFAULT NULL, n int DEFAULT 100)
	RETURNS TABLE(function text, self bigint, total bigint)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 100;
COMMENT ON FUNCTION profile_top(profile, text, int) IS 'functions by self value, total counted once per stack (pprof -top)';

CREATE FUNCTION profile_filter(p profile, focus text DEFAULT NULL, ignore text DEFAULT NULL)
	RETURNS profile
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION profile_filter(profile, text, text) IS 'keep stacks through a function matching focus, drop those through ignore (pprof -focus/-ignore)';

-- Comparing two profiles ----------------------------------------------------

CREATE FUNCTION flamegraph_diff(base profile, target profile, sample_type text DEFAULT NULL,
								max_nodes int DEFAULT 8192)
	RETURNS TABLE(level int, label text, value bigint, self bigint,
				  "valueRight" bigint, "selfRight" bigint)
	AS 'MODULE_PATHNAME', 'profile_flamegraph_diff' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 1000;
COMMENT ON FUNCTION flamegraph_diff(profile, profile, text, int) IS 'diff flame graph rows: base in value/self, target in valueRight/selfRight (Grafana)';

CREATE FUNCTION profile_diff(base profile, target profile) RETURNS profile
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION profile_diff(profile, profile) IS 'target minus base, with signed values (pprof -diff_base)';

CREATE FUNCTION profile_diff_top(base profile, target profile, sample_type text DEFAULT NULL,
								 n int DEFAULT 20, "normalize" boolean DEFAULT true)
	RETURNS TABLE(function text, base_self bigint, base_total bigint,
				  target_self bigint, target_total bigint,
				  change double precision, total_change double precision)
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE ROWS 20;
COMMENT ON FUNCTION profile_diff_top(profile, profile, text, int, boolean) IS 'functions ranked by change of self cost from base to target (normalize: share of each side''s total, in percent points)';

-- Other formats -------------------------------------------------------------

CREATE FUNCTION profile_from_folded(folded text, sample_type text DEFAULT 'samples:count')
	RETURNS profile
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE STRICT;
COMMENT ON FUNCTION profile_from_folded(text, text) IS 'profile from folded stacks (frame;frame;leaf value per line); several comma-separated sample types take several values per line';

CREATE FUNCTION profile_to_folded(p profile, sample_type text DEFAULT NULL) RETURNS text
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION profile_to_folded(profile, text) IS 'folded stacks of one sample type, one line per stack, in canonical order';

CREATE FUNCTION profile_to_pprof(p profile, gzip boolean DEFAULT true) RETURNS bytea
	AS 'MODULE_PATHNAME' LANGUAGE C IMMUTABLE STRICT PARALLEL SAFE;
COMMENT ON FUNCTION profile_to_pprof(profile, boolean) IS 'pprof protobuf (gzipped by default) of a profile';

-- SVG flame graphs ----------------------------------------------------------

CREATE FUNCTION flamegraph_svg(p profile, sample_type text DEFAULT NULL, title text DEFAULT NULL,
							   width int DEFAULT 1200, max_nodes int DEFAULT 8192)
	RETURNS text
	AS 'MODULE_PATHNAME', 'profile_flamegraph_svg' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION flamegraph_svg(profile, text, text, int, int) IS 'self-contained SVG flame graph (root at the top, tooltips with values), heaviest max_nodes kept';

CREATE FUNCTION flamegraph_diff_svg(base profile, target profile, sample_type text DEFAULT NULL,
									title text DEFAULT NULL, width int DEFAULT 1200,
									max_nodes int DEFAULT 8192)
	RETURNS text
	AS 'MODULE_PATHNAME', 'profile_flamegraph_diff_svg' LANGUAGE C IMMUTABLE PARALLEL SAFE;
COMMENT ON FUNCTION flamegraph_diff_svg(profile, profile, text, text, int, int) IS 'differential SVG flame graph: widths from target, red/blue by change of self share from base';
