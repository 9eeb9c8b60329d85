# Values, an expression index and a materialized view made under version 0.1.0 of the
# extension read the same after ALTER EXTENSION profile_ext UPDATE and after a restart
# of the server (the library is loaded afresh by every backend after it).
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('upgrade');
$node->init;
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION profile_ext VERSION '0.1.0';
	CREATE TABLE samples (id int PRIMARY KEY, p profile NOT NULL);
	INSERT INTO samples
	SELECT i, profile_from_folded(
		format(E'main;serve;handle_%s %s\nmain;gc %s\nmain;serve;encode %s', i % 7, i, i % 3 + 1, 2 * i),
		'cpu:nanoseconds')
	FROM generate_series(1, 200) i;
	CREATE INDEX samples_total ON samples (profile_total(p));
	CREATE MATERIALIZED VIEW merged AS SELECT profile_merge(p) AS p FROM samples;
});

# What every later step must read again.
my $answers = q{
	SELECT (SELECT count(*) FROM samples),
	       (SELECT sum(profile_total(p)) FROM samples),
	       (SELECT md5(profile_to_folded(p)) FROM merged),
	       (SELECT md5(profile_to_folded(profile_merge(p))) FROM samples),
	       (SELECT md5(string_agg(profile_to_folded(p), '' ORDER BY id)) FROM samples)
};
my $indexed = q{
	SET enable_seqscan = off;
	SELECT count(*) FROM samples WHERE profile_total(p) BETWEEN 100 AND 200;
};
my $before = $node->safe_psql('postgres', $answers);
my $before_indexed = $node->safe_psql('postgres', $indexed);
like($before, qr/^200\|\d+\|[0-9a-f]{32}\|[0-9a-f]{32}\|[0-9a-f]{32}$/, 'version 0.1.0: values stored');
is($node->safe_psql('postgres', q{SELECT to_regproc('profile_store_create') IS NULL}),
	't', 'version 0.1.0 has no profile_store_create');

$node->safe_psql('postgres', 'ALTER EXTENSION profile_ext UPDATE');
is($node->safe_psql('postgres',
		q{SELECT extversion FROM pg_extension WHERE extname = 'profile_ext'}),
	'0.2.0', 'ALTER EXTENSION UPDATE reaches 0.2.0');
is($node->safe_psql('postgres', q{SELECT to_regproc('profile_store_create') IS NOT NULL}),
	't', '0.2.0 functions are there');
is($node->safe_psql('postgres', $answers), $before, 'after the update: the same answers');

$node->restart;
is($node->safe_psql('postgres', $answers), $before, 'after a restart: the same answers');
is($node->safe_psql('postgres', $indexed), $before_indexed,
	'after a restart: the expression index gives the same rows');
$node->safe_psql('postgres', 'REFRESH MATERIALIZED VIEW merged');
is($node->safe_psql('postgres', $answers), $before,
	'the materialized view refreshed by 0.2.0 equals the one 0.1.0 made');
is($node->safe_psql('postgres', q{
	SELECT count(*) FROM samples
	WHERE profile_info(p) ->> 'format_version' IS NULL}), '0', 'every value decodes');

$node->stop;
done_testing();
