-- pgbench reader (test/scripts/load.sh): the diff panel's query, one service's CPU in the
-- last minute against the three minutes before it.
\set svc random(1, 3)
SELECT count(*), sum("selfRight") - sum(self)
	FROM flamegraph_diff(
		(SELECT profile_merge(profile) FROM load_profiles
		 WHERE ts >= now() - interval '4 minutes' AND ts < now() - interval '1 minute'
		   AND labels->>'__name__' = 'process_cpu'
		   AND labels->>'service_name' = (ARRAY['checkout', 'cart', 'search'])[:svc]),
		(SELECT profile_merge(profile) FROM load_profiles
		 WHERE ts >= now() - interval '1 minute'
		   AND labels->>'__name__' = 'process_cpu'
		   AND labels->>'service_name' = (ARRAY['checkout', 'cart', 'search'])[:svc]));
