/*
 * tlp.h - the TLP marking-definition ids of STIX 2.1 (TLP 2.0 and TLP 1.0) and their names.
 */
#ifndef TIDE_INTEL_TLP_H
#define TIDE_INTEL_TLP_H

/* Marking-definition id ("marking-definition--...") of a TLP name: "clear", "white" (TLP 1.0),
 * "green", "amber", "amber+strict", "red"; case-insensitive, an optional "tlp:" prefix is
 * accepted. TLP 2.0 ids for all names except "white" (TLP 1.0 white). NULL if not a TLP name. */
const char *tide__tlp_marking_id(const char *tlp_name);

/* TLP name of a marking-definition id, TLP 2.0 or TLP 1.0: "clear" (white maps to clear),
 * "green", "amber", "amber+strict", "red"; NULL if the id is not a TLP marking. */
const char *tide__tlp_name_from_marking(const char *marking_id);

#endif
