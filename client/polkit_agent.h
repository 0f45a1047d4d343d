/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * polkit's text agent (pkttyagent) for the duration of one call, as
 * systemctl does: when the daemon asks polkit about us with interaction
 * allowed, polkit needs an agent in our session to ask for the password, and
 * a desktop's own agent is not there on a text console or over ssh.
 * `--fallback` in a login session: a desktop's agent, where there is one,
 * stays in charge (outside any session polkitd would ignore a fallback agent).
 */
#pragma once

#include <sys/types.h>

/*
 * Starts the agent when the standard input is a terminal, and waits until it
 * has registered (or failed: not installed, no polkit). Returns its pid, or 0
 * when none was started (nothing to undo).
 */
pid_t polkit_agent_open(void);

/* Ends the agent started by polkit_agent_open() (0: nothing to do). */
void polkit_agent_close(pid_t agent);
