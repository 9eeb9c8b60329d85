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

-- What got more expensive: the regressed function comes first.
SELECT function, base_self, target_self, round(change::numeric, 2) AS change
  FROM profile_diff_top((SELECT p FROM windows WHERE name = 'before'),
                        (SELECT p FROM windows WHERE name = 'after'));
SELECT function, base_self, target_self, change
  FROM profile_diff_top((SELECT p FROM windows WHERE name = 'before'),
                        (SELECT p FROM windows WHERE name = 'after'), NULL, 3, false);

-- A NULL side is an empty profile: everything is new (or removed).
SELECT * FROM flamegraph_diff(NULL, (SELECT p FROM windows WHERE name = 'after'), NULL, 3);
SELECT profile_to_folded(profile_diff((SELECT p FROM windows WHERE name = 'before'), NULL));
SELECT profile_diff(NULL, NULL) IS NULL AS both_null;

-- Different kinds of profile cannot be compared.
SELECT * FROM flamegraph_diff((SELECT p FROM windows WHERE name = 'before'),
                              profile_from_folded('main 1', 'alloc_space:bytes'));
SELECT * FROM profile_diff_top((SELECT p FROM windows WHERE name = 'before'),
                               profile_from_folded('main 1', 'alloc_space:bytes'));
