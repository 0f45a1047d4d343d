/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "base/parallel.h"

#include <pthread.h>
#include <stdbool.h>
#include <unistd.h>

#include "macro.h"

#define MAX_SHARES 4

typedef struct Share {
	ParallelRange range;
	void *userdata;
	size_t begin, end;
	pthread_t thread;
	int result;
} Share;

static void *share_run(void *userdata)
{
	Share *s = userdata;
	s->result = s->range(s->begin, s->end, s->userdata);
	return NULL;
}

int parallel_ranges(size_t n, size_t min_share, ParallelRange range, void *userdata)
{
	Share shares[MAX_SHARES];
	long cpus = sysconf(_SC_NPROCESSORS_ONLN);
	/* Each share at least min_share items: fewer items, fewer threads (one at the least). */
	size_t n_shares = MIN(MIN((size_t)MAX(cpus, 1L), (size_t)MAX_SHARES),
			      MAX(n / MAX(min_share, (size_t)1), (size_t)1));
	bool started[MAX_SHARES] = { false };
	int r = 0;

	for (size_t i = 0; i < n_shares; i++) {
		shares[i] = (Share){ .range = range,
				     .userdata = userdata,
				     .begin = n * i / n_shares,
				     .end = n * (i + 1) / n_shares };
		if (i > 0)
			started[i] =
				pthread_create(&shares[i].thread, NULL, share_run, &shares[i]) == 0;
	}
	for (size_t i = 0; i < n_shares; i++)
		if (!started[i])
			share_run(&shares[i]);
	for (size_t i = 0; i < n_shares; i++) {
		if (started[i])
			(void)pthread_join(shares[i].thread, NULL);
		if (shares[i].result < 0 && r == 0)
			r = shares[i].result;
	}
	return r;
}
