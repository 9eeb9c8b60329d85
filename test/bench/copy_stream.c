/*
 * copy_stream.c
 *		Benchmark helper: a PostgreSQL binary COPY stream with one column
 *		holding the raw bytes of each listed file, for
 *			COPY t (col) FROM STDIN WITH (FORMAT binary)
 *		into a profile column or a bytea column alike.
 *
 * usage: copy_stream LISTFILE > stream   (LISTFILE: one path per line)
 */
#include <arpa/inet.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void
die(const char *msg, const char *arg)
{
	fprintf(stderr, "copy_stream: %s%s%s\n", msg, arg ? ": " : "", arg ? arg : "");
	exit(1);
}

static void
put32(uint32_t v)
{
	uint32_t	be = htonl(v);

	if (fwrite(&be, 4, 1, stdout) != 1)
		die("write failed", NULL);
}

int
main(int argc, char **argv)
{
	FILE	   *list;
	char		line[4096];
	static unsigned char buf[1 << 16];

	if (argc != 2)
		die("usage: copy_stream LISTFILE", NULL);
	list = fopen(argv[1], "r");
	if (!list)
		die("cannot open", argv[1]);
	fwrite("PGCOPY\n\377\r\n\0", 1, 11, stdout);
	put32(0);					/* flags */
	put32(0);					/* header extension length */
	while (fgets(line, sizeof(line), list))
	{
		FILE	   *f;
		long		len;
		size_t		n;
		uint16_t	nfields = htons(1);

		line[strcspn(line, "\r\n")] = '\0';
		if (line[0] == '\0')
			continue;
		f = fopen(line, "rb");
		if (!f || fseek(f, 0, SEEK_END) != 0 || (len = ftell(f)) < 0 ||
			fseek(f, 0, SEEK_SET) != 0)
			die("cannot read", line);
		if (len > INT32_MAX)
			die("file too large", line);
		fwrite(&nfields, 2, 1, stdout);
		put32((uint32_t) len);
		while ((n = fread(buf, 1, sizeof(buf), f)) > 0)
			if (fwrite(buf, 1, n, stdout) != n)
				die("write failed", NULL);
		fclose(f);
	}
	fclose(list);
	{
		uint16_t	trailer = htons(0xFFFF);

		fwrite(&trailer, 2, 1, stdout);
	}
	if (fflush(stdout) != 0)
		die("write failed", NULL);
	return 0;
}
