/* SPDX-License-Identifier: MIT */
/* libvpwr: power management for virtualised workloads.  Umbrella header. */
#ifndef LIBVPWR_LIBVPWR_H
#define LIBVPWR_LIBVPWR_H

#include "common.h"
#include <libvpwr/version.h>
#include "error.h"
#include "message.h"
#include "codec.h"
#include "transport.h"
#include "backend.h"
#include "sim.h"
#include "meter.h"
#include "resolver.h"
#include "host.h"
#include "guest.h"

#endif
