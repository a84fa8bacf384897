/* SPDX-License-Identifier: MIT */
/*
 * amd-pstate, after Documentation/admin-guide/pm/amd-pstate.rst: CPPC on
 * AMD, in two guises that scaling_driver tells apart.
 *
 *   amd-pstate      passive (and guided) mode: generic governors, so limits
 *                   and the userspace governor with scaling_setspeed
 *   amd-pstate-epp  active mode: the firmware picks the frequency within
 *                   the limits, guided by the EPP hint; its governors are
 *                   performance and powersave, with no scaling_setspeed
 *
 * Both: boost through cpufreq/boost (off brings cpuinfo_max_freq down to
 * nominal).  Like cppc_cpufreq the range is continuous: no CAP_TABLE, a
 * 100 MHz grid from get_freqs(), values taken unrounded.  EPP is set by
 * name only (the documented interface lists names); a hint between two
 * names goes to the nearer one.
 */
#include "backend/sysfs.h"

/* The EPP values the kernel writes for each name. */
static const struct vpwr_epp_name amd_epp[] = {
	{ "performance", 0 },
	{ "balance_performance", 128 },
	{ "balance_power", 191 },
	{ "power", 255 },
};

static const struct vpwr_cpufreq_desc passive_desc = {
	.driver = "amd-pstate",
	.flags = VPWR_CPUFREQ_SETSPEED | VPWR_CPUFREQ_BOOST,
	.list = vpwr_cpufreq_range_list,
};

static const struct vpwr_cpufreq_desc epp_desc = {
	.driver = "amd-pstate-epp",
	.flags = VPWR_CPUFREQ_BOOST | VPWR_CPUFREQ_EPP,
	.epp = amd_epp,
	.nr_epp = VPWR_ARRAY_SIZE(amd_epp),
	.list = vpwr_cpufreq_range_list,
};

static int passive_probe(const struct vpwr_backend *b)
{
	return vpwr_cpufreq_probe(b, passive_desc.driver);
}

static int passive_init(struct vpwr_backend *b)
{
	return vpwr_cpufreq_init(b, &passive_desc);
}

static int epp_probe(const struct vpwr_backend *b)
{
	return vpwr_cpufreq_probe(b, epp_desc.driver);
}

static int epp_init(struct vpwr_backend *b)
{
	return vpwr_cpufreq_init(b, &epp_desc);
}

const struct vpwr_backend_ops vpwr_backend_amd_pstate_ops = {
	.name = "amd-pstate",
	.caps = VPWR_BACKEND_CAP_SET_FREQ | VPWR_BACKEND_CAP_LIMITS |
		VPWR_BACKEND_CAP_TURBO,
	.probe = passive_probe,
	.init = passive_init,
	.set_freq = vpwr_cpufreq_set_freq,
	VPWR_CPUFREQ_COMMON_OPS,
};

const struct vpwr_backend_ops vpwr_backend_amd_pstate_epp_ops = {
	.name = "amd-pstate-epp",
	.caps = VPWR_BACKEND_CAP_LIMITS | VPWR_BACKEND_CAP_TURBO |
		VPWR_BACKEND_CAP_EPP,
	.probe = epp_probe,
	.init = epp_init,
	.get_epp = vpwr_cpufreq_get_epp,
	.set_epp = vpwr_cpufreq_set_epp,
	VPWR_CPUFREQ_COMMON_OPS,
};
