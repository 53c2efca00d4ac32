/* mmap_file.c - a large file as bytes without reading it into memory: the
 * mapping is read-only, costs address space rather than heap, and is
 * unmapped when the last reference goes. A missing file is a clear error. */
#include <recycle.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int main(void) {
    char path[] = "/tmp/recycle-mmap-XXXXXX";
    int fd = mkstemp(path);
    if (fd < 0)
        return 1;
    enum { MB = 1 << 20 };
    char *chunk = calloc(1, MB);
    if (!chunk)
        return 1;
    for (int i = 0; i < 32; i++) {          /* a 32 MiB file */
        memset(chunk, 'a' + i % 26, MB);
        if (write(fd, chunk, MB) != MB)
            return 1;
    }
    free(chunk);
    close(fd);

    rc_runtime *rt = rc_runtime_new(NULL);
    if (!rt)
        return 1;
    size_t heap_before = rc_runtime_object_bytes(rt);
    rc_obj *b = rc_bytes_mmap(rt, path);
    if (!b)
        return 1;
    const unsigned char *data = rc_bytes_data(b);
    printf("mapped %zu bytes; object size %zu bytes; heap grew by %zu bytes\n", rc_bytes_len(b),
           rc_sizeof(b), rc_runtime_object_bytes(rt) - heap_before);
    int ok = rc_bytes_len(b) == 32u * MB && data[0] == 'a' && data[31u * MB] == 'a' + 31 % 26;
    rc_decref(b);
    unlink(path);
    rc_obj *missing = rc_bytes_mmap(rt, path);
    printf("mapping a missing file: %s (%s)\n", rc_strerror(rc_error(rt)), rc_error_message(rt));
    ok = ok && !missing && rc_error(rt) == RC_EIO && strstr(rc_error_message(rt), path);
    rc_runtime_free(rt);
    return ok ? 0 : 1;
}
