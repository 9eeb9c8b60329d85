-- profile_top() and profile_filter().
\set VERBOSITY default

CREATE TABLE tf (p profile);
INSERT INTO tf VALUES (profile_from_folded(E'main;a;b;a;b 10\nmain;a 3\nmain;c;b 4\nmain 1\n'));

-- total counts a function once per stack, even when it recurses.
SELECT * FROM profile_top((SELECT p FROM tf));
SELECT * FROM profile_top((SELECT p FROM tf), NULL, 2);
SELECT * FROM profile_top((SELECT p FROM tf), NULL, -1);

-- focus keeps stacks through a matching frame; ignore drops them.
SELECT profile_to_folded(profile_filter(p, focus => '^c$')) FROM tf;
SELECT profile_to_folded(profile_filter(p, ignore => '^c$')) FROM tf;
SELECT profile_to_folded(profile_filter(p, '^a$', '^c')) FROM tf;
-- Unanchored patterns match anywhere in the name, as in pprof.
SELECT profile_to_folded(profile_filter(p, 'ai')) FROM tf;
SELECT profile_to_folded(profile_filter(p)) = profile_to_folded(p) AS no_filter_is_identity FROM tf;
SELECT profile_filter(p, '(') FROM tf;
