/* version.c - the run-time version string. */
#include "recycle.h"

const char *rc_version(void) {
    return RC_VERSION_STRING;
}
