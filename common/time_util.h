/* SPDX-License-Identifier: LGPL-2.1-or-later */
/* The time, in microseconds, on one of the kernel's clocks. */
#pragma once

#include <stdint.h>
#include <time.h>

/* CLOCK_MONOTONIC for durations and timers, CLOCK_REALTIME for what users read. */
uint64_t now_usec(clockid_t clock);
