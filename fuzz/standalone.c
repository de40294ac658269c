/*
 * standalone.c - runs a libFuzzer harness over files without libFuzzer,
 * so that `make fuzz-regress` needs only the system compiler.
 *
 * Contract: each argument is a file or a directory of files; every file
 * is read whole and given to LLVMFuzzerTestOneInput() once, after
 * LLVMFuzzerInitialize() if the harness has one.  Prints how many
 * inputs ran; exits 1 if a file cannot be read (a crash ends the
 * process through the sanitizers, as under libFuzzer).
 */
#include <sys/stat.h>

#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);
int	LLVMFuzzerInitialize(int *, char ***) __attribute__((weak));

static unsigned	nrun;

static int
run_file(const char *path)
{
	FILE		*fp;
	unsigned char	*buf = NULL;
	size_t		 len = 0, cap = 0, n;

	if ((fp = fopen(path, "rb")) == NULL) {
		perror(path);
		return -1;
	}
	for (;;) {
		if (len == cap) {
			unsigned char *nb;

			cap = cap ? cap * 2 : 65536;
			if ((nb = realloc(buf, cap)) == NULL) {
				perror("realloc");
				exit(1);
			}
			buf = nb;
		}
		if ((n = fread(buf + len, 1, cap - len, fp)) == 0)
			break;
		len += n;
	}
	if (ferror(fp)) {
		perror(path);
		fclose(fp);
		free(buf);
		return -1;
	}
	fclose(fp);
	LLVMFuzzerTestOneInput(buf, len);
	free(buf);
	nrun++;
	return 0;
}

static int
run_path(const char *path)
{
	struct stat	 st;
	DIR		*d;
	struct dirent	*de;
	char		*p;
	int		 rc = 0;

	if (stat(path, &st) != 0) {
		perror(path);
		return -1;
	}
	if (!S_ISDIR(st.st_mode))
		return run_file(path);
	if ((d = opendir(path)) == NULL) {
		perror(path);
		return -1;
	}
	while ((de = readdir(d)) != NULL) {
		if (de->d_name[0] == '.')
			continue;
		if (asprintf(&p, "%s/%s", path, de->d_name) < 0) {
			perror("asprintf");
			exit(1);
		}
		if (run_path(p) != 0)
			rc = -1;
		free(p);
	}
	closedir(d);
	return rc;
}

int
main(int argc, char **argv)
{
	int	 i, rc = 0;

	if (LLVMFuzzerInitialize)
		LLVMFuzzerInitialize(&argc, &argv);
	for (i = 1; i < argc; i++)
		if (run_path(argv[i]) != 0)
			rc = 1;
	printf("%s: %u inputs\n", argv[0], nrun);
	return rc;
}
