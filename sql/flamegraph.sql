-- flamegraph(): Grafana's nested-set rows, truncation, the row contract.
\set VERBOSITY default

CREATE TABLE fg (p profile);
INSERT INTO fg VALUES (profile_from_folded(E'main;handler;json.Marshal 30\nmain;handler;db.Query 20\nmain;gc 5\nmain 1\nidle 4\n'));

SELECT * FROM flamegraph((SELECT p FROM fg));

-- Truncation keeps the heaviest nodes and folds the rest into "other".
SELECT * FROM flamegraph((SELECT p FROM fg), NULL, 3);
SELECT * FROM flamegraph((SELECT p FROM fg), NULL, 1);
-- 0 and NULL mean no truncation; negative is an error.
SELECT count(*) FROM flamegraph((SELECT p FROM fg), NULL, 0);
SELECT count(*) FROM flamegraph((SELECT p FROM fg), NULL, NULL);
SELECT count(*) FROM flamegraph((SELECT p FROM fg), NULL, -1);
SELECT count(*) FROM flamegraph(NULL);
SELECT * FROM flamegraph((SELECT p FROM fg), 'nope');

-- The contract Grafana relies on, checked on a larger random profile:
-- one root, a row is never more than one level below the row before it,
-- and every row's value is its self plus its children's values.
CREATE TABLE fg_big AS
  SELECT profile_merge(profile_from_folded(format('main;s%s;t%s;u%s %s', g % 3, g % 7, g % 11, g % 5 + 1))) AS p
    FROM generate_series(1, 3000) g;
CREATE FUNCTION check_rows(max_nodes int) RETURNS TABLE(rows bigint, roots bigint, bad_levels bigint, bad_sums bigint)
LANGUAGE sql AS $$
  WITH r AS MATERIALIZED (
    SELECT row_number() OVER () AS i, * FROM flamegraph((SELECT p FROM fg_big), NULL, max_nodes)
  ), parent AS MATERIALIZED (
    -- the parent of row i is the last earlier row one level up
    SELECT c.i, c.value, c.self,
           (SELECT max(p.i) FROM r p WHERE p.i < c.i AND p.level = c.level - 1) AS pi
      FROM r c
  )
  SELECT (SELECT count(*) FROM r),
         (SELECT count(*) FROM r WHERE level = 0),
         (SELECT count(*) FROM r a JOIN r b ON b.i = a.i + 1 WHERE b.level > a.level + 1),
         (SELECT count(*) FROM r x
           WHERE x.value <> x.self + coalesce((SELECT sum(c.value) FROM parent c WHERE c.pi = x.i), 0))
$$;
SELECT * FROM check_rows(0);
SELECT * FROM check_rows(50);
SELECT * FROM check_rows(5);
SELECT count(*) FILTER (WHERE label NOT IN ('other', 'total')) <= 50 AS within_max
  FROM flamegraph((SELECT p FROM fg_big), NULL, 50);
