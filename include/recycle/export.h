/* recycle/export.h - symbol visibility and a few attribute macros.
 *
 * Kept deliberately short: every public declaration is marked RC_API so the
 * shared library exports exactly the documented API and nothing else. */
#ifndef RECYCLE_EXPORT_H
#define RECYCLE_EXPORT_H

#if defined(RC_STATIC_DEFINE)
#  define RC_API
#elif defined(__GNUC__) || defined(__clang__)
#  define RC_API __attribute__((visibility("default")))
#else
#  define RC_API
#endif

#if defined(__GNUC__) || defined(__clang__)
#  define RC_NODISCARD       __attribute__((warn_unused_result))
#  define RC_MALLOC_ATTR     __attribute__((malloc))
#  define RC_ALLOC_SIZE(n)   __attribute__((alloc_size(n)))
#  define RC_ALLOC_SIZE2(n, m) __attribute__((alloc_size(n, m)))
#  define RC_PRINTF(f, a)    __attribute__((format(printf, f, a)))
#else
#  define RC_NODISCARD
#  define RC_MALLOC_ATTR
#  define RC_ALLOC_SIZE(n)
#  define RC_ALLOC_SIZE2(n, m)
#  define RC_PRINTF(f, a)
#endif

#endif /* RECYCLE_EXPORT_H */
