/* version.c - the run-time version string. */
#include "recycle/version.h"

const char *rc_version(void) {
    return RC_VERSION_STRING;
}
