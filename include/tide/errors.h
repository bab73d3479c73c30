/*
 * errors.h - every error code of the tide library, and the thread-local error detail.
 *
 * Fallible calls return int: 0 on success, a negative TIDE_E* code otherwise. Published numbers
 * never change. The human-readable detail of the last failure on this thread is kept by
 * tide_error_set() and read with tide_error_last().
 */
#ifndef TIDE_ERRORS_H
#define TIDE_ERRORS_H

#include "common.h"

typedef enum {
    TIDE_OK = 0,
    TIDE_ERROR = -1,         /**< generic failure */
    TIDE_ENOMEM = -2,        /**< allocation failed */
    TIDE_EIO = -3,           /**< read / write / open failed */
    TIDE_EINVAL = -4,        /**< invalid argument from the caller */
    TIDE_EPARSE = -5,        /**< malformed input (JSON, pattern, CSV ...) */
    TIDE_ENOTFOUND = -6,     /**< no such object */
    TIDE_ESTORE = -7,        /**< the store (database) failed */
    TIDE_EFORMAT = -8,       /**< input is not of the expected / any known format */
    TIDE_ETOOBIG = -9,       /**< input exceeds a size cap */
    TIDE_EEXISTS = -10,      /**< object already exists */
    TIDE_EUNSUPPORTED = -11, /**< valid input that tide does not handle */
    TIDE_EMATCH = -12,       /**< pattern evaluation error (e.g. bad timestamp) */
    TIDE_ECANCELED = -13,    /**< the work was cancelled (its cancel flag was set) */
} tide_error_code;

/** @brief Record the detail of a failure for this thread. @return code, for `return
 * tide_error_set(...)`. */
TIDE_EXTERN(int)
tide_error_set(int code, const char *fmt, ...)
#if defined(__GNUC__)
        __attribute__((format(printf, 2, 3)))
#endif
        ;

/** @brief The message of the last failure on this thread ("" when none). Borrowed. */
TIDE_EXTERN(const char *) tide_error_last(void);

/** @brief The code of the last failure on this thread (0 when none). */
TIDE_EXTERN(int) tide_error_last_code(void);

/** @brief Forget the last failure. */
TIDE_EXTERN(void) tide_error_clear(void);

/** @brief A short fixed name for a code, e.g. "parse error". */
TIDE_EXTERN(const char *) tide_error_name(int code);

#endif
