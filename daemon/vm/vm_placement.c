/* SPDX-License-Identifier: LGPL-2.1-or-later */
#include "vm/vm_placement.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

static int parse_cpu(const char *text, char **end, unsigned *ret)
{
	if (*text < '0' || *text > '9')
		return -EINVAL;
	errno = 0;
	unsigned long value = strtoul(text, end, 10);
	if (errno || value >= CPU_SETSIZE)
		return -EINVAL;
	*ret = (unsigned)value;
	return 0;
}

int cpulist_parse(const char *text, cpu_set_t *ret)
{
	cpu_set_t set;

	CPU_ZERO(&set);
	const char *p = text;
	while (*p && *p != '\n') {
		unsigned first, last;
		char *end;
		if (parse_cpu(p, &end, &first) < 0)
			return -EINVAL;
		last = first;
		if (*end == '-' && (parse_cpu(end + 1, &end, &last) < 0 || last < first))
			return -EINVAL;
		for (unsigned cpu = first; cpu <= last; cpu++)
			CPU_SET(cpu, &set);
		p = end;
		if (*p == ',')
			p++;
		else if (*p && *p != '\n')
			return -EINVAL;
	}
	*ret = set;
	return 0;
}

int vm_placement_node(const VmDefinition *definition, const HostModel *model,
		      const PciAddress *devices, size_t n_devices)
{
	if (definition->numa >= 0)
		return definition->numa;
	if (definition->numa == VM_NUMA_OFF)
		return -1;
	for (size_t i = 0; i < n_devices; i++) {
		const PciFunction *f = host_find_function(model, &devices[i]);
		if (f && f->is_vf && host_find_function(model, &f->physfn))
			f = host_find_function(model, &f->physfn);
		if (f && f->numa_node >= 0)
			return f->numa_node;
	}
	return -1;
}

int vm_placement_vcpus(const VmDefinition *definition, const cpu_set_t *node_cpus,
		       const cpu_set_t *host_cpus, int *ret)
{
	unsigned n = vm_definition_cpus(definition);

	if (definition->pinned) {
		for (unsigned i = 0; i < n; i++) {
			unsigned cpu = definition->pinned[i % definition->n_pinned];
			if (cpu >= CPU_SETSIZE || !CPU_ISSET(cpu, host_cpus))
				return -EINVAL;
			ret[i] = (int)cpu;
		}
		return 1;
	}
	if (!definition->pin_cpus || !node_cpus)
		return 0;
	if (CPU_COUNT(node_cpus) == 0)
		return -EINVAL;
	int cpu = -1;
	for (unsigned i = 0; i < n; i++) {
		do
			cpu = (cpu + 1) % CPU_SETSIZE;
		while (!CPU_ISSET(cpu, node_cpus));
		ret[i] = cpu;
	}
	return 1;
}
