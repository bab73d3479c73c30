/*
 * front_int.h - the store front's handle, shared by store.c (the public calls, which check
 * their arguments and dispatch to the backend) and graph.c (the active-intel scan, which
 * walks the relationship graph above the backend). Nothing outside src/store includes this,
 * but tests that reach a store's backend.
 */
#ifndef TIDE_STORE_FRONT_INT_H
#define TIDE_STORE_FRONT_INT_H

#include "tide/store.h"
#include "tide/sys/store_backend.h"

struct tide_store {
    tide_store_backend *be; /* owned */
};

/* The backend of a store (borrowed), NULL for a NULL store. */
tide_store_backend *tide__store_backend(tide_store *s);

#endif
