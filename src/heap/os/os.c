/* os.c - selects the OS implementation of os.h at compile time. */
#if defined(__linux__)
#include "os_linux.c"
#else
#error "recycle: no OS layer for this platform yet (implement src/heap/os/os.h)"
#endif
