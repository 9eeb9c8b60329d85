# kill -9 of a backend in the middle of a profile_merge: the postmaster restarts every
# backend (crash recovery); afterwards the stored values, their index and the merge are
# the same as before, and the server log names the killed process.
use strict;
use warnings;
use PostgreSQL::Test::Cluster;
use PostgreSQL::Test::Utils;
use IPC::Run;
use Time::HiRes qw(usleep);
use Test::More;

my $node = PostgreSQL::Test::Cluster->new('backend_kill');
$node->init;
# PostgreSQL::Test::Cluster switches this off; it is on by default in a real server.
$node->append_conf('postgresql.conf', 'restart_after_crash = on');
$node->start;

$node->safe_psql('postgres', q{
	CREATE EXTENSION profile_ext;
	CREATE TABLE samples (id int PRIMARY KEY, p profile NOT NULL);
	INSERT INTO samples
	SELECT i, profile_from_folded(string_agg(
		format('main;serve;route_%s;handler_%s;leaf_%s %s', i % 13, (i * j) % 97, j, j), E'\n'),
		'cpu:nanoseconds')
	FROM generate_series(1, 400) i, generate_series(1, 50) j GROUP BY i;
	CREATE INDEX samples_total ON samples (profile_total(p));
});
my $answers = q{
	SELECT count(*), sum(profile_total(p)), md5(profile_to_folded(profile_merge(p)))
	FROM samples
};
my $before = $node->safe_psql('postgres', $answers);

# A merge long enough to be caught running: every value, many times over.
my ($out, $err) = ('', '');
my $merge = IPC::Run::start(
	[ 'psql', '-X', '-At', '-d', $node->connstr('postgres'), '-c',
	  q{SELECT profile_total(profile_merge(s.p)) FROM samples s, generate_series(1, 200)} ],
	'>', \$out, '2>', \$err);
my $pid;
for (1 .. 600)
{
	$pid = $node->safe_psql('postgres', q{
		SELECT pid FROM pg_stat_activity
		WHERE state = 'active' AND query LIKE '%profile_merge(s.p)%' AND pid <> pg_backend_pid()});
	last if $pid ne '';
	usleep(50_000);
}
isnt($pid, '', "the merging backend is running (pid $pid)");
usleep(200_000);    # well inside the merge
my $offset = -s $node->logfile;
ok(kill('KILL', $pid), 'kill -9 of the merging backend');
$merge->finish;
isnt($? >> 8, 0, 'the merge fails');
like($err, qr/server closed the connection unexpectedly|terminating connection/,
	'the client is told the connection was lost');

ok($node->poll_query_until('postgres', 'SELECT 1', '1'), 'the server accepts connections again');
ok($node->log_contains(qr/server process \(PID $pid\) was terminated by signal 9/, $offset),
	'the server log names the killed backend');
ok($node->log_contains(qr/all server processes terminated; reinitializing/, $offset),
	'the postmaster restarted every backend');
is($node->safe_psql('postgres', $answers), $before, 'after recovery: the same answers');
is($node->safe_psql('postgres', q{
	SET enable_seqscan = off;
	SELECT count(*) FROM samples WHERE profile_total(p) > 0}), '400',
	'the expression index still finds every row');
is($node->safe_psql('postgres', q{SELECT count(*) FROM samples WHERE profile_info(p) IS NULL}),
	'0', 'every value decodes');

$node->stop;
done_testing();
