/* SPDX-License-Identifier: LGPL-2.1-or-later */
/*
 * Linked with one layer of the daemon whole and only the layers below it (see
 * meson.build here): it links only if nothing in that layer calls upwards.
 */
int main(void)
{
	return 0;
}
