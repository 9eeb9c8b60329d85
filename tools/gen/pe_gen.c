/*
 * pe_gen.c
 *		Synthetic continuous-profiling data for profile_ext demos and
 *		benchmarks: a small fleet's CPU and heap profiles as real gzipped
 *		pprof, deterministic for given arguments.
 *
 * The fleet: services checkout (Go), cart (Python) and search (Java), each
 * with --pods pods in each of --regions regions.  Every --cpu-interval
 * seconds each pod sends a CPU profile (samples/count, cpu/nanoseconds,
 * about --samples samples), every --heap-interval seconds a Go-style heap
 * profile (alloc_objects, alloc_space, inuse_objects, inuse_space).
 * Labels: __name__ (process_cpu or memory), service_name, region, version,
 * pod.
 *
 * Two incidents are planted:
 *  - at --deploy-minute (default 32: 14:02 with the default start) checkout
 *    switches from version v1 to v2 on all pods; v2 marshals every order
 *    item to JSON on its own (N+1), so a new hot path
 *    order.(*Handler).renderItems -> encoding/json.Marshal appears and
 *    checkout's CPU climbs over the next ten minutes;
 *  - cart leaks through one allocation site (cart.session.store:
 *    Store.remember): its inuse_space grows linearly from the start while
 *    every other site stays flat, with noise.
 *
 * Output: a PostgreSQL binary COPY stream on stdout, rows (ts timestamptz,
 * labels jsonb, profile) for
 *		COPY t (ts, labels, profile) FROM STDIN WITH (FORMAT binary)
 * or, with --out-dir, one .pb.gz file per profile plus index.tsv.
 */
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gen_model.h"

#define MAX_SERVICES	3
#define MAX_REGIONS		4
#define MAX_PODS		64
#define PG_EPOCH_UNIX	946684800LL	/* 2000-01-01 00:00:00 UTC */

typedef struct ServiceDef
{
	const char *name;
	GenLang		lang;
	const char *version;		/* before the deploy */
	const char *new_version;	/* after it (NULL: no deploy) */
} ServiceDef;

static const ServiceDef service_defs[MAX_SERVICES] = {
	{"checkout", LANG_GO, "v1", "v2"},
	{"cart", LANG_PYTHON, "v1.14.2", NULL},
	{"search", LANG_JAVA, "v3.2.0", NULL},
};

static const char *const region_names[MAX_REGIONS] = {
	"eu-west-1", "us-east-1", "ap-south-1", "us-west-2"
};

typedef struct Options
{
	int64_t		start;			/* unix seconds */
	int64_t		seconds;		/* length of the time range */
	int64_t		count;			/* stop after this many profiles (0: range) */
	int			services[MAX_SERVICES];
	int			nservices;
	int			regions;
	int			pods;
	int			cpu_interval;
	int			heap_interval;
	int			samples;
	int			stacks;
	int			deploy_minute;
	int			gzip_level;
	uint64_t	seed;
	bool		cpu;
	bool		heap;
	bool		quiet;
	const char *out_dir;
} Options;

/* Everything about one pod that stays fixed */
typedef struct Pod
{
	int			service;
	int			region;
	int			index;
	double		load;			/* relative traffic */
	double		phase;
	double		leak_offset;	/* cart: bytes leaked before the range */
} Pod;

typedef struct Output
{
	FILE	   *copy;			/* binary COPY stream, or NULL */
	FILE	   *index;			/* --out-dir: index.tsv */
	const char *dir;
	uint64_t	profiles;
	uint64_t	cpu_profiles;
	uint64_t	heap_profiles;
	uint64_t	bytes;
	double		started;
	double		last_report;
	bool		tty;
	bool		quiet;
} Output;

static double
now_seconds(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec + ts.tv_nsec / 1e9;
}

static void
usage(FILE *f)
{
	fprintf(f,
			"usage: pe_gen [options] > copy-stream   |   pe_gen --out-dir DIR [options]\n"
			"Synthetic fleet profiles (gzipped pprof) with two planted incidents.\n"
			"  --start 'YYYY-MM-DD HH:MM:SS'  first profile, UTC (2026-01-01 13:30:00)\n"
			"  --minutes N | --hours N        length of the range (60 minutes)\n"
			"  --count N                      exactly N profiles (the range grows as needed)\n"
			"  --services LIST                comma-separated subset of checkout,cart,search\n"
			"  --regions N (2, max 4)  --pods N per service and region (3)\n"
			"  --cpu-interval S (10)  --heap-interval S (60)  --no-cpu  --no-heap\n"
			"  --samples N   CPU samples per profile (650)\n"
			"  --stacks N    distinct CPU stacks per service (3000)\n"
			"  --deploy-minute M  minute of the checkout v2 deploy (32)\n"
			"  --seed N (1)  --gzip-level N (1)  --quiet\n"
			"  --out-dir DIR  write DIR/<ts>_<kind>_<pod>.pb.gz and DIR/index.tsv\n"
			"                 instead of a binary COPY stream on stdout\n"
			"  --print-incidents  print the incidents' function names and exit\n");
}

static void
die(const char *msg, const char *arg)
{
	fprintf(stderr, "pe_gen: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	exit(2);
}

static int64_t
parse_int(const char *s, int64_t lo, int64_t hi, const char *what)
{
	char	   *end;
	long long	v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || *end || end == s || v < lo || v > hi)
		die("invalid value for", what);
	return v;
}

static int64_t
parse_time(const char *s)
{
	struct tm	tm = {0};

	if (sscanf(s, "%d-%d-%d%*[ T]%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday,
			   &tm.tm_hour, &tm.tm_min, &tm.tm_sec) != 6)
		die("invalid --start (want 'YYYY-MM-DD HH:MM:SS')", s);
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t) timegm(&tm);
}

static void
parse_services(Options *o, const char *list)
{
	char	   *copy = strdup(list);
	char	   *save = NULL;

	o->nservices = 0;
	for (char *tok = strtok_r(copy, ",", &save); tok; tok = strtok_r(NULL, ",", &save))
	{
		int			found = -1;

		for (int i = 0; i < MAX_SERVICES; i++)
			if (strcmp(tok, service_defs[i].name) == 0)
				found = i;
		if (found < 0)
			die("unknown service (want checkout, cart, search)", tok);
		for (int i = 0; i < o->nservices; i++)
			if (o->services[i] == found)
				found = -1;
		if (found >= 0)
			o->services[o->nservices++] = found;
	}
	free(copy);
	if (o->nservices == 0)
		die("no services", list);
}

static void
parse_options(Options *o, int argc, char **argv)
{
	static const struct option longopts[] = {
		{"start", required_argument, NULL, 's'},
		{"minutes", required_argument, NULL, 'm'},
		{"hours", required_argument, NULL, 'H'},
		{"count", required_argument, NULL, 'n'},
		{"services", required_argument, NULL, 'S'},
		{"regions", required_argument, NULL, 'r'},
		{"pods", required_argument, NULL, 'p'},
		{"cpu-interval", required_argument, NULL, 'c'},
		{"heap-interval", required_argument, NULL, 'h'},
		{"samples", required_argument, NULL, 'x'},
		{"stacks", required_argument, NULL, 'k'},
		{"deploy-minute", required_argument, NULL, 'd'},
		{"seed", required_argument, NULL, 'e'},
		{"gzip-level", required_argument, NULL, 'z'},
		{"out-dir", required_argument, NULL, 'o'},
		{"no-cpu", no_argument, NULL, 'C'},
		{"no-heap", no_argument, NULL, 'M'},
		{"quiet", no_argument, NULL, 'q'},
		{"print-incidents", no_argument, NULL, 'I'},
		{"help", no_argument, NULL, 'u'},
		{NULL, 0, NULL, 0}
	};
	int			c;

	*o = (Options)
	{
		.start = parse_time("2026-01-01 13:30:00"),
			.seconds = 3600, .nservices = 3, .services = {0, 1, 2},
			.regions = 2, .pods = 3, .cpu_interval = 10, .heap_interval = 60,
			.samples = 650, .stacks = 3000, .deploy_minute = 32, .gzip_level = 1,
			.seed = 1, .cpu = true, .heap = true,
	};
	while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1)
	{
		switch (c)
		{
			case 's':
				o->start = parse_time(optarg);
				break;
			case 'm':
				o->seconds = 60 * parse_int(optarg, 1, 1000000, "--minutes");
				break;
			case 'H':
				o->seconds = 3600 * parse_int(optarg, 1, 100000, "--hours");
				break;
			case 'n':
				o->count = parse_int(optarg, 1, INT64_MAX, "--count");
				break;
			case 'S':
				parse_services(o, optarg);
				break;
			case 'r':
				o->regions = (int) parse_int(optarg, 1, MAX_REGIONS, "--regions");
				break;
			case 'p':
				o->pods = (int) parse_int(optarg, 1, MAX_PODS, "--pods");
				break;
			case 'c':
				o->cpu_interval = (int) parse_int(optarg, 1, 86400, "--cpu-interval");
				break;
			case 'h':
				o->heap_interval = (int) parse_int(optarg, 1, 86400, "--heap-interval");
				break;
			case 'x':
				o->samples = (int) parse_int(optarg, 1, 10000000, "--samples");
				break;
			case 'k':
				o->stacks = (int) parse_int(optarg, 10, 1000000, "--stacks");
				break;
			case 'd':
				o->deploy_minute = (int) parse_int(optarg, 0, 10000000, "--deploy-minute");
				break;
			case 'e':
				o->seed = (uint64_t) parse_int(optarg, 0, INT64_MAX, "--seed");
				break;
			case 'z':
				o->gzip_level = (int) parse_int(optarg, 0, 9, "--gzip-level");
				break;
			case 'o':
				o->out_dir = optarg;
				break;
			case 'C':
				o->cpu = false;
				break;
			case 'M':
				o->heap = false;
				break;
			case 'q':
				o->quiet = true;
				break;
			case 'I':
				printf("regression_function\t%s\n", GEN_REGRESSION_FUNCTION);
				printf("regression_caller\t%s\n", GEN_REGRESSION_CALLER);
				printf("leak_function\t%s\n", GEN_LEAK_FUNCTION);
				exit(0);
			case 'u':
				usage(stdout);
				exit(0);
			default:
				usage(stderr);
				exit(2);
		}
	}
	if (optind < argc)
		die("unexpected argument", argv[optind]);
	if (!o->cpu && !o->heap)
		die("--no-cpu and --no-heap leave nothing to generate", NULL);
}

/* --- output ------------------------------------------------------------- */

static void
put_be16(FILE *f, uint16_t v)
{
	uint8_t		b[2] = {v >> 8, v & 0xff};

	fwrite(b, 1, 2, f);
}

static void
put_be32(FILE *f, uint32_t v)
{
	uint8_t		b[4] = {v >> 24, (v >> 16) & 0xff, (v >> 8) & 0xff, v & 0xff};

	fwrite(b, 1, 4, f);
}

static void
put_be64(FILE *f, uint64_t v)
{
	put_be32(f, (uint32_t) (v >> 32));
	put_be32(f, (uint32_t) v);
}

static void
report_progress(Output *out, bool final)
{
	double		t = now_seconds();
	double		elapsed = t - out->started;
	double		mb = out->bytes / 1048576.0;

	if (out->quiet || (!final && t - out->last_report < (out->tty ? 0.5 : 5.0)))
		return;
	out->last_report = t;
	if (elapsed <= 0)
		elapsed = 1e-9;
	fprintf(stderr, "%spe_gen: %llu profiles (%llu cpu, %llu heap), %.1f MB gzipped pprof, "
			"%.0f profiles/s, %.1f MB/s%s",
			out->tty ? "\r" : "", (unsigned long long) out->profiles,
			(unsigned long long) out->cpu_profiles, (unsigned long long) out->heap_profiles,
			mb, out->profiles / elapsed, mb / elapsed,
			out->tty && !final ? "" : "\n");
}

/* One row: ts, labels, profile bytes */
static void
emit(Output *out, int64_t unix_seconds, const char *labels, const char *file_tag,
	 const uint8_t *data, size_t len, GenKind kind)
{
	if (out->copy)
	{
		size_t		llen = strlen(labels);

		put_be16(out->copy, 3);
		put_be32(out->copy, 8);
		put_be64(out->copy, (uint64_t) ((unix_seconds - PG_EPOCH_UNIX) * 1000000LL));
		put_be32(out->copy, (uint32_t) (llen + 1));
		fputc(1, out->copy);	/* jsonb binary format version */
		fwrite(labels, 1, llen, out->copy);
		put_be32(out->copy, (uint32_t) len);
		fwrite(data, 1, len, out->copy);
		if (ferror(out->copy))
			die("write error on stdout (did the reader stop?)", strerror(errno));
	}
	else
	{
		char		stamp[32];
		char		iso[32];
		char		path[4096];
		struct tm	tm;
		time_t		tt = (time_t) unix_seconds;
		FILE	   *f;

		gmtime_r(&tt, &tm);
		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		strftime(iso, sizeof(iso), "%Y-%m-%d %H:%M:%S+00", &tm);
		snprintf(path, sizeof(path), "%s/%s_%s.pb.gz", out->dir, stamp, file_tag);
		f = fopen(path, "wb");
		if (f == NULL || fwrite(data, 1, len, f) != len || fclose(f) != 0)
			die("cannot write", path);
		fprintf(out->index, "%s_%s.pb.gz\t%s\t%s\n", stamp, file_tag, iso, labels);
	}
	out->profiles++;
	out->bytes += len;
	if (kind == KIND_CPU)
		out->cpu_profiles++;
	else
		out->heap_profiles++;
	if ((out->profiles & 31) == 0)
		report_progress(out, false);
}

/* --- the scenario ------------------------------------------------------- */

/* Pod name: a ReplicaSet hash that changes with the version, and a suffix */
static void
pod_name(const Pod *pod, const char *version, uint64_t seed, char *out, size_t cap)
{
	static const char alphabet[] = "bcdfghjklmnpqrstvwxz2456789";
	const char *svc = service_defs[pod->service].name;
	uint64_t	rs = gen_hash(seed ^ (uint64_t) pod->service, (uint64_t) version[1] * 131 + strlen(version));
	uint64_t	id = gen_hash(rs, (uint64_t) (pod->region * MAX_PODS + pod->index));
	char		a[11],
				b[6];

	for (int i = 0; i < 10; i++, rs /= 27)
		a[i] = alphabet[rs % 27];
	a[10] = '\0';
	for (int i = 0; i < 5; i++, id /= 27)
		b[i] = alphabet[id % 27];
	b[5] = '\0';
	snprintf(out, cap, "%s-%s-%s", svc, a, b);
}

/* Index of the first cumulative weight above x (binary search) */
static uint32_t
draw(const double *cdf, uint32_t n, double x)
{
	uint32_t	lo = 0,
				hi = n - 1;

	while (lo < hi)
	{
		uint32_t	mid = (lo + hi) / 2;

		if (cdf[mid] > x)
			hi = mid;
		else
			lo = mid + 1;
	}
	return lo;
}

typedef struct Scratch
{
	double	   *cdf;
	uint32_t   *counts;
	uint32_t   *touched;
	GenSample  *samples;
	uint32_t	cap;
} Scratch;

/* Samples of one CPU profile: ticks drawn from the (noisy) stack weights */
static uint32_t
cpu_samples(const GenModel *m, Scratch *s, GenRng *rng, double ticks, double regression_ticks)
{
	double		group[8];
	double		total = 0;
	uint32_t	ntouched = 0;
	uint32_t	n = 0;
	long		draws = lround(fmax(1.0, ticks));

	for (int g = 0; g < 8; g++)
		group[g] = exp(0.15 * gen_gauss(rng));
	for (uint32_t i = 0; i < m->ncpu; i++)
		s->cdf[i] = total += m->cpu[i].weight * group[i % 8];
	for (long k = 0; k < draws; k++)
	{
		uint32_t	i = draw(s->cdf, m->ncpu, gen_uniform(rng) * total);

		if (s->counts[i]++ == 0)
			s->touched[ntouched++] = i;
	}
	for (uint32_t k = 0; k < ntouched; k++)
	{
		uint32_t	i = s->touched[k];

		s->samples[n].stack = &m->cpu[i];
		s->samples[n].values[0] = s->counts[i];
		s->samples[n].values[1] = (int64_t) s->counts[i] * 10000000;
		n++;
		s->counts[i] = 0;
	}
	if (m->nregression && regression_ticks > 0)
	{
		long		extra = lround(regression_ticks);
		uint32_t	counts[64] = {0};

		for (long k = 0; k < extra; k++)
		{
			double		x = gen_uniform(rng);
			uint32_t	i = 0;

			while (i + 1 < m->nregression && x >= m->regression[i].weight)
				x -= m->regression[i++].weight;
			counts[i]++;
		}
		for (uint32_t i = 0; i < m->nregression && i < 64; i++)
			if (counts[i])
			{
				s->samples[n].stack = &m->regression[i];
				s->samples[n].values[0] = counts[i];
				s->samples[n].values[1] = (int64_t) counts[i] * 10000000;
				n++;
			}
	}
	return n;
}

/* Samples of one heap profile: every site, steady with noise; the leak grows */
static uint32_t
heap_samples(const GenModel *m, Scratch *s, GenRng *rng, const Pod *pod,
			 double minutes, double interval_minutes)
{
	for (uint32_t i = 0; i < m->nheap; i++)
	{
		const GenHeapSite *site = &m->sites[i];
		GenSample  *out = &s->samples[i];
		double		inuse,
					alloc;

		if ((int32_t) i == m->leak_site)
		{
			inuse = (6e6 + 5e6 * minutes + pod->leak_offset) * (1 + 0.01 * gen_gauss(rng));
			alloc = 5e6 * interval_minutes * (1 + 0.1 * gen_gauss(rng));
		}
		else
		{
			inuse = site->inuse_bytes * pod->load * (1 + 0.05 * gen_gauss(rng));
			alloc = site->alloc_per_minute * interval_minutes * pod->load *
				(1 + 0.15 * gen_gauss(rng));
		}
		inuse = fmax(site->object_size, inuse);
		alloc = fmax(inuse, alloc);
		out->stack = &m->heap[i];
		out->values[0] = (int64_t) (alloc / site->object_size);
		out->values[1] = out->values[0] * site->object_size;
		out->values[2] = (int64_t) (inuse / site->object_size);
		out->values[3] = out->values[2] * site->object_size;
	}
	return m->nheap;
}

/* Write one pod's profile of one kind at time t */
static void
pod_profile(const Options *o, const GenModel *m, GenEncoder *enc, Scratch *s,
			Output *out, const Pod *pod, int64_t t, GenKind kind)
{
	const ServiceDef *def = &service_defs[pod->service];
	int64_t		deploy = o->start + 60LL * o->deploy_minute;
	bool		deployed = def->new_version && t >= deploy;
	const char *version = deployed ? def->new_version : def->version;
	GenRng		rng = {gen_hash(gen_hash(o->seed, (uint64_t) t),
								(uint64_t) (((pod->service * MAX_REGIONS + pod->region) * MAX_PODS +
											 pod->index) * 2 + kind))};
	char		pod_str[96];
	char		labels[512];
	char		tag[160];
	uint32_t	n;
	size_t		len;

	pod_name(pod, version, o->seed, pod_str, sizeof(pod_str));
	snprintf(labels, sizeof(labels),
			 "{\"__name__\": \"%s\", \"service_name\": \"%s\", \"region\": \"%s\", "
			 "\"version\": \"%s\", \"pod\": \"%s\"}",
			 kind == KIND_CPU ? "process_cpu" : "memory", def->name,
			 region_names[pod->region], version, pod_str);
	snprintf(tag, sizeof(tag), "%s_%s", kind == KIND_CPU ? "cpu" : "heap", pod_str);
	if (kind == KIND_CPU)
	{
		double		traffic = pod->load * (1 + 0.08 * sin(pod->phase + t / 1800.0 * 6.283)) *
			(1 + 0.05 * gen_gauss(&rng));
		double		extra = 0;

		if (deployed && m->nregression)
		{
			double		ramp = fmin(1.0, (double) (t - deploy) / 600.0);

			extra = o->samples * traffic * (0.45 + 0.6 * ramp);
		}
		n = cpu_samples(m, s, &rng, o->samples * traffic, extra);
		len = gen_encode(enc, m, kind, s->samples, n, t * 1000000000LL,
						 (int64_t) o->cpu_interval * 1000000000LL);
	}
	else
	{
		n = heap_samples(m, s, &rng, pod, (t - o->start) / 60.0, o->heap_interval / 60.0);
		len = gen_encode(enc, m, kind, s->samples, n, t * 1000000000LL,
						 (int64_t) o->heap_interval * 1000000000LL);
	}
	emit(out, t, labels, tag, enc->gz, len, kind);
}

static void
open_output(const Options *o, Output *out)
{
	memset(out, 0, sizeof(*out));
	out->quiet = o->quiet;
	out->tty = isatty(2);
	out->started = out->last_report = now_seconds();
	if (o->out_dir)
	{
		char		path[4096];

		if (mkdir(o->out_dir, 0777) != 0 && errno != EEXIST)
			die("cannot create directory", o->out_dir);
		out->dir = o->out_dir;
		snprintf(path, sizeof(path), "%s/index.tsv", o->out_dir);
		out->index = fopen(path, "w");
		if (out->index == NULL)
			die("cannot write", path);
		fprintf(out->index, "file\tts\tlabels\n");
		return;
	}
	if (isatty(1))
		die("refusing to write a binary COPY stream to a terminal (pipe it into psql, or use --out-dir)", NULL);
	out->copy = stdout;
	setvbuf(stdout, NULL, _IOFBF, 1 << 20);
	fwrite("PGCOPY\n\377\r\n\0", 1, 11, stdout);
	put_be32(stdout, 0);		/* flags */
	put_be32(stdout, 0);		/* header extension length */
}

static void
close_output(Output *out)
{
	if (out->copy)
	{
		put_be16(out->copy, 0xffff);
		if (fflush(out->copy) != 0)
			die("write error on stdout", strerror(errno));
	}
	if (out->index && fclose(out->index) != 0)
		die("cannot write index.tsv", NULL);
	report_progress(out, true);
}

static int64_t
gcd(int64_t a, int64_t b)
{
	while (b)
	{
		int64_t		r = a % b;

		a = b;
		b = r;
	}
	return a;
}

/* Has --count been reached? */
static bool
done(const Options *o, const Output *out)
{
	return o->count > 0 && (int64_t) out->profiles >= o->count;
}

int
main(int argc, char **argv)
{
	Options		o;
	GenModel	models[MAX_SERVICES];
	Pod			pods[MAX_SERVICES * MAX_REGIONS * MAX_PODS];
	int			npods = 0;
	GenEncoder	enc;
	Scratch		s;
	Output		out;
	int64_t		limit;
	int64_t		step;

	parse_options(&o, argc, argv);
	for (int k = 0; k < o.nservices; k++)
		gen_model_build(&models[o.services[k]], service_defs[o.services[k]].name,
						service_defs[o.services[k]].lang, (uint32_t) o.stacks, o.seed);
	for (int k = 0; k < o.nservices; k++)
		for (int r = 0; r < o.regions; r++)
			for (int i = 0; i < o.pods; i++)
			{
				Pod		   *p = &pods[npods++];
				uint64_t	h = gen_hash(o.seed, (uint64_t) ((o.services[k] * 16 + r) * 256 + i));

				p->service = o.services[k];
				p->region = r;
				p->index = i;
				p->load = 0.85 + 0.3 * (double) (h % 1000) / 1000.0;
				p->phase = (double) (h >> 20 & 1023) / 1024.0 * 6.283;
				p->leak_offset = (double) (h >> 40 & 1023) / 1024.0 * 3e6;
			}

	s.cap = (uint32_t) o.stacks + 64;
	for (int k = 0; k < o.nservices; k++)
		if (models[o.services[k]].nheap + 64 > s.cap)
			s.cap = models[o.services[k]].nheap + 64;
	s.cdf = gen_alloc(s.cap * sizeof(double));
	s.counts = gen_alloc(s.cap * sizeof(uint32_t));
	s.touched = gen_alloc(s.cap * sizeof(uint32_t));
	s.samples = gen_alloc(s.cap * sizeof(GenSample));
	gen_encoder_init(&enc, o.gzip_level);
	open_output(&o, &out);

	limit = o.count > 0 ? INT64_MAX : o.start + o.seconds;
	step = gcd(o.cpu ? o.cpu_interval : o.heap_interval, o.heap ? o.heap_interval : o.cpu_interval);
	for (int64_t t = o.start; t < limit; t += step)
	{
		bool		cpu_due = o.cpu && (t - o.start) % o.cpu_interval == 0;
		bool		heap_due = o.heap && (t - o.start) % o.heap_interval == 0;

		for (int i = 0; i < npods; i++)
		{
			const GenModel *m = &models[pods[i].service];

			if (cpu_due && !done(&o, &out))
				pod_profile(&o, m, &enc, &s, &out, &pods[i], t, KIND_CPU);
			if (heap_due && !done(&o, &out))
				pod_profile(&o, m, &enc, &s, &out, &pods[i], t, KIND_HEAP);
		}
		if (done(&o, &out))
			break;
	}
	close_output(&out);

	gen_encoder_free(&enc);
	for (int k = 0; k < o.nservices; k++)
		gen_model_free(&models[o.services[k]]);
	free(s.cdf);
	free(s.counts);
	free(s.touched);
	free(s.samples);
	return 0;
}
