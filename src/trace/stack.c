/* stack.c - stack capture (see stack.h).
 *
 * x86-64: a walk over the .eh_frame unwind rules with a cache of the rule
 * per address; elsewhere, and for any frame whose rule the walk does not
 * model, libgcc's _Unwind_Backtrace from the start.
 *
 * What the walk needs from a frame is only how to find its caller: where the
 * canonical frame address (CFA, the caller's %rsp) is, where the return
 * address is (CFA - 8 on x86-64), and where the caller's %rbp is (unchanged,
 * or saved at CFA + k), since the caller's CFA may be defined by %rbp. For
 * compiled code that is "CFA = %rsp + n" (no frame pointer) or "CFA = %rbp +
 * n" (frame pointer, alloca, VLA) at every instruction, a few bytes per
 * address. The rule is computed once per address, by running the CIE and FDE
 * call-frame programs that _Unwind_Find_FDE finds (the same lookup libgcc
 * does), and cached; a walk is then a hash probe and one or two loads per
 * frame. Rules that are not of that form (a CFA given by a DWARF expression,
 * a register rule for %rbp other than "same" or "saved at CFA + k", a
 * signal frame, a stack realigned through another register) make the whole
 * capture go through _Unwind_Backtrace, which handles them. */
#include "trace/stack.h"

#include <stdatomic.h>
#include <stdbool.h>
#include <string.h>
#include <unwind.h>

typedef struct walk {
    uintptr_t *out;
    size_t max;      /* room left in out */
    size_t skip;     /* innermost frames still to drop */
    size_t n;        /* frames written */
    uintptr_t below; /* frames whose libgcc CFA is below this are the start frame's callees */
} walk;

static _Unwind_Reason_Code walk_step(struct _Unwind_Context *ctx, void *arg) {
    walk *w = arg;
    uintptr_t pc = (uintptr_t)_Unwind_GetIP(ctx);
    if (pc == 0)
        return _URC_END_OF_STACK;
    /* libgcc's CFA of a reported frame is that frame's %rsp at its call
     * (its callee's CFA): the start frame's is the start's %rsp, the
     * frames it called are below it */
    if (w->below && (uintptr_t)_Unwind_GetCFA(ctx) < w->below)
        return _URC_NO_REASON;   /* not yet at the start frame */
    if (w->skip) {
        w->skip--;
        return _URC_NO_REASON;
    }
    if (w->n == w->max)
        return _URC_END_OF_STACK;
    w->out[w->n++] = pc;
    return _URC_NO_REASON;
}

#if defined(__x86_64__) && !defined(RCTR_STACK_LIBGCC_ONLY)
#define HAVE_FAST_WALK 1

/* libgcc's (and LLVM libunwind's) FDE lookup: the FDE covering pc, and in
 * bases->func the start address of the function it describes. */
struct dwarf_eh_bases {
    void *tbase;
    void *dbase;
    void *func;
};
extern const void *_Unwind_Find_FDE(void *pc, struct dwarf_eh_bases *bases);

/* ---- the rule of one address, packed into a cache word ----
 *
 * bits  0..46  the address (x86-64 user code lies below 2^47; 0 = empty slot)
 * bits 47..48  kind: CFA = %rsp + off, CFA = %rbp + off, end of stack, or
 *              not modelled (the capture falls back to libgcc)
 * bit  49      the caller's %rbp is saved at CFA + rbp_off (else unchanged)
 * bits 50..54  rbp_off = -8 * (field + 1): -8 .. -256
 * bits 55..63  off / 8: 0 .. 4088
 * A rule that does not fit is computed again at every visit (correct, slow).
 * A word is written and read whole, so a reader sees either an empty slot or
 * some address's complete rule, and checks the address itself. */
enum { K_RSP = 0, K_RBP = 1, K_END = 2, K_BAD = 3 };
#define ADDR_BITS 47
#define ADDR_MASK ((UINT64_C(1) << ADDR_BITS) - 1)

typedef struct rule {
    int kind;
    bool rbp_saved;
    int64_t off;       /* CFA = base register + off */
    int64_t rbp_off;   /* caller's %rbp at CFA + rbp_off, if rbp_saved */
} rule;

static bool rule_pack(uintptr_t addr, const rule *r, uint64_t *word) {
    if (addr == 0 || (addr & ~ADDR_MASK))
        return false;
    uint64_t w = addr | (uint64_t)r->kind << 47;
    if (r->kind == K_RSP || r->kind == K_RBP) {
        if (r->off < 0 || r->off > 4088 || (r->off & 7))
            return false;
        w |= (uint64_t)(r->off / 8) << 55;
        if (r->rbp_saved) {
            if (r->rbp_off > -8 || r->rbp_off < -256 || (r->rbp_off & 7))
                return false;
            w |= UINT64_C(1) << 49 | (uint64_t)(-r->rbp_off / 8 - 1) << 50;
        }
    }
    *word = w;
    return true;
}

static rule rule_unpack(uint64_t w) {
    rule r;
    r.kind = (int)(w >> 47 & 3);
    r.rbp_saved = (w >> 49) & 1;
    r.rbp_off = -8 * (int64_t)((w >> 50 & 31) + 1);
    r.off = (int64_t)(w >> 55) * 8;
    return r;
}

/* Shared by all threads: one word per slot, direct-mapped, a colliding
 * address simply replaces the slot's rule. Slots are filled, never emptied:
 * a library unloaded while tracing leaves rules for addresses that a library
 * loaded later at the same place may use (docs/trace.md). */
#define CACHE_BITS 14
static _Atomic uint64_t rule_cache[1u << CACHE_BITS];

static inline size_t cache_slot(uintptr_t addr) {
    return (size_t)((addr * UINT64_C(0x9E3779B97F4A7C15)) >> (64 - CACHE_BITS));
}

/* ---- the call-frame program of one address ---- */

/* DWARF register numbers of x86-64 */
enum { DW_RBP = 6, DW_RSP = 7, DW_RA = 16 };

/* How a register of the caller is found. */
enum { REG_SAME, REG_UNDEF, REG_OFFSET, REG_OTHER };

typedef struct cfa_row {
    int cfa_reg;        /* -1: a rule the walk does not model */
    int64_t cfa_off;
    int rbp_how, ra_how;
    int64_t rbp_off, ra_off;
} cfa_row;

typedef struct reader {
    const uint8_t *p, *end;
    bool bad;
} reader;

static uint64_t rd_uleb(reader *r) {
    uint64_t v = 0;
    unsigned shift = 0;
    for (;;) {
        if (r->p >= r->end || shift > 63) {
            r->bad = true;
            return 0;
        }
        uint8_t b = *r->p++;
        v |= (uint64_t)(b & 0x7f) << shift;
        shift += 7;
        if (!(b & 0x80))
            return v;
    }
}

static int64_t rd_sleb(reader *r) {
    int64_t v = 0;
    unsigned shift = 0;
    uint8_t b;
    do {
        if (r->p >= r->end || shift > 63) {
            r->bad = true;
            return 0;
        }
        b = *r->p++;
        v |= (int64_t)((uint64_t)(b & 0x7f) << shift);
        shift += 7;
    } while (b & 0x80);
    if (shift < 64 && (b & 0x40))
        v |= -(int64_t)((uint64_t)1 << shift);
    return v;
}

static uint64_t rd_fixed(reader *r, size_t n) {
    if ((size_t)(r->end - r->p) < n) {
        r->bad = true;
        return 0;
    }
    uint64_t v = 0;
    memcpy(&v, r->p, n);   /* little-endian */
    r->p += n;
    return v;
}

/* Skip a pointer of DW_EH_PE encoding enc (its value is not needed). */
static void skip_encoded(reader *r, uint8_t enc) {
    if (enc == 0xff)   /* DW_EH_PE_omit */
        return;
    switch (enc & 0x0f) {
    case 0x00: rd_fixed(r, 8); break;           /* absptr */
    case 0x01: case 0x09: rd_uleb(r); break;    /* uleb128, sleb128 */
    case 0x02: case 0x0a: rd_fixed(r, 2); break;
    case 0x03: case 0x0b: rd_fixed(r, 4); break;
    case 0x04: case 0x0c: rd_fixed(r, 8); break;
    default: r->bad = true;
    }
}

static void set_reg(cfa_row *row, uint64_t reg, int how, int64_t off) {
    if (reg == DW_RBP) {
        row->rbp_how = how;
        row->rbp_off = off;
    } else if (reg == DW_RA) {
        row->ra_how = how;
        row->ra_off = off;
    }
    /* other registers do not matter to the walk (the caller's %rsp is the
     * CFA by the ABI) */
}

#define STATE_DEPTH 8

/* Run a call-frame program from loc, stopping before the first row that
 * starts after target. *loc advances; init is the row after the CIE's
 * program (for DW_CFA_restore). Returns false when the program is damaged
 * or uses what the walk does not model for the CFA. */
static bool run_cfa(reader *r, uintptr_t *loc, uintptr_t target, uint64_t caf, int64_t daf,
                    cfa_row *row, const cfa_row *init) {
    cfa_row stack[STATE_DEPTH];
    int depth = 0;
    while (r->p < r->end && !r->bad) {
        uint8_t op = *r->p++;
        uint64_t reg, adv = 0;
        switch (op & 0xc0) {
        case 0x40:   /* DW_CFA_advance_loc */
            adv = (op & 0x3f) * caf;
            goto advance;
        case 0x80:   /* DW_CFA_offset */
            set_reg(row, op & 0x3f, REG_OFFSET, (int64_t)rd_uleb(r) * daf);
            continue;
        case 0xc0:   /* DW_CFA_restore */
            reg = op & 0x3f;
            goto restore;
        }
        switch (op) {
        case 0x00: break;                                        /* nop */
        case 0x02: adv = rd_fixed(r, 1) * caf; goto advance;     /* advance_loc1 */
        case 0x03: adv = rd_fixed(r, 2) * caf; goto advance;     /* advance_loc2 */
        case 0x04: adv = rd_fixed(r, 4) * caf; goto advance;     /* advance_loc4 */
        case 0x05:   /* offset_extended */
            reg = rd_uleb(r);
            set_reg(row, reg, REG_OFFSET, (int64_t)rd_uleb(r) * daf);
            break;
        case 0x06: reg = rd_uleb(r); goto restore;               /* restore_extended */
        case 0x07: set_reg(row, rd_uleb(r), REG_UNDEF, 0); break;  /* undefined */
        case 0x08: set_reg(row, rd_uleb(r), REG_SAME, 0); break;   /* same_value */
        case 0x09:   /* register */
            reg = rd_uleb(r);
            rd_uleb(r);
            set_reg(row, reg, REG_OTHER, 0);
            break;
        case 0x0a:   /* remember_state: every rule, the CFA's included */
            if (depth == STATE_DEPTH)
                return false;
            stack[depth++] = *row;
            break;
        case 0x0b:   /* restore_state */
            if (depth == 0)
                return false;
            *row = stack[--depth];
            break;
        case 0x0c:   /* def_cfa */
            row->cfa_reg = (int)rd_uleb(r);
            row->cfa_off = (int64_t)rd_uleb(r);
            break;
        case 0x0d: row->cfa_reg = (int)rd_uleb(r); break;          /* def_cfa_register */
        case 0x0e: row->cfa_off = (int64_t)rd_uleb(r); break;      /* def_cfa_offset */
        case 0x0f: return false;                                   /* def_cfa_expression */
        case 0x10:   /* expression */
        case 0x16:   /* val_expression */
            reg = rd_uleb(r);
            adv = rd_uleb(r);
            if (r->bad || (uint64_t)(r->end - r->p) < adv)
                return false;
            r->p += adv;
            set_reg(row, reg, REG_OTHER, 0);
            break;
        case 0x11:   /* offset_extended_sf */
            reg = rd_uleb(r);
            set_reg(row, reg, REG_OFFSET, rd_sleb(r) * daf);
            break;
        case 0x12:   /* def_cfa_sf */
            row->cfa_reg = (int)rd_uleb(r);
            row->cfa_off = rd_sleb(r) * daf;
            break;
        case 0x13: row->cfa_off = rd_sleb(r) * daf; break;         /* def_cfa_offset_sf */
        case 0x14:   /* val_offset */
            reg = rd_uleb(r);
            rd_uleb(r);
            set_reg(row, reg, REG_OTHER, 0);
            break;
        case 0x15:   /* val_offset_sf */
            reg = rd_uleb(r);
            rd_sleb(r);
            set_reg(row, reg, REG_OTHER, 0);
            break;
        case 0x2e: rd_uleb(r); break;                              /* GNU_args_size */
        case 0x2f:   /* GNU_negative_offset_extended */
            reg = rd_uleb(r);
            set_reg(row, reg, REG_OFFSET, -(int64_t)rd_uleb(r) * daf);
            break;
        default:     /* set_loc and anything unknown */
            return false;
        }
        continue;
    advance:
        if (*loc + adv > target)
            return !r->bad;   /* the rows from here on start after target */
        *loc += adv;
        continue;
    restore:
        if (!init)
            return false;     /* DW_CFA_restore inside the CIE: malformed */
        if (reg == DW_RBP)
            set_reg(row, reg, init->rbp_how, init->rbp_off);
        else if (reg == DW_RA)
            set_reg(row, reg, init->ra_how, init->ra_off);
    }
    return !r->bad;
}

/* The rule in force at target, an address inside a function (the program
 * counter of the innermost frame, a return address - 1 for the others). */
static rule compute_rule(uintptr_t target) {
    rule bad = {K_BAD, false, 0, 0}, end = {K_END, false, 0, 0};
    struct dwarf_eh_bases bases;
    const uint8_t *fde = _Unwind_Find_FDE((void *)target, &bases);
    if (!fde)
        return end;   /* no unwind table: libgcc stops here too */
    uint32_t len, cie_off, cie_len;
    memcpy(&len, fde, 4);
    memcpy(&cie_off, fde + 4, 4);
    if (len == 0xffffffffu || len < 8 || cie_off == 0)
        return bad;
    const uint8_t *cie = fde + 4 - cie_off;
    memcpy(&cie_len, cie, 4);
    if (cie_len == 0xffffffffu || cie_len < 8)
        return bad;

    /* the CIE: augmentation, alignment factors, return-address column */
    reader r = {cie + 8, cie + 4 + cie_len, false};
    uint8_t version = (uint8_t)rd_fixed(&r, 1);
    const char *aug = (const char *)r.p;
    size_t aug_len = strnlen(aug, (size_t)(r.end - r.p));
    if (r.bad || aug_len == (size_t)(r.end - r.p) || (version != 1 && version != 3 && version != 4))
        return bad;
    r.p += aug_len + 1;
    if (version == 4)
        rd_fixed(&r, 2);   /* address_size, segment_selector_size */
    uint64_t caf = rd_uleb(&r);
    int64_t daf = rd_sleb(&r);
    uint64_t ra_col = version == 1 ? rd_fixed(&r, 1) : rd_uleb(&r);
    uint8_t fde_enc = 0;   /* absptr */
    bool has_z = aug[0] == 'z';
    if (has_z) {
        uint64_t n = rd_uleb(&r);
        if (r.bad || (uint64_t)(r.end - r.p) < n)
            return bad;
        reader a = {r.p, r.p + n, false};
        for (const char *c = aug + 1; *c && !a.bad; c++) {
            switch (*c) {
            case 'R': fde_enc = (uint8_t)rd_fixed(&a, 1); break;
            case 'L': rd_fixed(&a, 1); break;
            case 'P': {
                uint8_t enc = (uint8_t)rd_fixed(&a, 1);
                skip_encoded(&a, enc);
                break;
            }
            case 'S': return bad;   /* a signal frame: not a return address */
            default: return bad;
            }
        }
        if (a.bad)
            return bad;
        r.p += n;
    } else if (aug[0] != '\0') {
        return bad;
    }
    if (r.bad || ra_col != DW_RA)
        return bad;

    cfa_row row = {-1, 0, REG_SAME, REG_UNDEF, 0, 0};
    uintptr_t loc = (uintptr_t)bases.func;
    if (!run_cfa(&r, &loc, UINTPTR_MAX, caf, daf, &row, NULL))
        return bad;
    cfa_row init = row;

    /* the FDE: skip its address range and augmentation, run its program */
    reader f = {fde + 8, fde + 4 + len, false};
    skip_encoded(&f, fde_enc);
    skip_encoded(&f, fde_enc & 0x0f);
    if (has_z) {
        uint64_t n = rd_uleb(&f);
        if (f.bad || (uint64_t)(f.end - f.p) < n)
            return bad;
        f.p += n;
    }
    if (f.bad || !run_cfa(&f, &loc, target, caf, daf, &row, &init))
        return bad;

    if (row.ra_how == REG_UNDEF)
        return end;   /* the outermost frame (_start, a thread's start) */
    if (row.ra_how != REG_OFFSET || row.ra_off != -8)
        return bad;
    rule out = {K_BAD, false, row.cfa_off, 0};
    if (row.cfa_reg == DW_RSP)
        out.kind = K_RSP;
    else if (row.cfa_reg == DW_RBP)
        out.kind = K_RBP;
    else
        return bad;
    if (row.rbp_how == REG_OFFSET) {
        out.rbp_saved = true;
        out.rbp_off = row.rbp_off;
    } else if (row.rbp_how != REG_SAME) {
        return bad;
    }
    return out;
}

static inline __attribute__((always_inline)) rule rule_at(uintptr_t target) {
    _Atomic uint64_t *slot = &rule_cache[cache_slot(target)];
    uint64_t w = atomic_load_explicit(slot, memory_order_relaxed);
    if ((w & ADDR_MASK) == target && target != 0)
        return rule_unpack(w);
    rule r = compute_rule(target);
    if (rule_pack(target, &r, &w))
        atomic_store_explicit(slot, w, memory_order_relaxed);
    return r;
}

/* How far above the innermost frame's %rsp the walk may read: a bound on
 * the stack, so that a wrong rule (see rule_cache) cannot send it far. */
#define STACK_SPAN ((uintptr_t)1 << 30)

/* ---- one step of the walk ----
 *
 * A frame is its state (pc, %rsp, %rbp). A step reads at most two words of
 * the stack: the return address at CFA - 8 and, when the rule says the
 * caller's %rbp is saved, that slot. The caller's state is a function of
 * the frame's state, its rule and those two words, nothing else. */

/* Frame flags kept by the memo (below). */
enum {
    F_PC = 1,         /* the innermost frame: pc is not a return address */
    F_RBP_CFA = 2,    /* the frame's CFA is %rbp-based */
    F_BP_SAVED = 4,   /* the caller's %rbp was read from the stack */
    F_NEEDBP = 8,     /* the walk from this frame outward reads its %rbp */
};

enum { STEP_OK, STEP_END, STEP_BAD };

typedef struct wstate {
    uintptr_t pc, sp, bp;
    uintptr_t raaddr, bpaddr;   /* the words the step read (bpaddr 0: none) */
    unsigned flags;
} wstate;

/* Move s to its caller. lo is the innermost %rsp of the walk. */
#ifdef RCTR_STACK_STATS
size_t rctr_stat_steps, rctr_stat_splices, rctr_stat_checkfail, rctr_stat_walks;
#define STAT(x) (x)++
#else
#define STAT(x) ((void)0)
#endif
static inline __attribute__((always_inline)) int step(wstate *s, uintptr_t lo) {
    STAT(rctr_stat_steps);
    uintptr_t target = (s->flags & F_PC) ? s->pc : s->pc - 1;
    rule r = rule_at(target);
    s->raaddr = s->bpaddr = 0;
    if (r.kind == K_END)
        return STEP_END;
    if (r.kind == K_BAD)
        return STEP_BAD;
    uintptr_t cfa = (r.kind == K_RSP ? s->sp : s->bp) + (uintptr_t)r.off;
    /* the CFA lies above this frame's %rsp and the return address */
    if (cfa < s->sp + 8 || cfa - lo > STACK_SPAN || (cfa & 7))
        return STEP_BAD;
    unsigned fl = s->flags & F_PC;
    if (r.kind == K_RBP)
        fl |= F_RBP_CFA;
    s->raaddr = cfa - 8;
    uintptr_t ra = *(const uintptr_t *)s->raaddr;
    uintptr_t bp = s->bp;
    if (r.rbp_saved) {
        uintptr_t at = cfa + (uintptr_t)r.rbp_off;
        if (at < s->sp)
            return STEP_BAD;
        s->bpaddr = at;
        bp = *(const uintptr_t *)at;
        fl |= F_BP_SAVED;
    }
    s->flags = fl;
    if (ra == 0)
        return STEP_END;   /* raaddr stays: the end was read from the stack */
    /* the step's outputs become the caller's state; the reads stay with the
     * frame that made them, so the caller of step copies them first */
    s->sp = cfa;
    s->pc = ra;
    s->bp = bp;
    return STEP_OK;
}

/* The walk without a memo: out gets frames skip .. skip + max - 1. Returns
 * false when a frame's rule is not modelled or the stack does not look like
 * one (the caller then uses libgcc). */
static bool plain_walk(uintptr_t pc, uintptr_t sp, uintptr_t bp, uintptr_t *out, size_t max, size_t skip,
                       size_t *np) {
    wstate s = {pc, sp, bp, 0, 0, F_PC};
    size_t n = 0;
    for (;;) {
        if (skip)
            skip--;
        else if ((out[n++] = s.pc), n == max)
            break;
        int st = step(&s, sp);
        if (st == STEP_BAD)
            return false;
        if (st == STEP_END)
            break;
        s.flags &= ~(unsigned)F_PC;
    }
    *np = n;
    return true;
}

/* ---- the memo: the last walk of this thread ----
 *
 * Consecutive captures of a thread share most of their outer frames (the
 * program's callers did not return in between). The memo keeps the last
 * walk's frames, states and the stack words each step read. A new walk
 * goes outward from its innermost frame until it reaches a frame whose
 * state equals a memo frame's (%rbp compared only when the memo's walk from
 * there reads it), then checks that every word the memo's walk read from
 * there outward still holds what it read. If so, the rest of the walk would
 * read the same words from the same states and find the same frames: they
 * are taken from the memo. Nothing is assumed about the program: a frame
 * that returned and was called again (same %rsp, same pc) is caught by the
 * words of its callers, which the check reads; a longjmp, a signal or
 * another stack just makes the states differ. The check is a load and a
 * compare per frame, where the walk is a rule lookup and dependent loads.
 *
 * Layout: frames [base, base + n) of the arrays, innermost first, inside
 * [0, 2 * MEMO_CAP); the new frames of a walk go to a scratch area after
 * that, and are copied in front of the frames they join. The memo belongs
 * to one thread; `busy` keeps a capture from a signal handler that
 * interrupted one of this thread's captures off it (that capture walks
 * without it). */
#define MEMO_CAP 192
#define MEMO_MIN 8   /* walks of at most this many raw frames skip the memo */
#define MEMO_SLOTS (3 * MEMO_CAP)
#define SCRATCH (2 * MEMO_CAP)

typedef rctr_frame mframe;   /* the caller sees the memo's frames (stack.h) */

typedef struct memo {
    size_t base, n;
    bool ended;              /* frame base + n - 1 is the outermost of the stack */
    volatile bool busy;
    mframe f[MEMO_SLOTS];
} memo;

/* The first memo frame in [m, end) whose words changed, or end. */
static size_t memo_check(const memo *M, size_t m, size_t end, uintptr_t lo) {
    for (size_t i = m; i < end; i++) {
        const mframe *f = &M->f[i];
        bool last = i + 1 == end;
        if (last && !M->ended)
            break;   /* the memo's walk stopped before this frame's step */
        uintptr_t a = f->raaddr;
        if (a) {
            if (a - lo > STACK_SPAN || *(const uintptr_t *)a != (last ? 0 : f[1].pc))
                return i;
        }
        /* the saved %rbp matters only if a walk from the caller reads it */
        if (!last && (a = f->bpaddr) != 0 && (f[1].flags & F_NEEDBP)) {
            if (a - lo > STACK_SPAN || *(const uintptr_t *)a != f[1].bp)
                return i;
        }
    }
    return end;
}

/* F_NEEDBP of frames [from, to), from the frame after them (need: whether
 * the walk from frame `to` reads its %rbp). */
static void memo_needbp(memo *M, size_t from, size_t to, bool need) {
    for (size_t i = to; i-- > from;) {
        uintptr_t f = M->f[i].flags;
        need = (f & F_RBP_CFA) || (!(f & F_BP_SAVED) && need);
        M->f[i].flags = need ? f | F_NEEDBP : f & ~(uintptr_t)F_NEEDBP;
    }
}

/* Walk on from the memo's outermost frame until it holds want frames or the
 * stack ends. False on a frame the walk does not model. */
static bool memo_extend(memo *M, size_t want, uintptr_t lo) {
    while (M->n < want && !M->ended) {
        if (M->base + M->n == SCRATCH) {   /* no room outward: move to the start */
            memmove(M->f, M->f + M->base, M->n * sizeof M->f[0]);
            M->base = 0;
        }
        mframe *last = &M->f[M->base + M->n - 1];
        wstate s = {last->pc, last->sp, last->bp, 0, 0, (unsigned)(last->flags & F_PC)};
        int st = step(&s, lo);
        if (st == STEP_BAD)
            return false;
        last->raaddr = s.raaddr;
        last->bpaddr = s.bpaddr;
        last->flags = s.flags;
        if (st == STEP_END) {
            M->ended = true;
            memo_needbp(M, M->base + M->n - 1, M->base + M->n, false);
            break;
        }
        /* its step is not taken yet: assume it reads %rbp */
        last[1] = (mframe){.pc = s.pc, .sp = s.sp, .bp = s.bp, .flags = F_NEEDBP};
        M->n++;
        memo_needbp(M, M->base + M->n - 2, M->base + M->n - 1, true);
    }
    /* F_NEEDBP of the frames before the new ones may have become stricter
     * than needed (they assumed the worst); that is safe, only slower. */
    return true;
}

/* The walk with the memo; false as plain_walk. need = skip + max <= MEMO_CAP. */
/* out NULL: *fp gets the first frame returned instead of a copy.
 * noinline: its register pressure stays out of the short plain walks. */
static __attribute__((noinline)) bool memo_walk(memo *M, uintptr_t pc, uintptr_t sp, uintptr_t bp, uintptr_t *out, mframe **fp,
                      size_t max, size_t skip, size_t *np) {
    const size_t need = skip + max;
    const uintptr_t lo = sp;
    STAT(rctr_stat_walks);
    wstate s = {pc, sp, bp, 0, 0, F_PC};
    mframe *scratch = M->f + SCRATCH;
    size_t j = 0;   /* new frames, in the scratch area */
    size_t m = M->base, end = M->base + M->n, min_cand = m, splice = SIZE_MAX;
    bool ended = false;
    for (;;) {
        while (m < end && M->f[m].sp < s.sp)
            m++;
        if (m < end && m >= min_cand && M->f[m].sp == s.sp && M->f[m].pc == s.pc &&
            (M->f[m].flags & F_PC) == (s.flags & F_PC) &&
            (!(M->f[m].flags & F_NEEDBP) || M->f[m].bp == s.bp)) {
            size_t f = memo_check(M, m, end, lo);
            if (f == end) {
                STAT(rctr_stat_splices);
                splice = m;
                /* %rbp may differ where no frame from m on reads it: the
                 * memo takes the new value, through the frames that pass
                 * it on unchanged, so that the next check compares the
                 * words against what a walk would find now */
                for (size_t i = m; i < end; i++) {
                    M->f[i].bp = s.bp;
                    if (M->f[i].flags & F_BP_SAVED)
                        break;
                }
                break;
            }
            min_cand = f + 1;
            STAT(rctr_stat_checkfail);
        }
        mframe *here = &scratch[j++];
        here->pc = s.pc;
        here->sp = s.sp;
        here->bp = s.bp;
        here->tag_gen = 0;   /* a new frame: no tag */
        if (j == need) {   /* the last frame wanted: its step is not taken */
            here->raaddr = here->bpaddr = 0;
            here->flags = (s.flags & F_PC) | F_NEEDBP;
            break;
        }
        int st = step(&s, lo);
        if (st == STEP_BAD) {
            M->n = 0;
            return false;
        }
        /* the frame keeps what its step read; s moved to the caller */
        here->raaddr = s.raaddr;
        here->bpaddr = s.bpaddr;
        here->flags = s.flags;
        if (st == STEP_END) {
            ended = true;
            break;
        }
        s.flags = 0;
    }

    size_t total;
    if (splice != SIZE_MAX) {
        size_t keep = end - splice;
        if (j + keep > MEMO_CAP)   /* stay within MEMO_CAP: drop outer frames */
            keep = MEMO_CAP - j, M->ended = false;
        if (splice < j) {   /* no room in front: move the kept frames */
            size_t to = j + (2 * MEMO_CAP - j - keep) / 2;
            memmove(M->f + to, M->f + splice, keep * sizeof M->f[0]);
            splice = to;
        }
        memcpy(M->f + splice - j, scratch, j * sizeof M->f[0]);
        M->base = splice - j;
        M->n = total = j + keep;
        if (!M->ended) {   /* the new outermost frame's step is not kept */
            mframe *last = &M->f[M->base + total - 1];
            last->raaddr = last->bpaddr = 0;
            last->flags |= F_NEEDBP;
        }
        memo_needbp(M, M->base, splice, (M->f[splice].flags & F_NEEDBP) != 0);
        if (total < need) {
            if (!memo_extend(M, need, lo)) {
                M->n = 0;
                return false;
            }
            total = M->n;
        }
    } else {
        M->base = MEMO_CAP / 2;
        memcpy(M->f + M->base, scratch, j * sizeof M->f[0]);
        M->n = total = j;
        M->ended = ended;
        memo_needbp(M, M->base, M->base + j, !ended);
    }
    size_t k = total < need ? total : need;
    k = k > skip ? k - skip : 0;
    mframe *from = M->f + M->base + skip;
    if (out) {
        for (size_t i = 0; i < k; i++)
            out[i] = from[i].pc;
    } else {
        *fp = from;
    }
    *np = k;
    return true;
}

#include <pthread.h>
#include "heap/os/os.h"

/* This thread's memo: NULL before its first capture, DEAD after its
 * memory was returned at thread exit (captures from later destructors walk
 * without one) or when none could be mapped. */
#define MEMO_DEAD ((memo *)(uintptr_t)1)
static _Thread_local memo *tl_memo;
static pthread_key_t memo_key;
static pthread_once_t memo_once = PTHREAD_ONCE_INIT;
static bool memo_key_ok;

static size_t memo_bytes(void) {
    size_t page = rci_os_page_size();
    return (sizeof(memo) + page - 1) & ~(page - 1);
}

static void memo_release(void *p) {
    tl_memo = MEMO_DEAD;
    if (p && p != MEMO_DEAD)
        rci_os_free(p, memo_bytes());
}

static void memo_key_make(void) {
    memo_key_ok = pthread_key_create(&memo_key, memo_release) == 0;
}

static memo *memo_get(void) {
    memo *M = tl_memo;
    if (__builtin_expect(M != NULL, 1))
        return M == MEMO_DEAD ? NULL : M;
    tl_memo = MEMO_DEAD;   /* while it is made: a nested capture walks plainly */
    pthread_once(&memo_once, memo_key_make);
    void *mem;
    if (!memo_key_ok || rci_os_alloc_aligned(memo_bytes(), rci_os_page_size(), &mem) != 0)
        return NULL;   /* stays DEAD: this thread walks without a memo */
    M = mem;   /* fresh pages are zero: an empty memo */
    if (pthread_setspecific(memo_key, M) != 0) {
        rci_os_free(mem, memo_bytes());
        return NULL;
    }
    tl_memo = M;
    return M;
}
#endif /* x86-64 */

enum { USE_MEMO, USE_PLAIN, MEMO_OR_COPY };

/* noinline: the frame count between a caller and the walk must not depend
 * on the optimiser's choices at each call site (the tracer calibrates it).
 * Every path sees the same raw frames: frame 0 a pc inside this function,
 * frame 1 the return address into the caller. skip counts frame 0.
 * MEMO_OR_COPY leaves the frames in the memo (*fp) where it can serve, and
 * copies them to out otherwise (*fp NULL). */
static __attribute__((noinline)) size_t capture(const rctr_start *st, uintptr_t *out, mframe **fp,
                                                size_t max, size_t skip, int how) {
    if (fp)
        *fp = NULL;
    if (max == 0)
        return 0;
#ifdef HAVE_FAST_WALK
    rctr_start here;
    RCTR_START_HERE(here);
    if (!st)
        st = &here;
    uintptr_t pc = st->pc, sp = st->sp, bp = st->bp;
    size_t n;
    /* a short walk costs less than the memo's bookkeeping */
    memo *M = how != USE_PLAIN && max + skip > MEMO_MIN && max <= MEMO_CAP - skip && skip <= MEMO_CAP
                  ? memo_get()
                  : NULL;
    if (M && !M->busy) {
        M->busy = true;
        __asm__ volatile("" ::: "memory");
        bool ok = memo_walk(M, pc, sp, bp, how == MEMO_OR_COPY ? NULL : out, fp, max, skip, &n);
        __asm__ volatile("" ::: "memory");
        M->busy = false;
        if (ok)
            return n;
    } else if (plain_walk(pc, sp, bp, out, max, skip, &n)) {
        return n;
    }
#endif
    walk w = {out, max, skip, 0, st ? st->sp : 0};
    _Unwind_Backtrace(walk_step, &w);
    __asm__ volatile("" ::: "memory");   /* no tail call: this frame stays */
    return w.n;
}

/* Every entry point reaches capture() through one frame of its own and
 * drops capture()'s frame, so the raw frames are the same for all and for
 * every path inside: [return into the entry point (a pc inside it), return
 * into its caller, ...]. */
__attribute__((noinline)) size_t rctr_stack_capture(uintptr_t *out, size_t max, size_t skip) {
    size_t n = capture(NULL, out, NULL, max, skip + 1, USE_MEMO);
    __asm__ volatile("" ::: "memory");
    return n;
}

__attribute__((noinline)) size_t rctr_stack_capture_plain(uintptr_t *out, size_t max, size_t skip) {
    size_t n = capture(NULL, out, NULL, max, skip + 1, USE_PLAIN);
    __asm__ volatile("" ::: "memory");
    return n;
}

__attribute__((noinline)) size_t rctr_stack_walk(rctr_frame **frames, uintptr_t *copy, size_t max,
                                                 size_t skip) {
    size_t n = capture(NULL, copy, frames, max, skip + 1, MEMO_OR_COPY);
    __asm__ volatile("" ::: "memory");
    return n;
}

/* From a start frame the raw frames are the start's: no frame of ours to
 * drop (skip counts the start frame). */
size_t rctr_stack_capture_from(const rctr_start *st, uintptr_t *out, size_t max, size_t skip) {
    return capture(st, out, NULL, max, skip, USE_MEMO);
}

size_t rctr_stack_walk_from(const rctr_start *st, rctr_frame **frames, uintptr_t *copy, size_t max,
                            size_t skip) {
    return capture(st, copy, frames, max, skip, MEMO_OR_COPY);
}

size_t rctr_stack_capture_plain_from(const rctr_start *st, uintptr_t *out, size_t max, size_t skip) {
    return capture(st, out, NULL, max, skip, USE_PLAIN);
}
