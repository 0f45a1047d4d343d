/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "model_name.h"

#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "json_util.h"
#include "macro.h"

/* Words that name a company's legal form, not the company. */
static const char *const legal_forms[] = {
	"Corporation", "Corp.",   "Corp", "Incorporated", "Inc.",     "Inc",
	"Company",     "Co.",     "Co",   "Co.,Ltd",      "Co.,Ltd.", "Ltd.",
	"Ltd",         "Limited", "GmbH", "AG",           "LLC",      "S.A.",
};

static bool is_legal_form(const char *word, size_t length)
{
	for (size_t i = 0; i < ELEMENTSOF(legal_forms); i++)
		if (strlen(legal_forms[i]) == length &&
		    strncasecmp(word, legal_forms[i], length) == 0)
			return true;
	return false;
}

/* Length of text[0..length) without trailing spaces and commas. */
static size_t trim_end(const char *text, size_t length)
{
	while (length > 0 && (text[length - 1] == ' ' || text[length - 1] == ','))
		length--;
	return length;
}

const char *vendor_short_name(char *buf, size_t size, const char *vendor)
{
	const char *open = strchr(vendor, '[');
	const char *close = open ? strchr(open, ']') : NULL;
	/* pci.ids puts the name people use in brackets: "... [AMD/ATI]", "... [SiS]". */
	size_t length = open && close ? strcspn(open + 1, "/]") : 0;

	if (length > 0) {
		snprintf(buf, size, "%.*s", (int)length, open + 1);
		return buf;
	}
	/* Drop a parenthesised aside ("XGI Technology Inc. (eXtreme Graphics Innovation)"). */
	length = strcspn(vendor, "(");
	length = trim_end(vendor, length);
	/* Then legal forms from the end, keeping at least one word. */
	for (;;) {
		size_t start = length;
		while (start > 0 && vendor[start - 1] != ' ')
			start--;
		if (start == 0 || !is_legal_form(vendor + start, length - start))
			break;
		length = trim_end(vendor, start);
	}
	snprintf(buf, size, "%.*s", (int)length, vendor);
	return buf;
}

/* The marketing name in a pci.ids device name: "GA102 [GeForce RTX 3090]" gives "GeForce RTX 3090".
 */
static void marketing_name(const char *device, const char **ret, size_t *ret_length)
{
	const char *open = strrchr(device, '[');
	const char *close = open ? strchr(open, ']') : NULL;

	if (open && close && close > open + 1) {
		*ret = open + 1;
		*ret_length = (size_t)(close - open - 1);
	} else {
		*ret = device;
		*ret_length = strlen(device);
	}
}

const char *model_name(char *buf, size_t size, const char *vendor, const char *device,
		       const char *vendor_id, const char *device_id)
{
	char short_vendor[128] = "";
	const char *name;
	size_t name_length;

	if (vendor && vendor[0])
		vendor_short_name(short_vendor, sizeof(short_vendor), vendor);
	if (!device || !device[0]) {
		snprintf(buf, size, "%s%s%s:%s", short_vendor, short_vendor[0] ? " " : "",
			 vendor_id ? vendor_id : "?", device_id ? device_id : "?");
		return buf;
	}
	marketing_name(device, &name, &name_length);
	/*
	 * The vendor is said once: "NVIDIA" + "NVIDIA RTX A6000", "ASPEED Technology" +
	 * "ASPEED Graphics Family". The vendor's first word at the start of the name is enough.
	 */
	size_t vendor_word = strcspn(short_vendor, " ");
	bool named = vendor_word == 0 || (name_length >= vendor_word &&
					  strncasecmp(name, short_vendor, vendor_word) == 0 &&
					  (name_length == vendor_word || name[vendor_word] == ' '));
	snprintf(buf, size, "%s%s%.*s", named ? "" : short_vendor, named ? "" : " ",
		 (int)name_length, name);
	return buf;
}

const char *function_model_name(char *buf, size_t size, json_object *function)
{
	return model_name(
		buf, size, json_get_string(function, "vendor"), json_get_string(function, "device"),
		json_get_string(function, "vendorId"), json_get_string(function, "deviceId"));
}
