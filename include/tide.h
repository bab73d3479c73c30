/*
 * tide.h - umbrella header of the tide library: include this to get the whole public API.
 */
#ifndef TIDE_H
#define TIDE_H

#include "tide/common.h"
#include "tide/errors.h"
#include "tide/observable.h"
#include "tide/store.h"
#include "tide/ingest.h"
#include "tide/pattern.h"
#include "tide/score.h"
#include "tide/tlp.h"
#include "tide/warninglist.h"
#include "tide/telemetry.h"
#include "tide/match.h"
#include "tide/sightings.h"
#include "tide/history.h"
#include "tide/export.h"
#include "tide/cases.h"
#include "tide/engine.h"
#include "tide/feeds.h"

#endif
