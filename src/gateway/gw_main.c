/*
 * gw_main.c
 *		profile-gateway: receive profiles the way Grafana Pyroscope does
 *		(/ingest, Connect Push) and write them into a profile_ext table.
 *		Options, signals (SIGTERM drains, SIGHUP reloads --config), startup.
 */
#include <errno.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gw_hooks.h"
#include "gw_profile.h"
#include "gw_server.h"

#define GW_VERSION	"0.2.0"

static void
usage(FILE *out)
{
	fprintf(out,
			"profile-gateway receives profiles from Grafana Pyroscope SDKs and Alloy and\n"
			"writes them into a profile_ext table in PostgreSQL.\n"
			"\n"
			"Usage:\n"
			"  profile-gateway --listen ADDR:PORT --dsn DSN [--table NAME] [--config FILE] [OPTION]...\n"
			"\n"
			"Endpoints:\n"
			"  POST /ingest, /pyroscope/ingest     Pyroscope's ingest (pprof, multipart, folded)\n"
			"  POST /push.v1.PusherService/Push    Connect Push (application/proto or /json, gzip)\n"
			"  GET  /metrics                       Prometheus text format\n"
			"  GET  /ready                         200 while the database is reachable, else 503\n"
			"\n"
			"Options:\n"
			"  --listen ADDR:PORT        address to serve on (default 127.0.0.1:4040; [::1]:4040 for IPv6)\n"
			"  --dsn DSN                 libpq connection string or URI (default: libpq's PG* environment)\n"
			"  --table NAME              table or schema.table with columns (ts timestamptz,\n"
			"                            labels jsonb, profile profile) (default profiles)\n"
			"  --config FILE             YAML scrape configuration (scrape_configs); SIGHUP reloads it\n"
			"  --auth-file FILE          require Authorization: lines \"basic USER PASSWORD [TENANT]\"\n"
			"                            or \"bearer TOKEN [TENANT]\"; a TENANT binds the credentials\n"
			"  --tenant-mode             require X-Scope-OrgID (401 without); it is stored as label tenant\n"
			"\n"
			"Limits (defaults are Grafana Pyroscope's):\n"
			"  --max-body-bytes N        request body, decompressed (default %zu); over: 413\n"
			"  --max-profile-bytes N     one profile, decompressed (default %zu); over: 422 / 400\n"
			"  --max-samples N           samples in one profile (default %d); over: 422 / 400\n"
			"  --max-labels N            labels of one series (default %d); over: 400\n"
			"  --max-label-name-length N   bytes (default %d); over: 400\n"
			"  --max-label-value-length N  bytes (default %d); over: 400\n"
			"  --max-sample-labels N     labels on one pprof sample (default %d); over: 422 / 400\n"
			"\n"
			"Batching and connections:\n"
			"  --queue-rows N            rows waiting for the database before 429 (default 10000)\n"
			"  --queue-bytes N           bytes waiting before 429 (default 268435456)\n"
			"  --batch-rows N            most rows in one transaction (default 1000)\n"
			"  --compression-level N     zstd level of stored values, 0-19 (default %d)\n"
			"  --connection-timeout S    close idle or stalled client connections after S seconds (default 30)\n"
			"  --max-connections N       concurrent client connections (default 512)\n"
			"  --drain-timeout S         on SIGTERM, wait S seconds for requests in flight (default 30)\n"
			"  --decode-threads N        requests decoding profiles at once (default 2 per CPU)\n"
			"\n"
			"  --help                    this text\n"
			"  --version                 the version\n"
			"\n"
			"A 200 answer means the rows are committed.  While the database is unreachable\n"
			"requests get 503 and the gateway reconnects by itself.  SIGTERM stops accepting,\n"
			"commits what was acknowledged and exits 0.\n",
			GW_DEFAULT_MAX_BODY_BYTES, GW_DEFAULT_MAX_PROFILE_BYTES, GW_DEFAULT_MAX_SAMPLES,
			GW_DEFAULT_MAX_LABELS, GW_DEFAULT_MAX_LABEL_NAME, GW_DEFAULT_MAX_LABEL_VALUE,
			GW_DEFAULT_MAX_SAMPLE_LABELS, GW_DEFAULT_ZSTD_LEVEL);
}

static unsigned long long
number_arg(const char *opt, const char *v, unsigned long long min, unsigned long long max)
{
	char	   *end;
	unsigned long long n;

	errno = 0;
	n = strtoull(v, &end, 10);
	if (errno || end == v || *end != '\0' || v[0] == '-' || n < min || n > max)
	{
		fprintf(stderr, "profile-gateway: --%s: \"%s\" is not a number from %llu to %llu\n",
				opt, v, min, max);
		exit(2);
	}
	return n;
}

enum
{
	OPT_LISTEN = 256, OPT_DSN, OPT_TABLE, OPT_CONFIG, OPT_AUTH, OPT_TENANT,
	OPT_MAX_BODY, OPT_MAX_PROFILE, OPT_MAX_SAMPLES, OPT_MAX_LABELS, OPT_MAX_NAME,
	OPT_MAX_VALUE, OPT_MAX_SAMPLE_LABELS, OPT_QUEUE_ROWS, OPT_QUEUE_BYTES, OPT_BATCH_ROWS,
	OPT_LEVEL, OPT_CONN_TIMEOUT, OPT_MAX_CONN, OPT_DRAIN, OPT_DECODE, OPT_HELP, OPT_VERSION
};

static const struct option long_options[] = {
	{"listen", required_argument, NULL, OPT_LISTEN},
	{"dsn", required_argument, NULL, OPT_DSN},
	{"table", required_argument, NULL, OPT_TABLE},
	{"config", required_argument, NULL, OPT_CONFIG},
	{"auth-file", required_argument, NULL, OPT_AUTH},
	{"tenant-mode", no_argument, NULL, OPT_TENANT},
	{"max-body-bytes", required_argument, NULL, OPT_MAX_BODY},
	{"max-profile-bytes", required_argument, NULL, OPT_MAX_PROFILE},
	{"max-samples", required_argument, NULL, OPT_MAX_SAMPLES},
	{"max-labels", required_argument, NULL, OPT_MAX_LABELS},
	{"max-label-name-length", required_argument, NULL, OPT_MAX_NAME},
	{"max-label-value-length", required_argument, NULL, OPT_MAX_VALUE},
	{"max-sample-labels", required_argument, NULL, OPT_MAX_SAMPLE_LABELS},
	{"queue-rows", required_argument, NULL, OPT_QUEUE_ROWS},
	{"queue-bytes", required_argument, NULL, OPT_QUEUE_BYTES},
	{"batch-rows", required_argument, NULL, OPT_BATCH_ROWS},
	{"compression-level", required_argument, NULL, OPT_LEVEL},
	{"connection-timeout", required_argument, NULL, OPT_CONN_TIMEOUT},
	{"max-connections", required_argument, NULL, OPT_MAX_CONN},
	{"drain-timeout", required_argument, NULL, OPT_DRAIN},
	{"decode-threads", required_argument, NULL, OPT_DECODE},
	{"help", no_argument, NULL, OPT_HELP},
	{"version", no_argument, NULL, OPT_VERSION},
	{NULL, 0, NULL, 0}
};

int
main(int argc, char **argv)
{
	const char *listen_addr = "127.0.0.1:4040";
	const char *config = NULL;
	const char *auth_file = NULL;
	GwBatchOptions bopt = {0};
	GwServer	srv;
	char		err[512];
	int			drain_s = 30;
	int			c;
	sigset_t	sigs;
	void	   *scrape = NULL;
	long		ncpu = sysconf(_SC_NPROCESSORS_ONLN);
	unsigned	decode_threads = ncpu > 0 ? (unsigned) ncpu * 2 : 4;

	memset(&srv, 0, sizeof(srv));
	gw_limits_default(&srv.limits);
	srv.connection_timeout = 30;
	srv.max_connections = 512;
	bopt.dsn = "";
	bopt.table = "profiles";
	bopt.queue_rows = 10000;
	bopt.queue_bytes = (size_t) 256 << 20;
	bopt.batch_rows = 1000;

	while ((c = getopt_long(argc, argv, "h", long_options, NULL)) != -1)
	{
		switch (c)
		{
			case OPT_LISTEN: listen_addr = optarg; break;
			case OPT_DSN: bopt.dsn = optarg; break;
			case OPT_TABLE: bopt.table = optarg; break;
			case OPT_CONFIG: config = optarg; break;
			case OPT_AUTH: auth_file = optarg; break;
			case OPT_TENANT: srv.tenant_mode = true; break;
			case OPT_MAX_BODY: srv.limits.max_body_bytes = number_arg("max-body-bytes", optarg, 1, SIZE_MAX / 2); break;
			case OPT_MAX_PROFILE: srv.limits.max_profile_bytes = number_arg("max-profile-bytes", optarg, 1, SIZE_MAX / 2); break;
			case OPT_MAX_SAMPLES: srv.limits.max_samples = number_arg("max-samples", optarg, 1, UINT64_MAX); break;
			case OPT_MAX_LABELS: srv.limits.max_labels = number_arg("max-labels", optarg, 2, UINT32_MAX); break;
			case OPT_MAX_NAME: srv.limits.max_label_name = number_arg("max-label-name-length", optarg, 8, UINT32_MAX); break;
			case OPT_MAX_VALUE: srv.limits.max_label_value = number_arg("max-label-value-length", optarg, 1, UINT32_MAX); break;
			case OPT_MAX_SAMPLE_LABELS: srv.limits.max_sample_labels = number_arg("max-sample-labels", optarg, 1, UINT32_MAX); break;
			case OPT_QUEUE_ROWS: bopt.queue_rows = number_arg("queue-rows", optarg, 1, SIZE_MAX / 2); break;
			case OPT_QUEUE_BYTES: bopt.queue_bytes = number_arg("queue-bytes", optarg, 1, SIZE_MAX / 2); break;
			case OPT_BATCH_ROWS: bopt.batch_rows = number_arg("batch-rows", optarg, 1, 1000000); break;
			case OPT_LEVEL: srv.limits.zstd_level = (int) number_arg("compression-level", optarg, 0, 19); break;
			case OPT_CONN_TIMEOUT: srv.connection_timeout = (unsigned) number_arg("connection-timeout", optarg, 1, 86400); break;
			case OPT_MAX_CONN: srv.max_connections = (unsigned) number_arg("max-connections", optarg, 1, 100000); break;
			case OPT_DRAIN: drain_s = (int) number_arg("drain-timeout", optarg, 0, 86400); break;
			case OPT_DECODE: decode_threads = (unsigned) number_arg("decode-threads", optarg, 1, 4096); break;
			case 'h':
			case OPT_HELP: usage(stdout); return 0;
			case OPT_VERSION: printf("profile-gateway %s\n", GW_VERSION); return 0;
			default:
				fprintf(stderr, "Try \"profile-gateway --help\" for more information.\n");
				return 2;
		}
	}
	if (optind < argc)
	{
		fprintf(stderr, "profile-gateway: unexpected argument \"%s\"\n", argv[optind]);
		return 2;
	}

	/* signals go to the main thread only (sigwait below); threads inherit the mask */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&sigs);
	sigaddset(&sigs, SIGTERM);
	sigaddset(&sigs, SIGINT);
	sigaddset(&sigs, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &sigs, NULL);

	if (auth_file && (srv.auth = gw_auth_load(auth_file, err, sizeof(err))) == NULL)
	{
		fprintf(stderr, "profile-gateway: %s\n", err);
		return 2;
	}
	if (config && !gw_scrape_main_start)
	{
		fprintf(stderr, "profile-gateway: --config: this build has no scraper\n");
		return 2;
	}
	gw_profile_set_concurrency(decode_threads);
	srv.metrics = gw_metrics_new();
	if (srv.metrics == NULL)
	{
		fprintf(stderr, "profile-gateway: out of memory\n");
		return 1;
	}
	gw_metrics_counter(srv.metrics, "profile_gateway_profiles_received_total",
					   "Profiles received, by path.");
	gw_metrics_counter(srv.metrics, "profile_gateway_received_bytes_total",
					   "Request body bytes received (as sent), by path.");
	bopt.metrics = srv.metrics;
	srv.batcher = gw_batch_start(&bopt, err, sizeof(err));
	if (srv.batcher == NULL)
	{
		fprintf(stderr, "profile-gateway: %s\n", err);
		return 2;
	}
	if (!gw_server_start(&srv, listen_addr, err, sizeof(err)))
	{
		fprintf(stderr, "profile-gateway: %s\n", err);
		gw_batch_stop(srv.batcher);
		return 1;
	}
	if (config)
	{
		scrape = gw_scrape_main_start(config, srv.batcher, srv.metrics, &srv.limits,
									  err, sizeof(err));
		if (scrape == NULL)
		{
			fprintf(stderr, "profile-gateway: --config %s: %s\n", config, err);
			gw_server_stop(&srv, 0);
			gw_batch_stop(srv.batcher);
			return 2;
		}
	}
	fprintf(stderr, "profile-gateway %s: listening on %s, writing to table %s\n",
			GW_VERSION, listen_addr, bopt.table);

	for (;;)
	{
		int			sig = 0;

		if (sigwait(&sigs, &sig) != 0)
			continue;
		if (sig == SIGHUP)
		{
			if (scrape && gw_scrape_main_reload &&
				!gw_scrape_main_reload(scrape, config, err, sizeof(err)))
				fprintf(stderr, "profile-gateway: reloading %s failed, keeping the running configuration: %s\n",
						config, err);
			else if (scrape)
				fprintf(stderr, "profile-gateway: reloaded %s\n", config);
			continue;
		}
		break;
	}

	fprintf(stderr, "profile-gateway: draining\n");
	if (scrape && gw_scrape_main_stop)
		gw_scrape_main_stop(scrape);
	gw_server_stop(&srv, drain_s);
	gw_batch_stop(srv.batcher);
	gw_auth_free(srv.auth);
	gw_metrics_free(srv.metrics);
	fprintf(stderr, "profile-gateway: stopped\n");
	return 0;
}
