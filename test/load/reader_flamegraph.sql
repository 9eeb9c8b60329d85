-- pgbench reader (test/scripts/load.sh): the Grafana flame graph panel's query, one
-- service's CPU profiles of the last two minutes merged into one flame graph.
\set svc random(1, 3)
SELECT count(*), sum(self)
	FROM flamegraph((SELECT profile_merge(profile) FROM load_profiles
					 WHERE ts > now() - interval '2 minutes'
					   AND labels->>'__name__' = 'process_cpu'
					   AND labels->>'service_name' = (ARRAY['checkout', 'cart', 'search'])[:svc]));
