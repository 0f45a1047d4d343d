/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * vfioctl check: whether this machine can run GPU VMs, one line per check
 * with its fix, host checks first and then each GPU's, from
 * io.libvfio.Host.Check. Exits 0 only when the host is ready.
 */
#include <stdio.h>
#include <string.h>

#include "commands.h"
#include "json_util.h"
#include "macro.h"
#include "output.h"

typedef struct StatusStyle {
	const char *status;
	const char *tag;
	Colour colour;
} StatusStyle;

static const StatusStyle status_styles[] = {
	{ "pass", "[PASS]", COLOUR_GREEN },
	{ "warn", "[WARN]", COLOUR_YELLOW },
	{ "fail", "[FAIL]", COLOUR_RED },
	{ "skip", "[SKIP]", COLOUR_DIM },
};

static bool check_has_status(json_object *check, const char *status)
{
	const char *s = json_get_string(check, "status");
	return s && strcmp(s, status) == 0;
}

/* Whether the check belongs to `gpu` (NULL: a host check, one about no GPU). */
static bool check_is_about(json_object *check, const char *gpu)
{
	const char *about = json_get_string(check, "gpu");
	return gpu ? about && strcmp(about, gpu) == 0 : !about;
}

static void print_check(json_object *check, const char *gpu)
{
	const char *summary = json_get_string(check, "summary");
	const char *fix = json_get_string(check, "fix");
	const StatusStyle *style = NULL;

	for (size_t i = 0; i < ELEMENTSOF(status_styles); i++)
		if (check_has_status(check, status_styles[i].status))
			style = &status_styles[i];
	if (style)
		printf("%s%s%s ", colour_on(style->colour), style->tag, colour_off());
	else
		printf("[%s] ",
		       json_get_string(check, "status") ? json_get_string(check, "status") : "?");

	/* Under the GPU's heading, its address at the start of the summary is said already. */
	size_t skip = gpu ? strlen(gpu) : 0;
	if (summary && gpu && strncmp(summary, gpu, skip) == 0 && summary[skip] == ' ')
		summary += skip + 1;
	printf("%s\n", summary                        ? summary
		       : json_get_string(check, "id") ? json_get_string(check, "id")
						      : "?");
	if (fix)
		printf("    fix: %s\n", fix);
}

/* Prints the checks about `gpu` (NULL: the host) under a heading; nothing when there are none. */
static void print_group(json_object *checks, const char *gpu, bool *first)
{
	bool heading = false;

	for (size_t i = 0; i < json_array_size(checks); i++) {
		json_object *check = json_object_array_get_idx(checks, i);
		if (!check_is_about(check, gpu))
			continue;
		if (!heading) {
			printf("%s%s%s%s%s\n", *first ? "" : "\n", colour_on(COLOUR_BOLD),
			       gpu ? "GPU " : "Host", gpu ? gpu : "", colour_off());
			*first = false;
			heading = true;
		}
		print_check(check, gpu);
	}
}

/* Whether `gpu` is the first check's GPU among checks[0..end]: its group is not printed yet. */
static bool gpu_first_seen(json_object *checks, size_t end, const char *gpu)
{
	for (size_t i = 0; i < end; i++)
		if (check_is_about(json_object_array_get_idx(checks, i), gpu))
			return false;
	return true;
}

static void print_verdict(json_object *reply, bool ready)
{
	json_object *checks = json_get_array(reply, "checks");
	json_object *modes = json_get_array(reply, "readyModes");
	bool failed = false;

	printf("\n");
	if (ready) {
		printf("%sReady%s", colour_on(COLOUR_GREEN), colour_off());
		for (size_t i = 0, n = 0; i < json_array_size(modes); i++) {
			json_object *mode = json_object_array_get_idx(modes, i);
			if (json_object_is_type(mode, json_type_string))
				printf("%s%s", n++ ? ", " : " for: ", json_object_get_string(mode));
		}
		printf("\n");
		return;
	}
	for (size_t i = 0; i < json_array_size(checks); i++)
		failed |= check_has_status(json_object_array_get_idx(checks, i), "fail");
	printf("%sNot ready%s: %s\n", colour_on(COLOUR_RED), colour_off(),
	       failed ? "fix the failures above."
		      : "no GPU can be used in any mode yet; see above.");
}

static void print_checks(json_object *reply, bool ready)
{
	json_object *checks = json_get_array(reply, "checks");
	bool first = true;

	print_group(checks, NULL, &first);
	for (size_t i = 0; i < json_array_size(checks); i++) {
		const char *gpu = json_get_string(json_object_array_get_idx(checks, i), "gpu");
		if (gpu && gpu_first_seen(checks, i, gpu))
			print_group(checks, gpu, &first);
	}
	print_verdict(reply, ready);
}

static int run_check(const ClientOptions *options, int argc, char *argv[])
{
	_cleanup_json_ json_object *reply = NULL;
	bool ready = false;

	int r = request_call(options, "io.libvfio.Host.Check", NULL, &reply);
	if (r != EXIT_OK)
		return r;
	(void)json_get_bool(reply, "ready", &ready);
	if (options->json)
		print_json(reply);
	else
		print_checks(reply, ready);
	return ready ? EXIT_OK : EXIT_FAILED;
}

const Command command_check = {
	.name = "check",
	.summary = "Check whether this machine can run GPU VMs, and what to fix",
	.usage = "Usage: vfioctl [--json] check\n"
		 "Checks what GPU VMs need (IOMMU, interrupt remapping, KVM, the VFIO\n"
		 "modules, hugepages, QEMU, OVMF) and what each GPU offers, one line per\n"
		 "check, PASS, WARN, FAIL or SKIP, with the fix when there is one.\n"
		 "Exit status: 0 when at least one GPU can be used in some mode, 1 when\n"
		 "not (also with --json), 2 bad usage.\n",
	.run = run_check,
};
