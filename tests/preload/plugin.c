/* plugin.c - librcpl_plugin.so, which prog.c's "dlopen" pattern loads:
 * its blocks are made by its own code, so their stacks hold addresses in a
 * library that is closed before the program ends. */
#include <stdlib.h>

void *rcpl_plugin_make(int size);

__attribute__((noinline)) void *rcpl_plugin_make(int size) {
    void *p = malloc((size_t)size);
    __asm__ volatile("" ::: "memory");   /* the call stays a call, not a jump */
    return p;
}
