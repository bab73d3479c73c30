/*
 * tlp.c - the one home of TLP in tide: the order of the levels and the rule for unmarked intel
 * (include/tide/tlp.h: it counts as amber under every ceiling), and the mapping between TLP
 * names and the fixed STIX 2.1 TLP marking-definition ids (intel/tlp.h; TLP 2.0 ids from the
 * STIX 2.1 TLP 2.0 extension, TLP 1.0 ids from STIX 2.1 section 7.2.1.4).
 */
#include <string.h>
#include <strings.h>

#include "intel/tlp.h"
#include "tide/tlp.h"

static const char *const level_names[] = { "clear", "green", "amber", "amber+strict", "red" };

int tide_tlp_parse(const char *name)
{
    if (name == NULL)
        return -1;
    if (strncasecmp(name, "tlp:", 4) == 0)
        name += 4;
    if (strcasecmp(name, "white") == 0)
        return TIDE_TLP_CLEAR;
    for (int i = TIDE_TLP_CLEAR; i <= TIDE_TLP_RED; i++)
        if (strcasecmp(name, level_names[i]) == 0)
            return i;
    return -1;
}

int tide_tlp_rank(const char *label)
{
    if (label == NULL || *label == '\0')
        return TIDE_TLP_UNMARKED;
    int r = tide_tlp_parse(label);
    return r < 0 ? TIDE_TLP_RED : r;
}

const char *tide_tlp_name(int level)
{
    return level >= TIDE_TLP_CLEAR && level <= TIDE_TLP_RED ? level_names[level] : NULL;
}

bool tide_tlp_allows(int ceiling, const char *label)
{
    return tide_tlp_rank(label) <= ceiling;
}

static const struct {
    const char *name; /* canonical name */
    const char *id;
} tlp2[] = {
    {"clear", "marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487"},
    {"green", "marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb"},
    {"amber", "marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421"},
    {"amber+strict", "marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003"},
    {"red", "marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1"},
}, tlp1[] = {
    {"clear", "marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9"}, /* white */
    {"green", "marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da"},
    {"amber", "marking-definition--f88d31f6-486f-44da-b317-01333bde0b82"},
    {"red", "marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed"},
};

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* The objects themselves, as their producers publish them: TLP 2.0 from the OASIS
 * cti-stix-common-objects repository (objects/marking-definition/, the TLP 2.0 extension
 * extension-definition--60a3c5c5-...), TLP 1.0 from STIX 2.1 section 7.2.1.4. */
#define TLP2_OBJ(id, name, value)                                                                  \
    "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"" id                       \
    "\",\"created\":\"2022-10-01T00:00:00.000Z\",\"name\":\"" name "\",\"extensions\":{"           \
    "\"extension-definition--60a3c5c5-0d10-413e-aab3-9e08dde9e88d\":{\"extension_type\":"          \
    "\"property-extension\",\"tlp_2_0\":\"" value "\"}}}"
#define TLP1_OBJ(id, name, value)                                                                  \
    "{\"type\":\"marking-definition\",\"spec_version\":\"2.1\",\"id\":\"" id                       \
    "\",\"created\":\"2017-01-20T00:00:00.000Z\",\"definition_type\":\"tlp\",\"name\":\"" name     \
    "\",\"definition\":{\"tlp\":\"" value "\"}}"

/* clang-format off */
static const struct {
    const char *id, *json;
} official[] = {
    {"marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487",
     TLP2_OBJ("marking-definition--94868c89-83c2-464b-929b-a1a8aa3c8487", "TLP:CLEAR", "clear")},
    {"marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb",
     TLP2_OBJ("marking-definition--bab4a63c-aed9-4cf5-a766-dfca5abac2bb", "TLP:GREEN", "green")},
    {"marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421",
     TLP2_OBJ("marking-definition--55d920b0-5e8b-4f79-9ee9-91f868d9b421", "TLP:AMBER", "amber")},
    {"marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003",
     TLP2_OBJ("marking-definition--939a9414-2ddd-4d32-a0cd-375ea402b003", "TLP:AMBER+STRICT",
              "amber+strict")},
    {"marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1",
     TLP2_OBJ("marking-definition--e828b379-4e03-4974-9ac4-e53a884c97c1", "TLP:RED", "red")},
    {"marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9",
     TLP1_OBJ("marking-definition--613f2e26-407d-48c7-9eca-b8e91df99dc9", "TLP:WHITE", "white")},
    {"marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da",
     TLP1_OBJ("marking-definition--34098fce-860f-48ae-8e50-ebd3cc5e41da", "TLP:GREEN", "green")},
    {"marking-definition--f88d31f6-486f-44da-b317-01333bde0b82",
     TLP1_OBJ("marking-definition--f88d31f6-486f-44da-b317-01333bde0b82", "TLP:AMBER", "amber")},
    {"marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed",
     TLP1_OBJ("marking-definition--5e57c739-391a-4eb3-b6be-7d15ca92d5ed", "TLP:RED", "red")},
};
/* clang-format on */

const char *tide__tlp_marking_json(const char *marking_id)
{
    if (marking_id == NULL)
        return NULL;
    for (size_t i = 0; i < N(official); i++)
        if (strcmp(marking_id, official[i].id) == 0)
            return official[i].json;
    return NULL;
}

const char *tide__tlp_marking_id(const char *tlp_name)
{
    if (tlp_name == NULL)
        return NULL;
    if (strncasecmp(tlp_name, "tlp:", 4) == 0)
        tlp_name += 4;
    if (strcasecmp(tlp_name, "white") == 0)
        return tlp1[0].id;
    if (strcasecmp(tlp_name, "amber-strict") == 0)
        return tlp2[3].id;
    for (size_t i = 0; i < N(tlp2); i++)
        if (strcasecmp(tlp_name, tlp2[i].name) == 0)
            return tlp2[i].id;
    return NULL;
}

const char *tide__tlp_name_from_marking(const char *marking_id)
{
    if (marking_id == NULL)
        return NULL;
    for (size_t i = 0; i < N(tlp2); i++)
        if (strcmp(marking_id, tlp2[i].id) == 0)
            return tlp2[i].name;
    for (size_t i = 0; i < N(tlp1); i++)
        if (strcmp(marking_id, tlp1[i].id) == 0)
            return tlp1[i].name;
    return NULL;
}
