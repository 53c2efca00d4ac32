/* format.h - the bytes of a capture file, shared by the encoder, the writer
 * and the reader (docs/capture-format.md is this file's prose twin: change
 * both together, and RCCAP_VERSION with any change a reader could notice).
 *
 *   file   = header chunk*
 *   header = magic[8] version:u32 body_len:u32 body[body_len] crc:u32
 *   chunk  = frame[RCF_FRAME_SIZE] payload[stored]
 *   frame  = magic[4] encoding:u8 zero[3] stored:u32 content:u32 count:u32
 *            payload_crc:u32 frame_crc:u32
 *
 * Fixed-width integers are little-endian; the payload is `content` bytes of
 * records, stored as they are (RCF_RAW) or compressed. Compressed chunks
 * are consecutive pieces of one zstd stream, each flushed so that it
 * decompresses to exactly its records (RCF_ZSTD_START begins a stream,
 * RCF_ZSTD continues the current one; raw chunks in between leave it
 * alone). zstd then finds the patterns of a chunk in the chunks before it,
 * which for the small chunks of per-thread buffers halves a capture; the
 * price is that a compressed chunk is read after the ones before it, which
 * a streaming reader does anyway.
 *
 * A record is a tag byte, then varints (LEB128, 7 bits a byte, low bits
 * first). The tag's low nibble is the rccap_kind; its high nibble holds
 * flags: RCF_T (a time delta follows), RCF_H (a thread number follows) and
 * two bits whose meaning depends on the kind. Each chunk is decoded on its
 * own: the delta state below starts at zero in every chunk, so a reader
 * needs nothing from earlier chunks but the stack ids they defined.
 *
 * Invariant the writer keeps and the reader relies on: a chunk is encoded
 * by one rccap_encoder from its reset to its write, so the delta state the
 * encoder kept is exactly the state a decoder rebuilds from the chunk's
 * first byte. */
#ifndef RC_CAPTURE_FORMAT_H
#define RC_CAPTURE_FORMAT_H
#ifndef RC_BUILD_CORE
#error "internal header: define RC_BUILD_CORE only inside recycle and its white-box tests"
#endif

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "capture/capture.h"

/* ---- file header ---- */

/* 0x89 keeps text tools away, "\r\n" detects line-ending conversion (as
 * PNG's signature does). */
#define RCF_MAGIC "\x89RCCAP\r\n"
#define RCF_MAGIC_SIZE 8
/* magic, version, body length */
#define RCF_HEADER_FIXED 16
/* Largest header body a reader accepts: six varints, two strings. */
#define RCF_HEADER_BODY_MAX (6 * 10 + 2 * 11 + RCCAP_STRING_MAX + RCCAP_COMMAND_LINE_MAX)

/* ---- chunk frame ---- */

#define RCF_CHUNK_MAGIC "RCCK"
#define RCF_FRAME_SIZE 28
enum { RCF_RAW = 0, RCF_ZSTD = 1, RCF_ZSTD_START = 2 };
/* The zstd window of the writer (4 MiB: patterns recur across chunks
 * further apart than level 1's default of 512 KiB), and the largest a
 * reader accepts, which bounds its memory. */
#define RCF_ZSTD_WINDOW_LOG 22
#define RCF_ZSTD_WINDOW_LOG_MAX 23
/* A compressed piece is at most ZSTD_compressBound(content) plus this
 * (a stream's frame header, block headers of a flush). */
#define RCF_ZSTD_SLACK 64
/* The smallest record is two bytes (a FREE or a LEAK: tag and pointer), so
 * a chunk of `content` bytes holds at most content / 2 records. */
#define RCF_RECORD_MIN 2

/* ---- records ---- */

#define RCF_KIND_MASK 0x0F
#define RCF_T 0x10      /* a time delta follows the tag (zigzag varint) */
#define RCF_H 0x20      /* a thread number follows (varint <= UINT32_MAX) */
#define RCF_X 0x40      /* kind-specific, see below */
#define RCF_Y 0x80      /* kind-specific, see below */
/* ALLOC:   X: an rccap_fn follows the stack (else MALLOC);
 *          Y: a weight follows (else weight = size)
 * REALLOC: X: moved, the new pointer follows the old (else ptr = old_ptr);
 *          Y: a weight follows (else weight = size)
 * MODULE:  X: a path follows; Y: a build id follows
 * THREAD:  X: a name follows
 * LEAK:    X: lost (else reachable)
 * others:  neither (a reader refuses them) */

/* Pointers. Every pointer field is one varint x, in one of three forms:
 *
 *   x even          delta: the pointer is the chunk's previous pointer
 *                   plus 16 * unzigzag(x / 2) (malloc results are 16-aligned
 *                   on the 64-bit targets, so their deltas are too);
 *   x % 4 == 1      reference to the chunk's pointer history, r = x / 4:
 *                   - a pointer being allocated (ALLOC, REALLOC's new one)
 *                     is the one freed r frees ago: allocators hand back
 *                     the blocks freed last, so r is mostly 0;
 *                   - a pointer being freed or reported (FREE, LEAK,
 *                     REALLOC's old one) is the one the chunk's allocation
 *                     number n returned, n = previous such n + unzigzag(r):
 *                     programs free in patterns (LIFO temporaries, trees
 *                     walked in the order they were built) that make these
 *                     steps small and repetitive, which zstd then shrinks
 *                     to almost nothing;
 *   x == 3          absolute: the pointer follows as a varint.
 *
 * The history: "frees" are FREE's pointer and a moved REALLOC's old one,
 * numbered from 0 in the chunk; "allocations" are ALLOC's pointer and
 * REALLOC's new one, numbered from 0 too. A reference reaches back at most
 * RCCAP_MODEL_WINDOW frees or allocations. A decoder keeps the last
 * RCCAP_MODEL_WINDOW of each in a ring; an encoder finds references with
 * the optional model of rccap_encoder_set_model (hash tables from pointer
 * to number), and without one writes deltas only. */
#define RCF_PTR_ABSOLUTE 3

/* The delta state of a chunk (all zero at its start). */
typedef struct rcf_state {
    uint64_t time;      /* time_ns of the previous record */
    uint64_t ptr;       /* the previous pointer field's value */
    uint64_t pc;        /* the previous STACK record's pc */
    uint64_t ref;       /* allocation number of the previous reference to one */
    uint32_t thread;    /* thread of the previous record */
    uint32_t stack;     /* id of the previous STACK record */
    uint32_t frees;     /* frees in the chunk so far */
    uint32_t allocs;    /* allocations in the chunk so far */
    uint32_t fref;      /* free number of the previous reference to a free */
    uint32_t astack;    /* stack id of the previous ALLOC or REALLOC */
    uint32_t version;   /* of the capture: how its records are encoded */
} rcf_state;

/* A decoder's pointer history: rings of the last frees and allocations of
 * the chunk, ring[i & mask] holding number i. mask + 1, a power of two, is
 * at least min(records of the chunk, RCCAP_MODEL_WINDOW), so every
 * reference that rcf_decode accepts is still in the ring. */
typedef struct rcf_history {
    uint64_t *freed, *alloced;
    uint32_t mask;
} rcf_history;

/* The encoder's model (model.c): two tables, each mapping pointers of the
 * chunk's recent frees (RCF_FREED) or allocations (RCF_ALLOCED) to their
 * numbers. */
enum { RCF_FREED = 0, RCF_ALLOCED = 1 };
/* Whether ptr is in the table with a number within the model's window of
 * count (the table's count so far): then *n is that number. */
bool rcf_model_find(const rccap_model *m, int table, uint64_t ptr, uint32_t count, uint32_t *n);
/* Number n of the table is ptr (n is the table's count so far). */
void rcf_model_add(rccap_model *m, int table, uint64_t ptr, uint32_t n);
/* Forget every pointer (a new chunk). */
void rcf_model_forget_all(rccap_model *m);
/* Test hook: put the model's generation at gen (not 0), so that a test can
 * reach the wrap of the 32-bit generation. */
void rcf_model_set_generation(rccap_model *m, uint32_t gen);

/* Decode one record at *p (before end) into ev, advancing *p and st, and h
 * when it is not NULL. With h NULL, references are checked for range but
 * not resolved (their pointers read 0): enough to find where records end.
 * On damage returns -1 and, when msg is not NULL, says what in msg (the
 * caller adds where); *p, st and h are then unspecified. Checks the syntax
 * and the ranges of every field, not whether stack ids were defined (that
 * needs the whole file). Strings point into the record (NUL-terminated
 * there). Allocates nothing and calls nothing that is unsafe in a signal
 * handler when msg is NULL. */
int rcf_decode(rcf_state *st, rcf_history *h, const uint8_t **p, const uint8_t *end,
               rccap_event *ev, char *msg, size_t msg_len);

/* Decode a header body (n bytes at p, between the fixed part and the CRC)
 * into h, whose strings then point into p (NUL-terminated there); version
 * is left alone. 0, or -1 with msg saying what is wrong. */
int rcf_decode_header(const uint8_t *p, size_t n, rccap_header *h, char *msg, size_t msg_len);

/* ---- checksums ---- */

/* CRC-32C (Castagnoli, reflected polynomial 0x82F63B78), the checksum of
 * iSCSI and ext4: rcf_crc32c(0, "123456789", 9) == 0xE3069283. Continue a
 * running checksum by passing the previous result as crc. */
uint32_t rcf_crc32c(uint32_t crc, const void *data, size_t n);
/* The table rcf_crc32c uses (entry i: the CRC of byte i), for the test that
 * checks it against the polynomial. */
extern const uint32_t rcf_crc32c_table[256];

/* ---- little helpers ---- */

static inline void rcf_put32(uint8_t *p, uint32_t v) {
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
    p[2] = (uint8_t)(v >> 16);
    p[3] = (uint8_t)(v >> 24);
}

static inline uint32_t rcf_get32(const uint8_t *p) {
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

/* At most 10 bytes. */
static inline uint8_t *rcf_put_varint(uint8_t *p, uint64_t v) {
    while (v >= 0x80) {
        *p++ = (uint8_t)(v | 0x80);
        v >>= 7;
    }
    *p++ = (uint8_t)v;
    return p;
}

static inline uint64_t rcf_zigzag(uint64_t v) {
    return (v << 1) ^ (0 - (v >> 63));
}

static inline uint64_t rcf_unzigzag(uint64_t v) {
    return (v >> 1) ^ (0 - (v & 1));
}

/* Length of s cut to max bytes; 0 for NULL. */
static inline size_t rcf_cut_len(const char *s, size_t max) {
    size_t n = 0;
    if (s)
        while (n < max && s[n])
            n++;
    return n;
}

/* Fill the frame of a chunk whose payload is `stored` bytes with checksum
 * payload_crc. */
void rcf_frame_fill(uint8_t frame[RCF_FRAME_SIZE], int encoding, uint32_t stored,
                    uint32_t content, uint32_t count, uint32_t payload_crc);

#endif /* RC_CAPTURE_FORMAT_H */
