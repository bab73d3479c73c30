/*
 * test_score.c - base score and age decay (SPEC C1): the polynomial, per-kind lifetimes,
 * reliability factors, configuration strings.
 */
#include <math.h>

#include "harness.h"
#include "tide.h"

#define DAY (86400000LL)

static void t_base(void)
{
    TIDE_ASSERT(fabs(tide_score_base(80, 'A') - 80.0) < 1e-9);
    TIDE_ASSERT(fabs(tide_score_base(80, 'C') - 60.0) < 1e-9);
    TIDE_ASSERT(tide_score_base(80, 'B') > tide_score_base(80, 'C'));
    TIDE_ASSERT(tide_score_base(80, 'D') > tide_score_base(80, 'E'));
    TIDE_ASSERT(fabs(tide_score_base(150, 'A') - 100.0) < 1e-9); /* clamped */
    TIDE_ASSERT(fabs(tide_score_base(-5, 'A')) < 1e-9);
}

static void t_decay_by_kind(void)
{
    tide_decay_config c;
    tide_decay_defaults(&c);
    int64_t t0 = 1700000000000LL;
    /* linear by default: half-way through its life an IP keeps half its score */
    TIDE_ASSERT(fabs(tide_score_current(&c, TIDE_OBS_IPV4, 80, t0, t0 + 15 * DAY) - 40) < 1e-6);
    /* a 31-day-old IP is gone, a 31-day-old domain or hash is not */
    TIDE_ASSERT_EQ_INT((int)tide_score_current(&c, TIDE_OBS_IPV4, 80, t0, t0 + 31 * DAY), 0);
    TIDE_ASSERT(tide_score_current(&c, TIDE_OBS_DOMAIN, 80, t0, t0 + 31 * DAY) > 50);
    TIDE_ASSERT(tide_score_current(&c, TIDE_OBS_SHA256, 80, t0, t0 + 31 * DAY) > 70);
    TIDE_ASSERT(tide_score_current(&c, TIDE_OBS_URL, 80, t0, t0 + 59 * DAY) > 0);
    TIDE_ASSERT_EQ_INT((int)tide_score_current(&c, TIDE_OBS_URL, 80, t0, t0 + 60 * DAY), 0);
    TIDE_ASSERT_EQ_INT((int)tide_score_current(&c, TIDE_OBS_SHA1, 80, t0, t0 + 366 * DAY), 0);
    /* not yet valid / fresh: full base */
    TIDE_ASSERT(fabs(tide_score_current(&c, TIDE_OBS_IPV4, 80, t0, t0 - DAY) - 80) < 1e-9);
}

static void t_speed_and_config(void)
{
    tide_decay_config c;
    tide_decay_defaults(&c);
    TIDE_ASSERT_EQ_INT(tide_decay_set(&c, "domain:10:0.5"), 0);
    int64_t t0 = 0;
    /* speed 0.5: score = base * (1 - (age/life)^2), so 80 * (1 - 0.25) at half life */
    TIDE_ASSERT(fabs(tide_score_current(&c, TIDE_OBS_DOMAIN, 80, t0, 5 * DAY) - 60) < 1e-6);
    TIDE_ASSERT_EQ_INT(tide_decay_set(&c, "ip:7"), 0);
    TIDE_ASSERT_EQ_INT((int)tide_score_current(&c, TIDE_OBS_IPV6, 80, t0, 8 * DAY), 0);
    TIDE_ASSERT_EQ_INT((int)tide_score_current(&c, TIDE_OBS_CIDR4, 80, t0, 8 * DAY), 0);
    TIDE_ASSERT(tide_decay_set(&c, "nonsense:7") < 0);
    TIDE_ASSERT(tide_decay_set(&c, "domain") < 0);
    TIDE_ASSERT(tide_decay_set(&c, "domain:x") < 0);
    TIDE_ASSERT(tide_decay_set(&c, "domain:5:0") < 0);
    TIDE_ASSERT_EQ_INT(tide_decay_set(&c, "sha256:0"), 0); /* never decays */
    TIDE_ASSERT(fabs(tide_score_current(&c, TIDE_OBS_SHA256, 70, t0, 9999 * DAY) - 70) < 1e-9);
}

TIDE_TESTS = {
    { "score::base", t_base },
    { "score::decay_by_kind", t_decay_by_kind },
    { "score::speed_and_config", t_speed_and_config },
    { NULL, NULL },
};
TIDE_TEST_MAIN
