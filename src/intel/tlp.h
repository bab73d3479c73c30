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

/* The official marking-definition object of a TLP 2.0 or TLP 1.0 id, as compact JSON text
 * (static): TLP 2.0 as the OASIS TLP 2.0 extension publishes them (name "TLP:GREEN", created
 * 2022-10-01, extensions {"extension-definition--60a3c5c5-...": {"extension_type":
 * "property-extension", "tlp_2_0": "green"}}), TLP 1.0 as STIX 2.1 defines them
 * (definition_type "tlp", created 2017-01-20). NULL if the id is not a TLP marking. Every
 * bundle tide writes carries the ones its objects refer to. */
const char *tide__tlp_marking_json(const char *marking_id);

#endif
