/*
 * store_faulty.h - a store backend that wraps another one, forwards every call to it, and
 * fails on demand: the Nth call of a given function returns TIDE_ESTORE without reaching the
 * wrapped backend (a failing commit rolls the wrapped transaction back first, as a real
 * failed commit does). Tests run the store contract through it and show that a failure at
 * any point leaves the store consistent and reported (store_faulty.c says why it is in the
 * library). Functions are named as the members of tide_store_backend
 * (include/tide/sys/store_backend.h): "put_object", "commit" ...
 */
#ifndef TIDE_STORE_FAULTY_H
#define TIDE_STORE_FAULTY_H

#include "tide/sys/store_backend.h"

/* A backend wrapping inner, which it owns from now on (also when this fails). The wrapper
 * offers the optional functions inner offers. */
int tide__store_faulty_new(tide_store_backend **out, tide_store_backend *inner);

/* Make the nth call from now (1: the next one) of function op fail once; nth 0 takes the
 * fault back. TIDE_EINVAL when be is no wrapper or op names no function. */
int tide__store_faulty_fail(tide_store_backend *be, const char *op, long nth);

/* Calls of op since the wrapper was made (forwarded or failed); -1 when be is no wrapper or op
 * names no function. */
long tide__store_faulty_calls(tide_store_backend *be, const char *op);

/* Leave out an optional function (its member becomes NULL, so the front stands in for it), to
 * test a backend without it; before the wrapper is handed to a store. TIDE_EINVAL when op is
 * not an optional function. */
int tide__store_faulty_hide(tide_store_backend *be, const char *op);

/* The wrapped backend (borrowed), or NULL when be is no wrapper. */
tide_store_backend *tide__store_faulty_inner(tide_store_backend *be);

#endif
