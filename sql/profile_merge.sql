-- profile_merge: sums per stack, pprof header rules, NULLs, parallel plans.
\set VERBOSITY default

CREATE TABLE merge_in (id int, svc text, p profile);
INSERT INTO merge_in VALUES
  (1, 'checkout', profile_from_folded(E'main;a 10\nmain;b 5\n', 'cpu:nanoseconds')),
  (2, 'checkout', profile_from_folded(E'main;a 1\nmain;c 2\n', 'cpu:nanoseconds')),
  (3, 'checkout', NULL),
  (4, 'cart', profile_from_folded(E'main;x 7\n', 'cpu:nanoseconds'));

SELECT svc, profile_to_folded(profile_merge(p)) FROM merge_in GROUP BY svc ORDER BY svc;
SELECT profile_total(profile_merge(p)) FROM merge_in;
-- No rows, or only NULLs: NULL.
SELECT profile_merge(p) IS NULL AS no_rows FROM merge_in WHERE false;
SELECT profile_merge(p) IS NULL AS only_nulls FROM merge_in WHERE id = 3;

-- Profiles of different kinds do not merge.
SELECT profile_merge(p) FROM (VALUES (profile_from_folded('a 1', 'cpu:nanoseconds')),
                                     (profile_from_folded('a 1', 'alloc_space:bytes'))) v(p);

-- Merging one profile 10,000 times keeps the tree of one profile.
SELECT profile_info(profile_merge(p))->'nodes' AS nodes, profile_total(profile_merge(p)) AS total
  FROM merge_in, generate_series(1, 10000) WHERE id = 1;

-- Overflow is an error, not a wrapped number.
SELECT profile_merge(p) FROM (VALUES (profile_from_folded('a 9223372036854775807')),
                                     (profile_from_folded('a 1'))) v(p);

-- A forced parallel plan gives the same bytes as the serial one.
CREATE TABLE merge_big AS
  SELECT g AS id, profile_from_folded(format(E'main;f%s;g%s 1\nmain;h 2\n', g % 97, g % 13)) AS p
    FROM generate_series(1, 20000) g;
ANALYZE merge_big;
SET parallel_setup_cost = 0;
SET parallel_tuple_cost = 0;
SET min_parallel_table_scan_size = 0;
SET max_parallel_workers_per_gather = 2;
EXPLAIN (COSTS OFF) SELECT profile_merge(p) FROM merge_big;
SELECT md5(profile_send(profile_merge(p))) AS par_md5 FROM merge_big \gset
RESET parallel_setup_cost;
RESET parallel_tuple_cost;
RESET min_parallel_table_scan_size;
SET max_parallel_workers_per_gather = 0;
EXPLAIN (COSTS OFF) SELECT profile_merge(p) FROM merge_big;
SELECT md5(profile_send(profile_merge(p))) AS ser_md5, profile_total(profile_merge(p)) AS total FROM merge_big \gset
RESET max_parallel_workers_per_gather;
SELECT :'par_md5' = :'ser_md5' AS parallel_equals_serial, :total AS total;
