-- The profile type: input forms, round trips, accessors, errors.
\set VERBOSITY default
SET extra_float_digits = 0;

-- Folded stacks are the readable way to write fixtures.
CREATE TABLE fixtures (name text PRIMARY KEY, p profile NOT NULL);
INSERT INTO fixtures VALUES
  ('cpu', profile_from_folded(E'main;handler;json.Marshal 30 300\nmain;handler;db.Query 20 200\nmain;gc 5 50\n',
                              'samples:count,cpu:nanoseconds')),
  ('one', profile_from_folded(E'a;b 1\n'));

SELECT name, profile_sample_types(p), profile_total(p), profile_total(p, 'samples')
  FROM fixtures ORDER BY name;
SELECT profile_total(p, 'cpu:nanoseconds') FROM fixtures WHERE name = 'cpu';

-- Default sample type: the last one unless the profile says otherwise.
SELECT profile_total(p, NULL) FROM fixtures WHERE name = 'cpu';
-- NULL profile gives NULL.
SELECT profile_total(NULL::profile);

-- Unknown sample types list what the profile has.
SELECT profile_total(p, 'alloc_space') FROM fixtures WHERE name = 'cpu';
SELECT profile_total(p, 'cpu:bytes') FROM fixtures WHERE name = 'cpu';

-- Text output is \x-hex of the native format; input takes it back byte for byte.
SELECT left(p::text, 12) AS prefix FROM fixtures WHERE name = 'one';
SELECT bool_and(p::text::profile::text = p::text) AS text_round_trip FROM fixtures;
SELECT bool_and(profile_send(p) = profile_send(p::text::profile)) AS send_round_trip FROM fixtures;

-- pprof in: plain and gzipped, through the cast, the function and text input.
SELECT name,
       profile_to_folded(profile_from_pprof(profile_to_pprof(p)), 'samples') =
       profile_to_folded(p, 'samples') AS gzip_ok,
       profile_to_folded(profile_to_pprof(p, false)::profile, 'samples') =
       profile_to_folded(p, 'samples') AS plain_ok,
       profile_total(('\x' || encode(profile_to_pprof(p), 'hex'))::profile, 'samples') =
       profile_total(p, 'samples') AS text_in_ok
  FROM fixtures ORDER BY name;

-- Accessors.
SELECT profile_time(p) IS NULL AS no_time, profile_duration(p) FROM fixtures WHERE name = 'cpu';
SELECT jsonb_pretty(profile_info(p) - 'stored_bytes' - 'decoded_bytes') FROM fixtures WHERE name = 'cpu';
SELECT (profile_info(p)->>'stored_bytes')::int = octet_length(profile_send(p)) AS stored_bytes_ok
  FROM fixtures WHERE name = 'cpu';

-- Binary COPY: the profile field may be raw pprof bytes or native bytes.
-- (Files go to the data directory, which the server can write.)
SELECT current_setting('data_directory') || '/profile_ext_regress_native.bin' AS native_file,
       current_setting('data_directory') || '/profile_ext_regress_pprof.bin' AS pprof_file \gset
CREATE TEMP TABLE bin (p profile);
COPY (SELECT p FROM fixtures ORDER BY name) TO :'native_file' WITH (FORMAT binary);
COPY bin FROM :'native_file' WITH (FORMAT binary);
CREATE TEMP TABLE raw_pprof (b bytea);
INSERT INTO raw_pprof SELECT profile_to_pprof(p) FROM fixtures ORDER BY name;
COPY raw_pprof TO :'pprof_file' WITH (FORMAT binary);
COPY bin FROM :'pprof_file' WITH (FORMAT binary);
SELECT count(*), sum(profile_total(p, 'samples')) FROM bin;
SELECT count(*) AS identical FROM bin b JOIN fixtures f ON profile_send(b.p) = profile_send(f.p);

-- Text COPY with \x-hex.
CREATE TEMP TABLE txt (ts timestamptz, labels jsonb, p profile);
COPY txt FROM stdin;
2026-01-01 14:02:00+00	{"service_name": "checkout"}	\\x7f5052460100000025000000010773616d706c657305636f756e7400000000000002060061000062000200000002000002
\.
SELECT ts, labels, profile_to_folded(p) FROM txt;
-- One bad row fails the batch, naming the line.
COPY txt FROM stdin;
2026-01-01 14:02:10+00	{"service_name": "checkout"}	\\x1f8b
\.

-- Bad input.
SELECT 'abc'::profile;
SELECT '\x0g'::profile;
SELECT '\x0'::profile;
SELECT '\x'::profile;
SELECT '\x00'::profile;
SELECT '\x1f8b0800'::profile;
SELECT '\x7f50524607000000'::profile;
SELECT '\x7f5052460700000000000000'::profile;
-- a version this build does not know is a missing feature, not corruption (0A000)
DO $$ BEGIN PERFORM '\x7f5052460700000000000000'::profile;
EXCEPTION WHEN feature_not_supported THEN RAISE NOTICE 'unknown format version: SQLSTATE %', SQLSTATE;
END $$;
SELECT '\x7f50524601000100000000000000'::profile;
SELECT '\x7f50524601800000000000000000'::profile;
SELECT '\x0a0208011200'::profile;
