/*
 * test_gw_config.c
 *		The gateway's YAML configuration (src/gateway/gw_config.c): good
 *		files read as Prometheus would, bad ones fail naming the line.
 */
#include "unit.h"
#include "gw_config.h"

#include <stdlib.h>

static GwConfig *
parse(const char *text, char *err, size_t errlen)
{
	return gw_config_parse(text, strlen(text), "t.yaml", "/etc/gw", err, errlen);
}

static void
test_issue_example(void)
{
	char		err[512];
	GwConfig   *c = parse(
						  "# the issue's example\n"
						  "scrape_interval: 15s\n"
						  "scrape_configs:\n"
						  "  - job_name: checkout\n"
						  "    static_configs:\n"
						  "      - targets: [\"checkout-1:6060\", \"checkout-2:6060\"]\n"
						  "        labels: {service_name: checkout, region: eu-west}\n"
						  "    profiling_config: {process_cpu: true, memory: true, goroutine: true, mutex: false, block: false}\n"
						  "  - job_name: fleet\n"
						  "    scrape_interval: 30s\n"
						  "    file_sd_configs: [{files: [\"targets/*.json\"]}]\n",
						  err, sizeof(err));

	CHECK(c != NULL);
	if (!c)
	{
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK(c->njobs == 2);
	CHECK(strcmp(c->jobs[0].job_name, "checkout") == 0);
	CHECK(c->jobs[0].interval_ms == 15000);
	CHECK(c->jobs[0].timeout_ms == 10000);
	CHECK(c->jobs[0].nstatic_groups == 1);
	CHECK(c->jobs[0].static_groups[0].ntargets == 2);
	CHECK(strcmp(c->jobs[0].static_groups[0].targets[1], "checkout-2:6060") == 0);
	CHECK(c->jobs[0].static_groups[0].nlabels == 2);
	CHECK(strcmp(c->jobs[0].static_groups[0].labels[1].name, "region") == 0);
	CHECK(strcmp(c->jobs[0].static_groups[0].labels[1].value, "eu-west") == 0);
	CHECK(c->jobs[0].profiles[GW_PROFILE_PROCESS_CPU].enabled);
	CHECK(c->jobs[0].profiles[GW_PROFILE_PROCESS_CPU].seconds);
	CHECK(!c->jobs[0].profiles[GW_PROFILE_MUTEX].enabled);
	CHECK(!c->jobs[0].profiles[GW_PROFILE_GODELTAPROF_MEMORY].enabled);
	CHECK(strcmp(c->jobs[0].profiles[GW_PROFILE_MEMORY].path, "/debug/pprof/allocs") == 0);
	CHECK(strcmp(c->jobs[0].scheme, "http") == 0);
	CHECK(c->jobs[1].interval_ms == 30000);
	CHECK(c->jobs[1].timeout_ms == 10000);
	CHECK(c->jobs[1].nfile_sds == 1);
	CHECK(strcmp(c->jobs[1].file_sds[0].files[0], "/etc/gw/targets/*.json") == 0);
	CHECK(c->jobs[1].profiles[GW_PROFILE_MUTEX].enabled);	/* Alloy's default */
	gw_config_free(c);
}

static void
test_long_form_and_auth(void)
{
	char		err[512];
	GwConfig   *c = parse(
						  "global:\n"
						  "  scrape_interval: 1m\n"
						  "  scrape_timeout: 20s\n"
						  "max_concurrent_scrapes: 8\n"
						  "scrape_configs:\n"
						  "- job_name: a\n"
						  "  scheme: https\n"
						  "  basic_auth: {username: u, password: p}\n"
						  "  static_configs: [{targets: [h:1]}]\n"
						  "  profiling_config:\n"
						  "    path_prefix: /app\n"
						  "    pprof_config:\n"
						  "      memory: {enabled: true, path: /debug/pprof/heap}\n"
						  "      godeltaprof_mutex: {enabled: true}\n"
						  "- job_name: b\n"
						  "  scrape_interval: 5s\n"
						  "  authorization: {type: Bearer, credentials: tok}\n"
						  "  body_size_limit: 1MiB\n",
						  err, sizeof(err));

	CHECK(c != NULL);
	if (!c)
	{
		fprintf(stderr, "%s\n", err);
		return;
	}
	CHECK(c->max_concurrent_scrapes == 8);
	CHECK(c->jobs[0].interval_ms == 60000 && c->jobs[0].timeout_ms == 20000);
	CHECK(strcmp(c->jobs[0].scheme, "https") == 0);
	CHECK(strcmp(c->jobs[0].basic_user, "u") == 0);
	CHECK(strcmp(c->jobs[0].basic_password, "p") == 0);
	CHECK(strcmp(c->jobs[0].path_prefix, "/app") == 0);
	CHECK(strcmp(c->jobs[0].profiles[GW_PROFILE_MEMORY].path, "/debug/pprof/heap") == 0);
	CHECK(c->jobs[0].profiles[GW_PROFILE_GODELTAPROF_MUTEX].enabled);
	CHECK(!c->jobs[0].profiles[GW_PROFILE_MUTEX].enabled);
	/* a job's timeout never exceeds its interval */
	CHECK(c->jobs[1].interval_ms == 5000 && c->jobs[1].timeout_ms == 5000);
	CHECK(strcmp(c->jobs[1].bearer_token, "tok") == 0);
	CHECK(c->jobs[1].body_size_limit == 1048576);
	gw_config_free(c);

	/* an empty file is a valid config without jobs */
	c = parse("", err, sizeof(err));
	CHECK(c != NULL && c->njobs == 0);
	gw_config_free(c);
}

static void
test_durations(void)
{
	CHECK(gw_parse_duration("15s") == 15000);
	CHECK(gw_parse_duration("1m30s") == 90000);
	CHECK(gw_parse_duration("500ms") == 500);
	CHECK(gw_parse_duration("1h1ms") == 3600001);
	CHECK(gw_parse_duration("0") == 0);
	CHECK(gw_parse_duration("") < 0);
	CHECK(gw_parse_duration("15") < 0);
	CHECK(gw_parse_duration("s") < 0);
	CHECK(gw_parse_duration("1s1m") < 0);
	CHECK(gw_parse_duration("1s1s") < 0);
	CHECK(gw_parse_duration("-1s") < 0);
	CHECK(gw_parse_duration("99999999999999999999s") < 0);
}

/* Each bad config fails, and the message names the expected line and words. */
static void
test_bad_configs(void)
{
	static const struct
	{
		const char *text;
		const char *expect;		/* substring of the message, with the line */
	}			cases[] = {
		{"scrape_configs:\n  - job_name: a\n    scrape_interval: fast\n", "t.yaml:3: scrape_interval: \"fast\""},
		{"scrape_configs:\n  - job_name: a\n    scrape_intervall: 5s\n", "t.yaml:3: unknown key \"scrape_intervall\""},
		{"scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: [\"h:x\"]\n", "t.yaml:4: target \"h:x\" is not host:port"},
		{"scrape_configs:\n  - job_name: a\n  - job_name: a\n", "t.yaml:3: job_name \"a\" is used twice (first on line 2)"},
		{"scrape_configs:\n  - static_configs: []\n", "t.yaml:2: a scrape config needs a job_name"},
		{"scrape_configs:\n  - job_name: a\n    scrape_interval: 5s\n    scrape_timeout: 6s\n", "t.yaml:2: job \"a\": scrape_timeout"},
		{"scrape_configs:\n  - job_name: a\n    profiling_config: {cpu: true}\n", "t.yaml:3: unknown profile type \"cpu\""},
		{"scrape_configs:\n  - job_name: a\n    profiling_config:\n      memory: maybe\n", "t.yaml:4: memory must be true or false"},
		{"scrape_configs:\n  - job_name: a\n    scheme: ftp\n", "t.yaml:3: scheme must be http or https"},
		{"scrape_configs:\n  - job_name: a\n    file_sd_configs: [{files: [a.txt]}]\n", "t.yaml:3: file_sd file \"a.txt\" must end in .json"},
		{"scrape_configs:\n  - job_name: a\n    static_configs:\n      - labels: {a: b}\n", "t.yaml:4: a target group needs \"targets\""},
		{"scrape_configs:\n  - job_name: a\n    static_configs:\n      - targets: [h:1]\n        labels: {1x: b}\n", "t.yaml:5: label name \"1x\""},
		{"scrape_interval: 15s\nscrape_interval: 10s\n", "t.yaml:2: the configuration: \"scrape_interval\" is given twice"},
		{"scrape_configs:\n  - job_name: a\n    basic_auth: {password: p}\n", "t.yaml:3: basic_auth needs a username"},
		{"scrape_configs:\n  - job_name: a\n    basic_auth: {username: u}\n    bearer_token: t\n", "t.yaml:2: job \"a\": basic_auth and a bearer token"},
		{"scrape_configs:\n  - job_name: a\n    bearer_token_file: /nonexistent/tok\n", "t.yaml:3: bearer_token_file: cannot read"},
		{"scrape_configs: [\n", "t.yaml:2: invalid YAML"},
		{"a: b\n  c: d\n", "t.yaml:2: invalid YAML"},
		{"- 1\n", "t.yaml:1: the configuration must be a mapping"},
		{"scrape_configs: {job_name: a}\n", "t.yaml:1: scrape_configs must be a list"},
		{"max_concurrent_scrapes: 0\n", "t.yaml:1: max_concurrent_scrapes"},
		{"global: {scrape_interval: 100ms}\n", "scrape_interval must be at least 1s"},
		{"scrape_configs:\n  - job_name: a\n    body_size_limit: lots\n", "t.yaml:3: body_size_limit"},
		{"scrape_configs:\n  - job_name: a\n    profiling_config: {memory: {path: heap}}\n", "t.yaml:3: path must start with /"},
	};

	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++)
	{
		char		err[512];
		GwConfig   *c = parse(cases[i].text, err, sizeof(err));

		CHECK(c == NULL);
		gw_config_free(c);
		if (!strstr(err, cases[i].expect))
		{
			unit_failed_checks++;
			fprintf(stderr, "case %zu: got \"%s\", want \"%s\"\n", i, err, cases[i].expect);
		}
	}
}

static void
test_file_sd_groups(void)
{
	char		err[512];
	GwTargetGroup *g;
	size_t		n;
	const char *bad;
	/* Prometheus' JSON format, tab-indented as editors write it */
	const char *json =
		"[\n"
		"\t{\n"
		"\t\t\"targets\": [\"10.0.0.1:6060\", \"10.0.0.2:6060\"],\n"
		"\t\t\"labels\": {\"service_name\": \"api\", \"env\": \"prod\"}\n"
		"\t},\n"
		"\t{\"targets\": [\"10.0.0.3:6060\"]}\n"
		"]\n";
	const char *yaml =
		"- targets: ['a:1']\n"
		"  labels:\n"
		"    team: x\n";

	CHECK(gw_sd_parse_groups(json, strlen(json), "t.json", &g, &n, err, sizeof(err)));
	CHECK(n == 2);
	if (n == 2)
	{
		CHECK(g[0].ntargets == 2 && g[0].nlabels == 2);
		CHECK(strcmp(g[0].labels[0].value, "api") == 0);
		CHECK(g[1].ntargets == 1 && g[1].nlabels == 0);
	}
	else
		fprintf(stderr, "%s\n", err);
	gw_target_groups_free(g, n);

	CHECK(gw_sd_parse_groups(yaml, strlen(yaml), "t.yml", &g, &n, err, sizeof(err)));
	CHECK(n == 1 && strcmp(g[0].labels[0].name, "team") == 0);
	gw_target_groups_free(g, n);

	bad = "[{\"targets\": [\"a:1\"]},\n {\"target\": []}]";
	CHECK(!gw_sd_parse_groups(bad, strlen(bad), "t.json", &g, &n, err, sizeof(err)));
	CHECK(strstr(err, "t.json:2: unknown key \"target\"") != NULL);
	CHECK(g == NULL && n == 0);
	bad = "[{\"targets\": [\"a:1\"]";
	CHECK(!gw_sd_parse_groups(bad, strlen(bad), "t.json", &g, &n, err, sizeof(err)));
	CHECK(strstr(err, "t.json:1: invalid YAML") != NULL || strstr(err, "t.json:2: invalid YAML") != NULL);
}

int
main(void)
{
	RUN(test_issue_example);
	RUN(test_long_form_and_auth);
	RUN(test_durations);
	RUN(test_bad_configs);
	RUN(test_file_sd_groups);
	return unit_finish("gw_config");
}
