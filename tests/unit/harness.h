/* A dozen-line test harness: CHECK counts, DONE prints the summary line. */
#ifndef RC_HARNESS_H
#define RC_HARNESS_H
#include <stdio.h>
static int t_pass, t_fail;
#define CHECK(c)                                                               \
	do {                                                                   \
		if (c)                                                         \
			t_pass++;                                              \
		else {                                                         \
			t_fail++;                                              \
			fprintf(stderr, "%s:%d: CHECK(%s) failed\n", __FILE__, \
				__LINE__, #c);                                 \
		}                                                              \
	} while (0)
#define DONE() (printf("%d passed, %d failed\n", t_pass, t_fail), t_fail != 0)
#endif
