/*
 * fuzz_lessons.c - fuzz the two files a responder hands to `tide case`: the lessons-learned
 * record (JSON or text) and the tier policy (JSON). The first byte picks the parser.
 */
#include <stdint.h>
#include <stdlib.h>

#include "tide/cases.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    char *out = NULL;
    if (data[0] & 1)
        tide_case_policy_parse((const char *)data + 1, size - 1, "fuzz", &out);
    else
        tide_case_lessons_parse((const char *)data + 1, size - 1, "fuzz", &out);
    free(out);
    return 0;
}
