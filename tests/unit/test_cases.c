/*
 * test_cases.c - the outside-input parsers of cases (lessons-learned record in JSON and text,
 * tier policy) and the recovery state machine's state names; the case flow itself is covered
 * end to end by tests/integration/case_scenario.sh and case_real.sh.
 */
#include <stdlib.h>
#include <string.h>

#include "cases/cases_int.h"
#include "harness.h"
#include "tide/cases.h"
#include "tide/errors.h"
#include "tide/tlp.h"

static void lessons_text(void)
{
    const char *t = "# case 3\n\nindicator: evil[.]example.com\nindicator: hxxp://1.2.3.4/x.exe\n"
                    "prevention: deny internet egress to hosts running an end-of-life Java\n"
                    "detection-gap: proxy logs were not collected\nresponse-gap: no owner\n";
    char *out = NULL;
    TIDE_ASSERT_EQ_INT(tide_case_lessons_parse(t, strlen(t), "l.txt", &out), 0);
    TIDE_ASSERT(strstr(out, "\"value\":\"evil.example.com\",\"type\":\"domain\"") != NULL);
    TIDE_ASSERT(strstr(out, "\"type\":\"url\"") != NULL);
    TIDE_ASSERT(strstr(out, "end-of-life Java") != NULL);
    TIDE_ASSERT(strstr(out, "\"response_gaps\":[\"no owner\"]") != NULL);
    free(out);
}

static void lessons_json(void)
{
    const char *j = "{\"new_indicators\": [\"8.8.4.4\", {\"value\": \"ab\", \"type\": \"domain\"}],"
                    " \"detection_gaps\": [\"dns logs\"]}";
    char *out = NULL;
    TIDE_ASSERT_EQ_INT(tide_case_lessons_parse(j, strlen(j), "l.json", &out), 0);
    TIDE_ASSERT(strstr(out, "\"8.8.4.4\",\"type\":\"ipv4\"") != NULL);
    free(out);
}

static void lessons_bad(void)
{
    char *out = NULL;
    const char *t1 = "indicator: good.example.com\nprevention deny\n";
    TIDE_ASSERT_EQ_INT(tide_case_lessons_parse(t1, strlen(t1), "l.txt", &out), TIDE_EPARSE);
    TIDE_ASSERT(strstr(tide_error_last(), "l.txt:2:") != NULL);
    const char *t2 = "colour: red\n";
    TIDE_ASSERT_EQ_INT(tide_case_lessons_parse(t2, strlen(t2), "l.txt", &out), TIDE_EPARSE);
    TIDE_ASSERT(strstr(tide_error_last(), "l.txt:1: unknown key 'colour'") != NULL);
    const char *t3 = "indicator: not a value at all\n";
    TIDE_ASSERT_EQ_INT(tide_case_lessons_parse(t3, strlen(t3), "l.txt", &out), TIDE_EPARSE);
    TIDE_ASSERT(strstr(tide_error_last(), "l.txt:1:") != NULL);
    const char *t4 = "# only comments\n\n";
    TIDE_ASSERT_EQ_INT(tide_case_lessons_parse(t4, strlen(t4), "l.txt", &out), TIDE_EPARSE);
    TIDE_ASSERT(strstr(tide_error_last(), "no lessons") != NULL);
    const char *j1 = "{\"new_indicators\": [\"a.example\"],\n \"bogus\": 1}";
    TIDE_ASSERT_EQ_INT(tide_case_lessons_parse(j1, strlen(j1), "l.json", &out), TIDE_EPARSE);
    TIDE_ASSERT(strstr(tide_error_last(), "unknown lessons key 'bogus'") != NULL);
    const char *j2 = "{\"new_indicators\": [\n 42]}";
    TIDE_ASSERT_EQ_INT(tide_case_lessons_parse(j2, strlen(j2), "l.json", &out), TIDE_EPARSE);
    TIDE_ASSERT(strstr(tide_error_last(), "new_indicators[0]") != NULL);
    const char *j3 = "{\"detection_gaps\": [\"x\"],\n";
    TIDE_ASSERT_EQ_INT(tide_case_lessons_parse(j3, strlen(j3), "l.json", &out), TIDE_EPARSE);
    TIDE_ASSERT(strstr(tide_error_last(), "l.json:2:") != NULL);
    const char nul[] = "prevention: a\0b\n";
    TIDE_ASSERT_EQ_INT(tide_case_lessons_parse(nul, sizeof(nul) - 1, "l.txt", &out), TIDE_EPARSE);
}

static void policy(void)
{
    char *out = NULL;
    const char *p = "{\"tier2_min_hosts\": 3, \"critical\": [\"high\", \"critical\"],"
                    " \"watch_days\": {\"1\": 7}}";
    TIDE_ASSERT_EQ_INT(tide_case_policy_parse(p, strlen(p), "p.json", &out), 0);
    TIDE_ASSERT(strstr(out, "\"tier2_min_hosts\":3") != NULL);
    TIDE_ASSERT(strstr(out, "\"watch_days\":{\"1\":7,\"2\":30,\"3\":30}") != NULL);
    TIDE_ASSERT(strstr(out, "\"tier3_min_hosts\":10") != NULL);
    free(out);
    const char *bad[] = { "{\"tier9\": 1}", "{\"actor_tier\": 4}", "{\"critical\": \"x\"}",
        "{\"watch_days\": {\"4\": 1}}", "{\"tier2_min_hosts\": 20}", "[1]", "{\"a\":" };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        TIDE_ASSERT_EQ_INT(
                tide_case_policy_parse(bad[i], strlen(bad[i]), "p.json", &out), TIDE_EPARSE);
        TIDE_ASSERT(strstr(tide_error_last(), "p.json") != NULL);
    }
}

static void states(void)
{
    TIDE_ASSERT_EQ_INT(tide__case_state_index("affected"), 0);
    TIDE_ASSERT_EQ_INT(tide__case_state_index("recovered"), 3);
    TIDE_ASSERT_EQ_INT(tide__case_state_index("verified"), 4);
    TIDE_ASSERT_EQ_INT(tide__case_state_index("cleaned"), -1);
    /* the TLP order and the unmarked rule (include/tide/tlp.h) */
    TIDE_ASSERT_EQ_INT(tide_tlp_parse("TLP:AMBER"), TIDE_TLP_AMBER);
    TIDE_ASSERT_EQ_INT(tide_tlp_parse("white"), TIDE_TLP_CLEAR);
    TIDE_ASSERT_EQ_INT(tide_tlp_parse("Amber+Strict"), TIDE_TLP_AMBER_STRICT);
    TIDE_ASSERT_EQ_INT(tide_tlp_parse("purple"), -1);
    TIDE_ASSERT_EQ_INT(tide_tlp_parse(NULL), -1);
    TIDE_ASSERT_EQ_INT(tide_tlp_parse(""), -1);
    TIDE_ASSERT_EQ_INT(tide_tlp_rank(NULL), TIDE_TLP_AMBER);
    TIDE_ASSERT_EQ_INT(tide_tlp_rank(""), TIDE_TLP_AMBER);
    TIDE_ASSERT_EQ_INT(tide_tlp_rank("green"), TIDE_TLP_GREEN);
    TIDE_ASSERT_EQ_INT(tide_tlp_rank("purple"), TIDE_TLP_RED);
    TIDE_ASSERT_EQ_STR(tide_tlp_name(TIDE_TLP_AMBER_STRICT), "amber+strict");
    TIDE_ASSERT(tide_tlp_name(5) == NULL && tide_tlp_name(-1) == NULL);
    TIDE_ASSERT(tide_tlp_allows(TIDE_TLP_GREEN, "clear"));
    TIDE_ASSERT(tide_tlp_allows(TIDE_TLP_GREEN, "tlp:green"));
    TIDE_ASSERT(!tide_tlp_allows(TIDE_TLP_GREEN, NULL)); /* unmarked = amber */
    TIDE_ASSERT(tide_tlp_allows(TIDE_TLP_AMBER, NULL));
    TIDE_ASSERT(!tide_tlp_allows(TIDE_TLP_AMBER_STRICT, "red"));
}

TIDE_TESTS = {
    { "cases::lessons_text", lessons_text },
    { "cases::lessons_json", lessons_json },
    { "cases::lessons_bad", lessons_bad },
    { "cases::policy", policy },
    { "cases::states", states },
    { NULL, NULL },
};
TIDE_TEST_MAIN
