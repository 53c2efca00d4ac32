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
} walk;

static _Unwind_Reason_Code walk_step(struct _Unwind_Context *ctx, void *arg) {
    walk *w = arg;
    uintptr_t pc = (uintptr_t)_Unwind_GetIP(ctx);
    if (pc == 0)
        return _URC_END_OF_STACK;
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

static inline rule rule_at(uintptr_t target) {
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

/* The walk proper. Returns false when a frame's rule is not modelled or the
 * stack does not look like one (the caller then uses libgcc). */
static inline bool fast_walk(uintptr_t pc, uintptr_t sp, uintptr_t bp, uintptr_t *out, size_t max,
                             size_t skip, size_t *np) {
    size_t n = 0;
    const uintptr_t lo = sp;
    uintptr_t target = pc;   /* the innermost pc is not a return address */
    for (;;) {
        if (skip)
            skip--;
        else if ((out[n++] = pc), n == max)
            break;
        rule r = rule_at(target);
        if (r.kind == K_END)
            break;
        if (r.kind == K_BAD)
            return false;
        uintptr_t cfa = (r.kind == K_RSP ? sp : bp) + (uintptr_t)r.off;
        /* the CFA lies above this frame's %rsp and the return address */
        if (cfa < sp + 8 || cfa - lo > STACK_SPAN || (cfa & 7))
            return false;
        uintptr_t ra = *(const uintptr_t *)(cfa - 8);
        if (r.rbp_saved) {
            uintptr_t at = cfa + (uintptr_t)r.rbp_off;
            if (at < sp)
                return false;
            bp = *(const uintptr_t *)at;
        }
        sp = cfa;
        pc = ra;
        if (pc == 0)
            break;
        target = pc - 1;
    }
    *np = n;
    return true;
}
#endif /* x86-64 */

/* noinline: the frame count between a caller and the walk must not depend
 * on the optimiser's choices at each call site (the tracer calibrates it).
 * Both paths see the same raw frames: frame 0 a pc inside this function,
 * frame 1 the return address into the caller. */
__attribute__((noinline)) size_t rctr_stack_capture(uintptr_t *out, size_t max, size_t skip) {
    if (max == 0)
        return 0;
#ifdef HAVE_FAST_WALK
    uintptr_t pc, sp, bp;
    /* one instruction apart, nothing moves %rsp between them: the rule at
     * pc describes this %rsp and %rbp */
    __asm__ volatile("leaq 0(%%rip), %0\n\tmovq %%rsp, %1\n\tmovq %%rbp, %2"
                     : "=&r"(pc), "=&r"(sp), "=&r"(bp));
    size_t n;
    if (fast_walk(pc, sp, bp, out, max, skip, &n))
        return n;
#endif
    walk w = {out, max, skip, 0};
    _Unwind_Backtrace(walk_step, &w);
    __asm__ volatile("" ::: "memory");   /* no tail call: this frame stays */
    return w.n;
}
