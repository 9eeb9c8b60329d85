-- flamegraph_svg() and flamegraph_diff_svg(): self-contained SVG flame graphs.
-- The documents are large, so this checks facts about them, not their text.
\set VERBOSITY default

CREATE TABLE svg_p (name text PRIMARY KEY, p profile);
INSERT INTO svg_p VALUES
  ('a', profile_from_folded(E'main;handler;json.Marshal 30\nmain;handler;db.Query 20\nmain;gc 5\nmain 1\nidle 4\n',
                            'cpu:nanoseconds')),
  ('b', profile_from_folded(E'main;handler;json.Marshal 10\nmain;handler;db.Query 40\nmain;gc 5\nidle 5\n',
                            'cpu:nanoseconds')),
  ('esc', profile_from_folded(E'main;<b>&"quoted"''s 7\n')),
  ('mem', profile_from_folded(E'main;alloc 3145728\n', 'alloc_space:bytes'));

CREATE FUNCTION svg_count(s text, needle text) RETURNS int
  LANGUAGE sql IMMUTABLE AS $$ SELECT (length(s) - length(replace(s, needle, ''))) / length(needle) $$;

-- Shape: one <svg> document, a background and one box per node, each box
-- with a tooltip, well-formed XML.
SELECT position('<svg' IN s) = 1 AS starts_with_svg,
       right(s, 7) = E'</svg>\n' AS ends_with_svg,
       svg_count(s, '<svg') AS svgs,
       svg_count(s, '<rect') AS rects,
       svg_count(s, '<g>') AS boxes,
       svg_count(s, '<script') AS scripts,
       xml_is_well_formed_document(s) AS well_formed
  FROM (SELECT flamegraph_svg(p) AS s FROM svg_p WHERE name = 'a') x;

-- Tooltips: full name, unit-aware value, share of the total.
SELECT s LIKE '%<title>json.Marshal' || E'\n' || 'total 30 ns (50.00%), self 30 ns (50.00%)</title>%' AS leaf_tooltip,
       s LIKE '%<title>Flame graph: cpu:nanoseconds, total 60 ns</title>%' AS default_title,
       s LIKE '%width="1200" height="124"%' AS size
  FROM (SELECT flamegraph_svg(p) AS s FROM svg_p WHERE name = 'a') x;
SELECT s LIKE '%<title>alloc' || E'\n' || 'total 3.00 MiB (100.00%), self 3.00 MiB (100.00%)</title>%' AS bytes
  FROM (SELECT flamegraph_svg(p) AS s FROM svg_p WHERE name = 'mem') x;

-- Escaping of names and titles.
SELECT s LIKE '%<title>&lt;b&gt;&amp;&quot;quoted&quot;&#39;s' || E'\n' || '%' AS name_escaped,
       position('<b>' IN s) = 0 AS no_raw_markup,
       s LIKE '%<title>x &lt; y &amp; &quot;z&quot;</title>%' AS title_escaped,
       xml_is_well_formed_document(s) AS well_formed
  FROM (SELECT flamegraph_svg(p, title => 'x < y & "z"') AS s FROM svg_p WHERE name = 'esc') x;

-- max_nodes folds the lightest nodes into "other"; width changes the scale.
SELECT svg_count(s, '<rect') AS rects, s LIKE '%<title>other' || E'\n' || '%' AS has_other
  FROM (SELECT flamegraph_svg(p, max_nodes => 2) AS s FROM svg_p WHERE name = 'a') x;
SELECT s LIKE '%width="100" height="124"%' AS narrow, xml_is_well_formed_document(s) AS well_formed
  FROM (SELECT flamegraph_svg(p, width => 100) AS s FROM svg_p WHERE name = 'a') x;

-- Arguments.
SELECT flamegraph_svg(NULL) IS NULL AS null_profile;
SELECT flamegraph_svg(p, width => 99) FROM svg_p WHERE name = 'a';
SELECT flamegraph_svg(p, width => 100001) FROM svg_p WHERE name = 'a';
SELECT flamegraph_svg(p, max_nodes => -1) FROM svg_p WHERE name = 'a';
SELECT flamegraph_svg(p, 'nope') FROM svg_p WHERE name = 'a';

-- Diff: widths from the target, colours by the change entering at each box.
SELECT s LIKE '%<title>Differential flame graph: cpu:nanoseconds, base 60 ns, target 60 ns</title>%' AS title,
       s LIKE '%<title>json.Marshal' || E'\n' || 'base: total 30 ns (50.00%), self 30 ns (50.00%)' || E'\n' ||
              'target: total 10 ns (16.67%), self 10 ns (16.67%)' || E'\n' ||
              'self share change: -33.33 points' || E'\n' ||
              'change entering here: -33.33 points</title>%' AS tooltip,
       s ~ '<title>json\.Marshal[^<]*</title><rect [^>]*fill="#4678eb"' AS less_is_blue,
       s ~ '<title>db\.Query[^<]*</title><rect [^>]*fill="#eb4637"' AS more_is_red,
       xml_is_well_formed_document(s) AS well_formed
  FROM (SELECT flamegraph_diff_svg(a.p, b.p) AS s FROM svg_p a, svg_p b WHERE a.name = 'a' AND b.name = 'b') x;
-- A NULL side is an empty profile; an empty target is laid out by the base.
SELECT svg_count(s, '<rect') AS rects, s LIKE '%width = base (the target is empty)%' AS by_base
  FROM (SELECT flamegraph_diff_svg(p, NULL) AS s FROM svg_p WHERE name = 'a') x;
SELECT svg_count(s, '<rect') AS rects, s LIKE '%width = target;%' AS by_target
  FROM (SELECT flamegraph_diff_svg(NULL, p) AS s FROM svg_p WHERE name = 'a') x;
SELECT flamegraph_diff_svg(NULL, NULL) IS NULL AS both_null;
SELECT flamegraph_diff_svg(a.p, m.p) FROM svg_p a, svg_p m WHERE a.name = 'a' AND m.name = 'mem';
SELECT flamegraph_diff_svg(p, p, width => 50) FROM svg_p WHERE name = 'a';
