/* lines.h - `recycle lines`: one function's source lines, each with what
 * it allocated, as memory_profiler lists a Python function.
 *
 * What a line is charged. For every stack that allocated, the innermost
 * frame of the function (inlined frames included) is found, and the
 * stack's figures go to that frame's line: the line that allocated, or
 * the line that called whatever allocated. A stack is charged once, to one
 * line, even when the function recurses, so the lines add up to what the
 * function allocated, directly or through its callees, with nothing
 * counted twice.
 *
 * Which function. FUNCTION names it as the symbolizer does: exactly (a C
 * name, a demangled C++ name with its parameters), or, when nothing has
 * that exact name, by its name without parameters, template arguments or
 * leading namespaces and classes ("bar" or "bar(int) const" for
 * "ns::A<int>::bar(int) const"),
 * if that names one function only. The copies a compiler makes of a
 * function ("f.part.0", "f(int) [clone .cold]") are the function.
 *
 * What is shown. The function's source, from the line where its
 * definition starts to its closing brace, found by a scan of the file
 * that follows braces, comments, strings and preprocessor branches; lines
 * without allocations have empty figures. When the source file cannot be
 * found, only the lines that allocated, as file:line; when the code has
 * no line information, its addresses. */
#ifndef RC_REPORT_LINES_H
#define RC_REPORT_LINES_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>

typedef struct rcr_lines_options {
    const char *function;               /* as the user wrote it */
    const char *const *source_dirs;     /* where else to look for sources */
    size_t nsource_dirs;
    bool json;
    bool progress;                      /* may show a progress line on err */
} rcr_lines_options;

/* List the lines of o->function in the capture at path on out. Messages go
 * to err, each line starting with "recycle lines: ". Returns 0, or 1 when
 * the capture cannot be read, is damaged, memory runs out, or no function
 * (or more than one) answers to the name: the message then lists the
 * function names of the capture that look like it. */
int rcr_lines(const char *path, const rcr_lines_options *o, FILE *out, FILE *err);

#endif /* RC_REPORT_LINES_H */
