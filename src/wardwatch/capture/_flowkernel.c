/*
 * Compiled per-packet accounting of the flow table: one pass over a decoded batch in capture order.
 *
 * The reference is the numpy code of wardwatch/capture/flows.py (FlowTable._feed, _create, _interest),
 * which groups a batch by a stable sort of the flow key's 64-bit hash. This file does the same work with
 * results that must be identical (flow ids, counters, payload choices, splits): tests run both on the
 * same captures and compare records, sink calls and statistics. The flow index it looks flows up in is
 * _flowindex.c.
 *
 * Inputs (packet columns, flow columns) come through the buffer protocol, no numpy headers needed. Every
 * array is checked for element type and length before use, and every flow id read from the index is
 * checked against the flow columns' length before it indexes them.
 */
#include "_flowkernel.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* wardwatch.domain.flow protocol numbers (IANA "Assigned Internet Protocol Numbers"; 0 marks a
 * non-IP frame) and wardwatch.capture.decode packet kinds. */
#define PROTO_L2 0
#define PROTO_TCP 6
#define PROTO_UDP 17
#define KIND_IP 1
#define KIND_L2 2
/* TCP control bits (RFC 9293 §3.1). */
#define TH_FIN 0x01
#define TH_SYN 0x02
#define TH_RST 0x04
#define TH_ACK 0x10
#define SEQ_MASK 0xFFFFFFFFULL /* sequence numbers are 32-bit, compared modulo 2^32 (RFC 9293 §3.4) */

static const uint64_t MIX_K = 0x9E3779B97F4A7C15ULL; /* same mixing step as flows._mix */

static inline uint64_t mix(uint64_t h, uint64_t v)
{
    h = (h ^ v) * MIX_K;
    return h ^ (h >> 29);
}

/* Packet columns, in the order of the `batch` tuple. */
enum { P_TS, P_WIRELEN, P_KIND, P_VLAN, P_SMAC, P_DMAC, P_SRC_HI, P_SRC_LO, P_DST_HI, P_DST_LO, P_PROTO,
       P_SPORT, P_DPORT, P_FLAGS, P_SEQ, P_PLEN, P_COUNT };
static const char P_TYPES[P_COUNT] = {'f', 'i', 'i', 'i', 'i', 'i', 'u', 'u', 'u', 'u', 'i', 'i', 'i', 'i', 'i', 'i'};

/* Flow columns (wardwatch.capture.flowstate.COLUMNS) this pass reads or writes. */
enum { C_HASH, C_A_HI, C_A_LO, C_B_HI, C_B_LO, C_A_PORT, C_B_PORT, C_PROTO, C_VLAN, C_L2, C_ORIG_A, C_MAC_A,
       C_MAC_B, C_FIRST, C_LAST, C_FIN_A, C_FIN_B, C_RST, C_SINCE_SYN, C_ACTIVE, C_DONE, C_PK, C_BY, C_BASE,
       C_BASE_OK, C_FULL, C_UCNT, C_UBYTES, C_COUNT };
static const char *C_NAMES[C_COUNT] = {"hash", "a_hi", "a_lo", "b_hi", "b_lo", "a_port", "b_port", "proto",
                                       "vlan", "l2", "orig_a", "mac_a", "mac_b", "first", "last", "fin_a",
                                       "fin_b", "rst", "since_syn", "active", "done", "pk", "by", "base",
                                       "base_ok", "full", "ucnt", "ubytes"};
static const char C_TYPES[C_COUNT] = {'u', 'u', 'u', 'u', 'u', 'i', 'i', 'i', 'i', 'b', 'b', 'i', 'i', 'f',
                                      'f', 'b', 'b', 'b', 'i', 'b', 'b', 'i', 'i', 'i', 'b', 'b', 'i', 'i'};
static const char C_PER_DIR[C_COUNT] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
                                        0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 1, 1};
/* The columns the planning step reads (the stored key, last time, FIN/RST count since the last SYN). */
static const int PLAN_COLS[] = {C_A_HI, C_A_LO, C_B_HI, C_B_LO, C_A_PORT, C_B_PORT, C_PROTO, C_VLAN,
                                C_LAST, C_SINCE_SYN};
#define N_PLAN_COLS ((int)(sizeof(PLAN_COLS) / sizeof(PLAN_COLS[0])))

/* Flow columns as typed pointers (each one's Py_buffer lives in cviews[]). */
typedef struct {
    uint64_t *u[C_COUNT];
    int64_t *i[C_COUNT];
    double *f[C_COUNT];
    uint8_t *b[C_COUNT];
} Cols;

static int get_cols(PyObject *col_dict, const int *which, int count, Py_ssize_t rows, Py_buffer *cviews, Cols *c)
{
    for (int k = 0; k < count; k++) {
        int name = which == NULL ? k : which[k];
        PyObject *arr = PyDict_GetItemString(col_dict, C_NAMES[name]); /* borrowed */
        if (arr == NULL) {
            PyErr_Format(PyExc_KeyError, "flow column %s", C_NAMES[name]);
            release_all(cviews, k);
            return -1;
        }
        if (get_buf(arr, &cviews[k], C_TYPES[name], 1, rows * (C_PER_DIR[name] ? 2 : 1), C_NAMES[name]) < 0) {
            release_all(cviews, k);
            return -1;
        }
        void *p = cviews[k].buf;
        c->u[name] = p;
        c->i[name] = p;
        c->f[name] = p;
        c->b[name] = p;
    }
    return 0;
}

/* The canonical bidirectional key of one packet (flows.FlowTable._feed): endpoint a is the smaller
 * (address, port); an L2 frame is keyed by its source MAC and ethertype alone. */
typedef struct {
    uint64_t ahi, alo, bhi, blo, misc;
    int64_t ap, bp, proto, vlan;
    int is_a, l2;
} Key;

typedef struct {
    const double *ts;
    const int64_t *i[P_COUNT];
    const uint64_t *u[P_COUNT];
} Batch;

static inline void packet_key(const Batch *b, Py_ssize_t j, Key *k)
{
    uint64_t sh, sl, dh, dl;
    int64_t sp, dp;
    k->l2 = b->i[P_KIND][j] == KIND_L2;
    if (k->l2) {
        sh = 0;
        sl = (uint64_t)b->i[P_SMAC][j];
        sp = b->i[P_DPORT][j]; /* the ethertype */
        dh = dl = 0;
        dp = 0;
    } else {
        sh = b->u[P_SRC_HI][j];
        sl = b->u[P_SRC_LO][j];
        sp = b->i[P_SPORT][j];
        dh = b->u[P_DST_HI][j];
        dl = b->u[P_DST_LO][j];
        dp = b->i[P_DPORT][j];
    }
    k->is_a = k->l2 || sh < dh || (sh == dh && (sl < dl || (sl == dl && sp <= dp)));
    k->ahi = k->is_a ? sh : dh;
    k->alo = k->is_a ? sl : dl;
    k->ap = k->is_a ? sp : dp;
    k->bhi = k->is_a ? dh : sh;
    k->blo = k->is_a ? dl : sl;
    k->bp = k->is_a ? dp : sp;
    k->proto = k->l2 ? PROTO_L2 : b->i[P_PROTO][j];
    k->vlan = b->i[P_VLAN][j];
    k->misc = ((uint64_t)k->ap << 32) | ((uint64_t)k->bp << 16) |
              (((uint64_t)k->proto << 8) ^ (((uint64_t)k->vlan + 1) << 48));
}

typedef struct {
    uint64_t h, key[5]; /* hash; a_hi, a_lo, b_hi, b_lo, misc of the group's first packet */
    int64_t kfid;       /* the existing flow of this key, or -1 */
    double prev;        /* time of the group's previous packet */
    int64_t fins;       /* FIN/RST segments since the last SYN */
    Py_ssize_t first_seg, last_seg;
} Group;

typedef struct {
    int64_t fid;
    Py_ssize_t first, group, next; /* first packet; group; next segment of the same group or -1 */
    int cont;                      /* continues the group's existing flow */
} Seg;

typedef struct {
    Py_ssize_t n, ngroups, nseg, nnew;
    Py_ssize_t *pseg; /* segment of each packet, -1 when the packet is not accounted */
    uint8_t *pisa;    /* the packet was sent by endpoint a */
    Group *groups;
    Seg *segs;
    Py_ssize_t *gorder; /* groups by ascending hash */
} Plan;

static void plan_free(Plan *p)
{
    PyMem_Free(p->pseg);
    PyMem_Free(p->pisa);
    PyMem_Free(p->groups);
    PyMem_Free(p->segs);
    PyMem_Free(p->gorder);
}

typedef struct {
    uint64_t h;
    Py_ssize_t g;
} HashRef;

static int by_hash(const void *x, const void *y)
{
    uint64_t a = ((const HashRef *)x)->h, b = ((const HashRef *)y)->h;
    return (a > b) - (a < b); /* hashes of a batch's groups are distinct */
}

typedef struct {
    double tcp_budget, udp_budget, udp_max, frame_budget, frame_max, tcp_timeout, udp_timeout, other_timeout;
} Limits;

static Py_ssize_t new_seg(Plan *p, Py_ssize_t g, Py_ssize_t j, int cont)
{
    Py_ssize_t s = p->nseg++;
    Group *G = &p->groups[g];
    p->segs[s] = (Seg){cont ? G->kfid : -1, j, g, -1, cont};
    if (G->last_seg >= 0)
        p->segs[G->last_seg].next = s;
    else
        G->first_seg = s;
    G->last_seg = s;
    if (!cont)
        p->nnew++;
    return s;
}

/*
 * Step 1 (changes nothing): group the batch by key hash, find each key's existing flow and cut the
 * packets into segments, one per flow: a new flow starts where the idle gap to the group's previous
 * packet exceeds the protocol's timeout, and at a SYN (without ACK) after a FIN or RST since the last
 * SYN: the port pair is being reused (RFC 9293 §3.5, §3.6). Returns 1 when two different keys of the
 * batch share a hash (the caller runs the reference, which rehashes), 0 when planned, -1 on error.
 */
static int plan_batch(FlowIndex *ix, const Batch *b, Py_ssize_t n, uint64_t seed, const Limits *lim,
                      const Cols *c, Py_ssize_t n_used, Plan *p)
{
    size_t tcap = 16;
    while (tcap < (size_t)n * 2)
        tcap *= 2;
    size_t tmask = tcap - 1;
    Slot *table = new_slots(tcap); /* hash -> group */
    p->pseg = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(Py_ssize_t));
    p->pisa = PyMem_Malloc((size_t)(n ? n : 1));
    p->groups = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(Group));
    p->segs = PyMem_Malloc((size_t)(n ? n : 1) * sizeof(Seg));
    if (table == NULL || p->pseg == NULL || p->pisa == NULL || p->groups == NULL || p->segs == NULL) {
        PyMem_Free(table);
        if (!PyErr_Occurred())
            PyErr_NoMemory();
        return -1;
    }
    int collided = 0;
    for (Py_ssize_t j = 0; j < n; j++) {
        int64_t kind = b->i[P_KIND][j];
        if (kind != KIND_IP && kind != KIND_L2) {
            p->pseg[j] = -1;
            continue;
        }
        Key k;
        packet_key(b, j, &k);
        uint64_t h = mix(mix(mix(mix(mix(seed, k.ahi), k.alo), k.bhi), k.blo), k.misc);
        size_t s = scramble(h ^ ix->salt) & tmask;
        while (table[s].v >= 0 && table[s].h != h)
            s = (s + 1) & tmask;
        double ts = b->ts[j];
        int first = table[s].v < 0, exist = 0;
        Py_ssize_t g;
        Group *G;
        if (first) {
            g = p->ngroups++;
            table[s] = (Slot){h, g};
            G = &p->groups[g];
            *G = (Group){h, {k.ahi, k.alo, k.bhi, k.blo, k.misc}, -1, ts, 0, -1, -1};
            int64_t f = ix_get(ix, h);
            if (f >= n_used) {
                PyErr_SetString(PyExc_IndexError, "flow index names a flow beyond the flow columns");
                PyMem_Free(table);
                return -1;
            }
            /* Verify the stored key: guards against a hash collision with an earlier batch. */
            if (f >= 0 && c->u[C_A_HI][f] == k.ahi && c->u[C_A_LO][f] == k.alo && c->u[C_B_HI][f] == k.bhi &&
                c->u[C_B_LO][f] == k.blo && c->i[C_A_PORT][f] == k.ap && c->i[C_B_PORT][f] == k.bp &&
                c->i[C_PROTO][f] == k.proto && c->i[C_VLAN][f] == k.vlan) {
                exist = 1;
                G->kfid = f;
                G->prev = c->f[C_LAST][f];
                G->fins = c->i[C_SINCE_SYN][f];
            }
        } else {
            g = (Py_ssize_t)table[s].v;
            G = &p->groups[g];
            if (G->key[0] != k.ahi || G->key[1] != k.alo || G->key[2] != k.bhi || G->key[3] != k.blo ||
                G->key[4] != k.misc) {
                collided = 1;
                break;
            }
        }
        int64_t flags = b->i[P_FLAGS][j];
        int tcp = k.proto == PROTO_TCP;
        double tmo = tcp ? lim->tcp_timeout : (k.proto == PROTO_UDP ? lim->udp_timeout : lim->other_timeout);
        int split = (ts - G->prev) > tmo;
        if (tcp && (flags & (TH_SYN | TH_ACK)) == TH_SYN) {
            if (G->fins > 0)
                split = 1;
            G->fins = 0;
        }
        if (tcp && (flags & (TH_FIN | TH_RST)))
            G->fins++;
        G->prev = ts;
        if (first)
            new_seg(p, g, j, exist && !split);
        else if (split)
            new_seg(p, g, j, 0);
        p->pseg[j] = G->last_seg;
        p->pisa[j] = (uint8_t)k.is_a;
    }
    PyMem_Free(table);
    if (collided)
        return 1;
    p->n = n;
    size_t ng = (size_t)(p->ngroups ? p->ngroups : 1);
    HashRef *refs = PyMem_Malloc(ng * sizeof(HashRef));
    p->gorder = PyMem_Malloc(ng * sizeof(Py_ssize_t));
    if (refs == NULL || p->gorder == NULL) {
        PyMem_Free(refs);
        PyErr_NoMemory();
        return -1;
    }
    for (Py_ssize_t g = 0; g < p->ngroups; g++)
        refs[g] = (HashRef){p->groups[g].h, g};
    qsort(refs, (size_t)p->ngroups, sizeof(HashRef), by_hash);
    for (Py_ssize_t g = 0; g < p->ngroups; g++)
        p->gorder[g] = refs[g].g;
    PyMem_Free(refs);
    return 0;
}

/*
 * Step 2: new flow ids in the reference's order (by key hash, then time), the segments' flow ids in that
 * order (out_seg) and the flows this batch supersedes (out_sup: an existing flow split at its first
 * packet here, every segment but a group's last). Returns the count of each.
 */
static void number_flows(Plan *p, Py_ssize_t n_used, int64_t *out_seg, int64_t *out_sup, Py_ssize_t *nseg,
                         Py_ssize_t *nsup)
{
    int64_t next_id = n_used;
    *nseg = *nsup = 0;
    for (Py_ssize_t r = 0; r < p->ngroups; r++) {
        const Group *G = &p->groups[p->gorder[r]];
        if (G->kfid >= 0 && !p->segs[G->first_seg].cont)
            out_sup[(*nsup)++] = G->kfid;
        for (Py_ssize_t s = G->first_seg; s >= 0; s = p->segs[s].next) {
            Seg *S = &p->segs[s];
            if (!S->cont)
                S->fid = next_id++;
            out_seg[(*nseg)++] = S->fid;
            if (S->next >= 0)
                out_sup[(*nsup)++] = S->fid;
        }
    }
}

/* A new flow's columns from its first packet (flows.FlowTable._create). The originator is the sender of
 * the first packet, except that a SYN+ACK first makes its receiver the originator (RFC 9293 §3.5). */
static void create_flow(const Batch *b, const Plan *p, const Seg *S, const Cols *c)
{
    Key k;
    Py_ssize_t j = S->first;
    int64_t f = S->fid;
    packet_key(b, j, &k);
    int synack = k.proto == PROTO_TCP && (b->i[P_FLAGS][j] & (TH_SYN | TH_ACK)) == (TH_SYN | TH_ACK);
    c->u[C_HASH][f] = p->groups[S->group].h;
    c->u[C_A_HI][f] = k.ahi;
    c->u[C_A_LO][f] = k.alo;
    c->u[C_B_HI][f] = k.bhi;
    c->u[C_B_LO][f] = k.blo;
    c->i[C_A_PORT][f] = k.ap;
    c->i[C_B_PORT][f] = k.bp;
    c->i[C_PROTO][f] = k.proto;
    c->i[C_VLAN][f] = k.vlan;
    c->b[C_L2][f] = (uint8_t)k.l2;
    c->b[C_ORIG_A][f] = (uint8_t)(k.is_a != synack);
    c->i[C_MAC_A][f] = k.is_a ? b->i[P_SMAC][j] : b->i[P_DMAC][j];
    c->i[C_MAC_B][f] = k.is_a ? b->i[P_DMAC][j] : b->i[P_SMAC][j];
    c->f[C_FIRST][f] = b->ts[j];
    c->f[C_LAST][f] = b->ts[j];
    c->b[C_ACTIVE][f] = 1;
    c->i[C_SINCE_SYN][f] = 0;
}

/* UDP ports of address assignment: DHCP 67/68 (RFC 2131 §4.1), DHCPv6 546/547 (RFC 8415 §7.2). */
static inline int assignment_port(int64_t port) { return port == 67 || port == 68 || port == 546 || port == 547; }

/*
 * Step 3: per packet, in capture order: counters, FIN/RST, FIN/RST count since the last SYN, and whether
 * its payload lies within its direction's budget (flows.FlowTable._interest). TCP offsets count from the
 * direction's initial sequence number, plus one when the first segment seen is a SYN (RFC 9293 §3.4: the
 * SYN occupies one sequence number). UDP datagrams and L2 frames count bytes and datagrams per direction;
 * address-assignment datagrams are never cut (every client of a segment shares that one flow).
 */
static void account_packets(const Batch *b, const Plan *p, const Cols *c, const Limits *lim, int64_t *out_fid,
                            int64_t *out_dir, uint8_t *out_interest, int64_t *out_rel)
{
    for (Py_ssize_t j = 0; j < p->n; j++) {
        Py_ssize_t s = p->pseg[j];
        out_interest[j] = 0;
        out_rel[j] = 0;
        if (s < 0) {
            out_fid[j] = -1;
            out_dir[j] = 0;
            continue;
        }
        int64_t f = p->segs[s].fid;
        int isa = p->pisa[j];
        int d = isa != (c->b[C_ORIG_A][f] != 0);
        int64_t fd = f * 2 + d;
        int64_t proto = b->i[P_KIND][j] == KIND_L2 ? PROTO_L2 : b->i[P_PROTO][j];
        int64_t flags = b->i[P_FLAGS][j], plen = b->i[P_PLEN][j];
        double ts = b->ts[j];
        out_fid[j] = f;
        out_dir[j] = d;
        c->i[C_PK][fd] += 1;
        c->i[C_BY][fd] += b->i[P_WIRELEN][j];
        if (isnan(ts) || ts > c->f[C_LAST][f]) /* np.maximum: NaN wins */
            c->f[C_LAST][f] = ts;
        int has = plen > 0 && !c->b[C_DONE][f];
        if (proto == PROTO_TCP) {
            if (flags & TH_FIN)
                c->b[isa ? C_FIN_A : C_FIN_B][f] = 1;
            if (flags & TH_RST)
                c->b[C_RST][f] = 1;
            if ((flags & (TH_SYN | TH_ACK)) == TH_SYN)
                c->i[C_SINCE_SYN][f] = 0;
            if (flags & (TH_FIN | TH_RST))
                c->i[C_SINCE_SYN][f] += 1;
            uint64_t seq = (uint64_t)b->i[P_SEQ][j];
            if (!c->b[C_BASE_OK][fd]) {
                c->i[C_BASE][fd] = (int64_t)((seq + ((flags & TH_SYN) != 0)) & SEQ_MASK);
                c->b[C_BASE_OK][fd] = 1;
            }
            int64_t rel = (int64_t)((seq - (uint64_t)c->i[C_BASE][fd]) & SEQ_MASK);
            out_rel[j] = rel;
            out_interest[j] = (uint8_t)(has && !c->b[C_FULL][fd] && (double)rel < lim->tcp_budget);
        } else if (proto == PROTO_UDP || proto == PROTO_L2) {
            int udp = proto == PROTO_UDP;
            double budget = udp ? lim->udp_budget : lim->frame_budget, most = udp ? lim->udp_max : lim->frame_max;
            int within = (double)c->i[C_UBYTES][fd] < budget && (double)c->i[C_UCNT][fd] < most;
            if (udp) {
                int64_t sp = b->i[P_SPORT][j], dp = b->i[P_DPORT][j];
                within |= assignment_port(sp < dp ? sp : dp);
            }
            out_interest[j] = (uint8_t)(has && within);
            c->i[C_UBYTES][fd] += plen;
            c->i[C_UCNT][fd] += 1;
        }
    }
}

/*
 * index.account(batch, cols, n_used, allocate, seed, limits, outs) -> (nseg, nsup, nnew), or None when two
 * keys of the batch share a hash (nothing was changed; the caller runs the reference instead).
 *   batch: the PacketBatch columns in P_* order; cols: FlowColumns.col; n_used: FlowColumns.n;
 *   allocate: FlowColumns.allocate (called once with the count of new flows; may replace the columns);
 *   limits: (tcp_budget, udp_budget, udp_max_datagrams, frame_budget, frame_max, tcp_timeout,
 *            udp_timeout, other_timeout);
 *   outs: (fid, dir, interest, rel, seg, sup), each at least len(batch) long.
 */
PyObject *FlowIndex_account(FlowIndex *ix, PyObject *args)
{
    PyObject *batch, *col_dict, *allocate, *outs;
    Py_ssize_t n_used;
    unsigned long long seed;
    Limits lim;
    if (!PyArg_ParseTuple(args, "O!O!nOK(dddddddd)O!", &PyTuple_Type, &batch, &PyDict_Type, &col_dict, &n_used,
                          &allocate, &seed, &lim.tcp_budget, &lim.udp_budget, &lim.udp_max, &lim.frame_budget,
                          &lim.frame_max, &lim.tcp_timeout, &lim.udp_timeout, &lim.other_timeout, &PyTuple_Type,
                          &outs))
        return NULL;
    if (PyTuple_GET_SIZE(batch) != P_COUNT || PyTuple_GET_SIZE(outs) != 6 || n_used < 0) {
        PyErr_SetString(PyExc_ValueError, "account: expected 16 packet columns and 6 outputs");
        return NULL;
    }
    Py_buffer pviews[P_COUNT], oviews[6], cviews[C_COUNT];
    Batch b;
    Py_ssize_t n = 0;
    for (int k = 0; k < P_COUNT; k++) {
        if (get_buf(PyTuple_GET_ITEM(batch, k), &pviews[k], P_TYPES[k], 0, k ? n : 0, "packet column") < 0) {
            release_all(pviews, k);
            return NULL;
        }
        if (k == 0)
            n = pviews[0].len / 8;
        b.i[k] = pviews[k].buf;
        b.u[k] = pviews[k].buf;
    }
    b.ts = pviews[P_TS].buf;
    static const char O_TYPES[6] = {'i', 'i', 'b', 'i', 'i', 'i'};
    for (int k = 0; k < 6; k++) {
        if (get_buf(PyTuple_GET_ITEM(outs, k), &oviews[k], O_TYPES[k], 1, n, "output") < 0) {
            release_all(oviews, k);
            release_all(pviews, P_COUNT);
            return NULL;
        }
    }
    PyObject *result = NULL;
    Plan p;
    memset(&p, 0, sizeof(p));
    Cols c;
    int rc = -1;
    if (get_cols(col_dict, PLAN_COLS, N_PLAN_COLS, n_used, cviews, &c) == 0) {
        rc = plan_batch(ix, &b, n, (uint64_t)seed, &lim, &c, n_used, &p);
        release_all(cviews, N_PLAN_COLS);
    }
    if (rc == 1) {
        result = Py_NewRef(Py_None);
    } else if (rc == 0) {
        Py_ssize_t nseg, nsup;
        number_flows(&p, n_used, oviews[4].buf, oviews[5].buf, &nseg, &nsup);
        /* Take the new flows' slots (the columns may be reallocated); they must follow the used ones. */
        PyObject *ids = p.nnew ? PyObject_CallFunction(allocate, "n", p.nnew) : Py_NewRef(Py_None);
        Py_buffer idv;
        int ok = ids != NULL;
        if (ok && p.nnew) {
            ok = get_buf(ids, &idv, 'i', 0, p.nnew, "allocated ids") == 0;
            if (ok) {
                ok = ((int64_t *)idv.buf)[0] == n_used;
                PyBuffer_Release(&idv);
                if (!ok)
                    PyErr_SetString(PyExc_RuntimeError, "allocate did not return the next flow ids");
            }
        }
        Py_XDECREF(ids);
        if (ok && get_cols(col_dict, NULL, C_COUNT, n_used + p.nnew, cviews, &c) == 0) {
            for (Py_ssize_t s = 0; s < p.nseg; s++)
                if (!p.segs[s].cont)
                    create_flow(&b, &p, &p.segs[s], &c);
            account_packets(&b, &p, &c, &lim, oviews[0].buf, oviews[1].buf, oviews[2].buf, oviews[3].buf);
            release_all(cviews, C_COUNT);
            /* Each key now leads to its latest flow (dict.update in the reference). */
            for (Py_ssize_t g = 0; g < p.ngroups && ok; g++)
                ok = ix_put(ix, p.groups[g].h, p.segs[p.groups[g].last_seg].fid) == 0;
            if (ok)
                result = Py_BuildValue("nnn", nseg, nsup, p.nnew);
        }
    }
    plan_free(&p);
    release_all(oviews, 6);
    release_all(pviews, P_COUNT);
    return result;
}
static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "wardwatch.capture._flowkernel",
    "Compiled per-packet flow accounting (reference: the numpy code of wardwatch.capture.flows).", -1, NULL,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__flowkernel(void)
{
    if (PyType_Ready(&FlowIndexType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "FlowIndex", (PyObject *)&FlowIndexType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
