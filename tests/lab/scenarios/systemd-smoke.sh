#!/bin/bash
# SPDX-License-Identifier: LGPL-2.1-or-later
#
# Lab smoke scenario for --systemd: the guest booted with systemd as PID 1, this runs
# from its libvfio-lab.service, and the journal can be written and read back.
#
#   tests/lab/run-lab --systemd tests/lab/scenarios/systemd-smoke.sh

# shellcheck source=tests/lab/lib.sh
. "$LAB_LIB"

pid1=$(lab_attr /proc/1/comm)
if [ "$pid1" = systemd ]; then
	ok "systemd is PID 1"
else
	lab_bail "PID 1 is '$pid1', not systemd (run-lab --systemd?)"
fi
# shellcheck disable=SC2016 # expanded by the inner shell
check "this runs from libvfio-lab.service (activating while it runs)" \
	bash -c '[ "$(systemctl is-active libvfio-lab.service)" = activating ]'
check "systemd-journald is active" systemctl is-active --quiet systemd-journald.service

# A line sent now must come back from journalctl, with its fields.
marker=libvfio-lab-$$-$RANDOM
logger -t libvfio-lab "$marker"
found=''
for _ in $(seq 50); do
	found=$(journalctl -b -t libvfio-lab --no-pager -o cat 2>/dev/null | grep -F "$marker")
	[ -n "$found" ] && break
	sleep 0.1
done
if [ -n "$found" ]; then
	ok "journalctl reads back a line just logged"
else
	not_ok "journalctl reads back a line just logged" \
		"$(journalctl -b --no-pager -n 20 2>&1)"
fi
check "the journal has this unit's output" \
	bash -c 'journalctl -b -u libvfio-lab.service --no-pager | grep -q "systemd is PID 1"'
lab_finish
