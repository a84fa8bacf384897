/* SPDX-License-Identifier: MIT */
/*
 * cppc_cpufreq: ACPI CPPC (Collaborative Processor Performance Control),
 * mostly ARM servers.  A generic cpufreq driver, so limits and the
 * userspace governor with scaling_setspeed work as with acpi-cpufreq; boost
 * through cpufreq/boost where the platform has a range above nominal
 * (turning it off brings cpuinfo_max_freq down to nominal).
 *
 * CPPC performance is a continuous scale: there is no
 * scaling_available_frequencies and no CAP_TABLE.  get_freqs() still gives
 * a list, a 100 MHz grid across cpuinfo_min/max_freq, for callers that step
 * through frequencies; set_freq() and set_limits() take any kHz value in
 * range, unrounded.
 */
#include "backend/sysfs.h"

static const struct vpwr_cpufreq_desc cppc_desc = {
	.driver = "cppc_cpufreq",
	.flags = VPWR_CPUFREQ_SETSPEED | VPWR_CPUFREQ_BOOST,
	.list = vpwr_cpufreq_range_list,
};

static int cppc_probe(const struct vpwr_backend *b)
{
	return vpwr_cpufreq_probe(b, cppc_desc.driver);
}

static int cppc_init(struct vpwr_backend *b)
{
	return vpwr_cpufreq_init(b, &cppc_desc);
}

const struct vpwr_backend_ops vpwr_backend_cppc_cpufreq_ops = {
	.name = "cppc_cpufreq",
	.caps = VPWR_BACKEND_CAP_SET_FREQ | VPWR_BACKEND_CAP_LIMITS |
		VPWR_BACKEND_CAP_TURBO,
	.probe = cppc_probe,
	.init = cppc_init,
	.set_freq = vpwr_cpufreq_set_freq,
	VPWR_CPUFREQ_COMMON_OPS,
};
