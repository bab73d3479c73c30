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
