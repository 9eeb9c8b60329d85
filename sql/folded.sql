-- Folded stacks in and out: exact round trips, errors with line numbers.
\set VERBOSITY default

-- Canonical folded text comes back byte for byte.
SELECT profile_to_folded(profile_from_folded(E'a;b;c 3\na;b 2\na;d 1\n')) = E'a;b 2\na;b;c 3\na;d 1\n' AS exact;
-- Any order, duplicates and CRLF fold into the canonical form.
SELECT profile_to_folded(profile_from_folded(E'a;d 1\r\na;b;c 1\n\na;b;c 2\na;b 2\n'));
-- A profile survives folded text unchanged.
SELECT profile_send(p) = profile_send(profile_from_folded(profile_to_folded(p))) AS same_bytes
  FROM (SELECT profile_from_folded(E'main;x 5\nmain;y;z 7\nmain 1\n') AS p) s;
-- Several sample types: one value each per line.
SELECT profile_to_folded(p, 'alloc_space'), profile_total(p, 'alloc_objects')
  FROM (SELECT profile_from_folded(E'main;alloc 3 4096\nmain;other 1 64\n',
                                   'alloc_objects:count,alloc_space:bytes') AS p) s;
-- Errors name the line.
SELECT profile_from_folded(E'a;b 1\na;b\n');
SELECT profile_from_folded(E'a;b 1\n\na;;b 2\n');
SELECT profile_from_folded(E'a;b x\n');
-- Frames may contain spaces: the value is the last token (as flamegraph.pl reads it).
SELECT profile_to_folded(profile_from_folded(E'a;b 1 2\n'));
SELECT profile_from_folded('a 1', 'samples:');

-- A 100,000-frame stack goes through every reader without recursion.
CREATE TABLE deep AS SELECT profile_from_folded(repeat('f;', 99999) || 'leaf 1') AS p;
SELECT count(*), max(level) FROM flamegraph((SELECT p FROM deep), NULL, 0);
SELECT count(*) FROM flamegraph((SELECT p FROM deep));
SELECT * FROM profile_top((SELECT p FROM deep));
SELECT length(profile_to_folded(p)) FROM deep;
SELECT profile_total(profile_merge(p)) FROM (SELECT p FROM deep UNION ALL SELECT p FROM deep) s;
SELECT profile_total(profile_from_pprof(profile_to_pprof(p))) FROM deep;
-- a NULL sample type is the default one; NULL text is NULL
SELECT profile_sample_types(profile_from_folded('a;b 1', NULL));
SELECT profile_from_folded(NULL) IS NULL AS null_in_null_out;
