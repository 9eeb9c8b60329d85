-- Comparing two windows: flamegraph_diff(), profile_diff(), profile_diff_top().
\set VERBOSITY default

CREATE TABLE windows (name text, p profile);
INSERT INTO windows VALUES
  ('before', profile_from_folded(E'main;handler;json.Marshal 10\nmain;handler;db.Query 50\nmain;gc 10\nmain;old 5\n', 'cpu:nanoseconds')),
  ('after',  profile_from_folded(E'main;handler;json.Marshal 80\nmain;handler;db.Query 50\nmain;gc 12\nmain;new 3\n', 'cpu:nanoseconds'));

SELECT * FROM flamegraph_diff((SELECT p FROM windows WHERE name = 'before'),
                              (SELECT p FROM windows WHERE name = 'after'));
SELECT * FROM flamegraph_diff((SELECT p FROM windows WHERE name = 'before'),
                              (SELECT p FROM windows WHERE name = 'after'), NULL, 2);

-- target minus base, with signed values.
SELECT profile_to_folded(profile_diff((SELECT p FROM windows WHERE name = 'before'),
                                      (SELECT p FROM windows WHERE name = 'after')));
SELECT * FROM profile_top(profile_diff((SELECT p FROM windows WHERE name = 'before'),
                                       (SELECT p FROM windows WHERE name = 'after')));

-- What got more expensive: the regressed function comes first, increases before decreases.
SELECT function, base_self, target_self, round(change::numeric, 2) AS change,
       round(score::numeric, 2) AS score
  FROM profile_diff_top((SELECT p FROM windows WHERE name = 'before'),
                        (SELECT p FROM windows WHERE name = 'after'));
SELECT function, base_self, target_self, change, round(score::numeric, 2) AS score
  FROM profile_diff_top((SELECT p FROM windows WHERE name = 'before'),
                        (SELECT p FROM windows WHERE name = 'after'), NULL, 3, false);
-- Decreases first, and 0.1.0's order (largest change of self cost either way).
SELECT function, round(score::numeric, 2) AS score
  FROM profile_diff_top((SELECT p FROM windows WHERE name = 'before'),
                        (SELECT p FROM windows WHERE name = 'after'), ranking => 'decrease');
SELECT function, round(change::numeric, 2) AS change
  FROM profile_diff_top((SELECT p FROM windows WHERE name = 'before'),
                        (SELECT p FROM windows WHERE name = 'after'), ranking => 'self');
SELECT * FROM profile_diff_top((SELECT p FROM windows WHERE name = 'before'),
                               (SELECT p FROM windows WHERE name = 'after'), ranking => 'fastest');

-- A new function that marshals once per item: its cost is in json.Marshal's callees, spread
-- thin.  The new function is named, not main or handler (which grew as much) nor the callees.
SELECT function, round(total_change::numeric, 2) AS total_change, round(score::numeric, 2) AS score
  FROM profile_diff_top(
         profile_from_folded(E'main;handler;load 300\nmain;handler;respond;json.Marshal;reflect 50\n'
                             'main;handler;respond;json.Marshal;mallocgc 50\nmain;gc;memclr 100\n'),
         profile_from_folded(E'main;handler;load 300\nmain;handler;respond;json.Marshal;reflect 50\n'
                             'main;handler;respond;json.Marshal;mallocgc 50\nmain;gc;memclr 100\n'
                             'main;handler;encodeEach;json.Marshal;reflect 60\n'
                             'main;handler;encodeEach;json.Marshal;mallocgc 60\n'
                             'main;handler;encodeEach;json.Marshal;memclr 60\n'), NULL, 4);

-- A NULL side is an empty profile: everything is new (or removed).
SELECT * FROM flamegraph_diff(NULL, (SELECT p FROM windows WHERE name = 'after'), NULL, 3);
SELECT profile_to_folded(profile_diff((SELECT p FROM windows WHERE name = 'before'), NULL));
SELECT profile_diff(NULL, NULL) IS NULL AS both_null;

-- Different kinds of profile cannot be compared.
SELECT * FROM flamegraph_diff((SELECT p FROM windows WHERE name = 'before'),
                              profile_from_folded('main 1', 'alloc_space:bytes'));
SELECT * FROM profile_diff_top((SELECT p FROM windows WHERE name = 'before'),
                               profile_from_folded('main 1', 'alloc_space:bytes'));
