-- The README's recipes: a profiles table with a GIN label index, a flame
-- graph of a window, the timeline, a per-function trend, the top functions.
\set VERBOSITY default
SET timezone = 'UTC';

CREATE TABLE profiles (ts timestamptz NOT NULL, labels jsonb NOT NULL, profile profile NOT NULL);
CREATE INDEX profiles_labels_idx ON profiles USING gin (labels jsonb_path_ops);
CREATE INDEX profiles_ts_idx ON profiles (ts);

-- An hour of 10 s CPU profiles from two services; from 14:02 checkout
-- spends more and more in json.Marshal.
INSERT INTO profiles
SELECT ts,
       jsonb_build_object('__name__', 'process_cpu', 'service_name', svc, 'region', 'eu-west', 'version',
                          CASE WHEN svc = 'checkout' AND ts >= '2026-01-01 14:02+00' THEN 'v2' ELSE 'v1' END),
       profile_from_folded(format(E'main;handler;json.Marshal %s\nmain;handler;db.Query 50\nmain;gc 10\n',
                                  CASE WHEN svc = 'checkout' AND ts >= '2026-01-01 14:02+00'
                                       THEN 10 + extract(epoch FROM ts - '2026-01-01 14:02+00')::int / 10
                                       ELSE 10 END),
                           'cpu:nanoseconds')
  FROM generate_series('2026-01-01 13:30+00'::timestamptz, '2026-01-01 14:29:50+00', '10 seconds') ts,
       unnest(ARRAY['checkout', 'cart']) svc;
ANALYZE profiles;

-- The label filter uses the GIN index.
SET enable_seqscan = off;
EXPLAIN (COSTS OFF)
SELECT profile_merge(profile) FROM profiles WHERE labels @> '{"service_name": "checkout"}';
RESET enable_seqscan;

-- A flame graph of checkout between 14:02 and 14:08 (what Grafana sends,
-- with $__timeFilter(ts) expanded).
SELECT * FROM flamegraph((SELECT profile_merge(profile) FROM profiles
                           WHERE ts >= '2026-01-01 14:02+00' AND ts < '2026-01-01 14:08+00'
                             AND labels @> '{"service_name": "checkout"}'));

-- The timeline for a time-series panel: CPU per service per 10 minutes.  CPU rows are picked
-- by label (GIN index), and profile_total reads only each value's summary (its first bytes).
SELECT date_bin('10 minutes', ts, '2026-01-01') AS time, labels->>'service_name' AS service,
       sum(profile_total(profile, 'cpu')) AS cpu
  FROM profiles WHERE labels @> '{"__name__": "process_cpu"}'
 GROUP BY 1, 2 ORDER BY 2, 1;

-- One function's trend per 10-minute bucket (how a leak or a regression is found).
SELECT date_bin('10 minutes', ts, '2026-01-01') AS time, sum(t.total) AS marshal_total
  FROM profiles, profile_top(profile, 'cpu', NULL) t
 WHERE labels @> '{"service_name": "checkout"}' AND t.function = 'json.Marshal'
 GROUP BY 1 ORDER BY 1;

-- The top functions of a window.
SELECT * FROM profile_top((SELECT profile_merge(profile) FROM profiles
                            WHERE ts >= '2026-01-01 14:02+00' AND ts < '2026-01-01 14:08+00'
                              AND labels @> '{"service_name": "checkout"}'), 'cpu', 10);

-- What changed between the healthy window and the bad one.
SELECT function, base_self, target_self, round(change::numeric, 2) AS change
  FROM profile_diff_top(
         (SELECT profile_merge(profile) FROM profiles
           WHERE ts >= '2026-01-01 13:55+00' AND ts < '2026-01-01 14:01+00' AND labels @> '{"service_name": "checkout"}'),
         (SELECT profile_merge(profile) FROM profiles
           WHERE ts >= '2026-01-01 14:03+00' AND ts < '2026-01-01 14:09+00' AND labels @> '{"service_name": "checkout"}'),
         'cpu', 3);

-- Or by version label instead of time.
SELECT function, round(change::numeric, 2) AS change
  FROM profile_diff_top(
         (SELECT profile_merge(profile) FROM profiles WHERE labels @> '{"service_name": "checkout", "version": "v1"}'),
         (SELECT profile_merge(profile) FROM profiles WHERE labels @> '{"service_name": "checkout", "version": "v2"}'),
         'cpu', 1);
