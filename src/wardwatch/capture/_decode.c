/*
 * Packet headers in C: one walk over the records of a batch, filling the columns of a PacketBatch.
 *
 * The Python reference is wardwatch/capture/decode.py (packet_walk, link_walk and their helpers); this
 * file follows it function for function, and tests compare the two on real captures and on random bytes.
 * Standards: tcpdump.org LINKTYPE_* registry; IEEE 802.1Q §9.6 (VLAN tags); IEEE 802.2 LLC + SNAP (CDP);
 * RFC 791 §3.1 (IPv4); RFC 8200 §3-4 (IPv6 and extension headers), RFC 4302 §2.2 (AH); RFC 9293 §3.1
 * (TCP); RFC 768 (UDP); RFC 4291 §2.5.5.2 (IPv4-mapped addresses).
 *
 * Reads follow the reference exactly: fixed windows from the start of the link and network headers, bytes
 * outside the buffer read as zero (u8) or clamped into it (u8c); every read is bounds-checked.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define KIND_SKIP 0
#define KIND_IP 1
#define KIND_L2 2
#define KIND_FRAGMENT 3
#define KIND_NONIP 4
#define ETH_IPV4 0x0800
#define ETH_IPV6 0x86DD
#define ETH_CDP 0x2000
#define NO_TRANSPORT 255
#define V4_MAPPED 0x0000FFFF00000000ULL

typedef struct {
    const uint8_t *b;
    int64_t size;
} Buf;

static inline int64_t u8(const Buf *r, int64_t at) { return (at >= 0 && at < r->size) ? r->b[at] : 0; }

static inline int64_t u8c(const Buf *r, int64_t at)
{
    if (r->size == 0)
        return 0;
    if (at < 0)
        at = 0;
    if (at > r->size - 1)
        at = r->size - 1;
    return r->b[at];
}

static inline int64_t be16(const Buf *r, int64_t at) { return (u8(r, at) << 8) | u8(r, at + 1); }
static inline int64_t be32(const Buf *r, int64_t at) { return (be16(r, at) << 16) | be16(r, at + 2); }
static inline int64_t le32(const Buf *r, int64_t at)
{
    return (u8(r, at + 3) << 24) | (u8(r, at + 2) << 16) | (u8(r, at + 1) << 8) | u8(r, at);
}
static inline int64_t be48(const Buf *r, int64_t at) { return (be16(r, at) << 32) | be32(r, at + 2); }
static inline uint64_t be64(const Buf *r, int64_t at)
{
    return ((uint64_t)be32(r, at) << 32) | (uint64_t)be32(r, at + 4);
}

static inline int is_tpid(int64_t et) { return et == 0x8100 || et == 0x88A8 || et == 0x9100; }

/* LLC DSAP AA, SSAP AA, control 03 (UI), SNAP OUI 00000c, protocol id 0x2000: CDP. */
static inline int is_snap_cdp(const Buf *r, int64_t at)
{
    return be32(r, at) == 0xAAAA0300 && be32(r, at + 4) == 0x000C2000;
}

typedef struct {
    int64_t l3, etype, vlan, smac, dmac, ftype;
    int supported;
} Link;

static Link ethernet(const Buf *r, int64_t off, int64_t cap)
{
    Link k;
    int64_t et = cap >= 14 ? be16(r, off + 12) : -1, vlan = -1, hdr = 14;
    while (hdr <= 18 && cap >= hdr + 4 && is_tpid(et)) { /* IEEE 802.1Q §9.6: TPID, TCI, inner type */
        vlan = be16(r, off + hdr) & 0x0FFF;
        et = be16(r, off + hdr + 2);
        hdr += 4;
    }
    if (is_tpid(et))
        et = -1; /* more than two tags: not decoded */
    int64_t ftype = et;
    if (et >= 0 && et < 0x0600) /* IEEE 802.3 length: LLC follows; only SNAP CDP is of interest */
        et = (cap >= hdr + 8 && is_snap_cdp(r, off + hdr)) ? ETH_CDP : -1;
    k.l3 = off + hdr;
    k.etype = et;
    k.vlan = vlan;
    k.ftype = ftype;
    k.supported = 1;
    if (cap < 14) {
        k.smac = k.dmac = -1;
    } else {
        k.smac = be48(r, off + 6);
        k.dmac = be48(r, off);
    }
    return k;
}

static Link sll(const Buf *r, int64_t off, int64_t cap, int v2)
{
    /* Linux cooked capture v1 (16 bytes) and v2 (20 bytes). */
    int64_t hlen, pcol, halen, acol;
    if (v2) {
        hlen = 20, pcol = 0, halen = u8(r, off + 11), acol = 12;
    } else {
        hlen = 16, pcol = 14, halen = be16(r, off + 4), acol = 6;
    }
    Link k;
    int64_t et = cap >= hlen ? be16(r, off + pcol) : -1;
    k.ftype = et;
    if (et < 0x0600) /* ETH_P_802_2 (4) then LLC/SNAP: CDP; other pseudo-protocols: not decoded */
        et = (et == 0x0004 && cap >= hlen + 8 && is_snap_cdp(r, off + hlen)) ? ETH_CDP : -1;
    k.l3 = off + hlen;
    k.etype = et;
    k.vlan = -1;
    k.smac = (halen == 6 && cap >= hlen) ? be48(r, off + acol) : -1;
    k.dmac = -1;
    k.supported = 1;
    return k;
}

static Link link_header(const Buf *r, int64_t off, int64_t cap, int64_t lt)
{
    Link k = {off, -1, -1, -1, -1, -1, 1};
    if (lt == 1)
        return ethernet(r, off, cap);
    if (lt == 113 || lt == 276)
        return sll(r, off, cap, lt == 276);
    if (lt == 0 || lt == 108) {
        /* A 4-byte address family: network byte order (LOOP), host byte order (NULL; above 0xFFFF read
         * little-endian means a big-endian writer). AF_INET 2; AF_INET6 10, 24, 28, 30. */
        int64_t be = be32(r, off), le = le32(r, off);
        int64_t fam = (lt == 108 || le > 0xFFFF) ? be : le;
        if (cap >= 4 && fam == 2)
            k.etype = ETH_IPV4;
        else if (cap >= 4 && (fam == 10 || fam == 24 || fam == 28 || fam == 30))
            k.etype = ETH_IPV6;
        k.l3 = off + 4;
        return k;
    }
    if (lt == 228) {
        k.etype = ETH_IPV4;
        return k;
    }
    if (lt == 229) {
        k.etype = ETH_IPV6;
        return k;
    }
    if (lt == 12 || lt == 14 || lt == 101) {
        int64_t ver = u8c(r, off) >> 4; /* RAW: the IP version nibble tells */
        k.etype = ver == 4 ? ETH_IPV4 : (ver == 6 ? ETH_IPV6 : -1);
        return k;
    }
    k.supported = 0;
    return k;
}

static inline int is_v6_ext(int64_t p) { return p == 0 || p == 43 || p == 44 || p == 51 || p == 60 || p == 135; }

/* At most 8 IPv6 extension headers (RFC 8200 §4; AH: RFC 4302 §2.2). */
static void ipv6_ext(const Buf *r, int64_t *l4, int64_t end, int64_t *proto, int *later)
{
    *later = 0;
    for (int k = 0; k < 8; k++) {
        if (!is_v6_ext(*proto))
            break;
        int64_t nh = u8c(r, *l4), hl = u8c(r, *l4 + 1), step;
        if (*proto == 51) {
            step = (hl + 2) * 4;
        } else if (*proto == 44) {
            step = 8;
            *later = *later || (((u8c(r, *l4 + 2) << 8) | u8c(r, *l4 + 3)) >> 3) != 0;
        } else {
            step = (hl + 1) * 8;
        }
        int inside = *l4 + 8 <= end;
        *proto = inside ? nh : NO_TRANSPORT;
        *l4 += step;
        if (!inside || *later)
            break;
    }
}

typedef struct {
    int64_t kind, reason, proto, sport, dport, flags, seq, poff, plen;
    uint64_t src_hi, src_lo, dst_hi, dst_lo;
    int cut;
} Net;

static Net network(const Buf *r, int64_t l3, int64_t end, int64_t etype)
{
    Net n;
    int64_t b0 = u8(r, l3);
    int64_t ihl = (b0 & 0x0F) * 4, tot4 = be16(r, l3 + 2);
    int ok4 = etype == ETH_IPV4 && (b0 >> 4) == 4 && ihl >= 20 && end - l3 >= ihl && tot4 >= ihl;
    int ok6 = etype == ETH_IPV6 && (b0 >> 4) == 6 && end - l3 >= 40;
    int64_t l4, ipend, proto;
    int later;
    if (ok4) {
        l4 = l3 + ihl;
        ipend = l3 + tot4;
        proto = u8(r, l3 + 9);
        later = (be16(r, l3 + 6) & 0x1FFF) != 0; /* only the first fragment carries the transport header */
        n.src_hi = 0;
        n.src_lo = V4_MAPPED | (uint64_t)be32(r, l3 + 12);
        n.dst_hi = 0;
        n.dst_lo = V4_MAPPED | (uint64_t)be32(r, l3 + 16);
    } else {
        l4 = l3 + 40;
        ipend = l3 + 40 + be16(r, l3 + 4);
        proto = u8(r, l3 + 6);
        later = 0;
        n.src_hi = be64(r, l3 + 8);
        n.src_lo = be64(r, l3 + 16);
        n.dst_hi = be64(r, l3 + 24);
        n.dst_lo = be64(r, l3 + 32);
        if (ok6)
            ipv6_ext(r, &l4, end, &proto, &later);
    }
    int ok = ok4 || ok6;
    n.kind = (ok && later) ? KIND_FRAGMENT : KIND_SKIP;
    n.reason = ok ? 0 : 3;
    int good = ok && !later;
    if (ipend < l4)
        ipend = l4;
    n.cut = ipend > end;
    if (ipend > end)
        ipend = end;
    int tcp = good && proto == 6, udp = good && proto == 17;
    int64_t tlen = tcp ? (u8(r, l4 + 12) >> 4) * 4 : (udp ? 8 : 0);
    if ((tcp && (l4 + 20 > end || tlen < 20)) || (udp && l4 + 8 > end)) {
        n.reason = 4;
        good = 0;
    }
    if (good)
        n.kind = KIND_IP;
    int ports = tcp || udp;
    n.proto = proto;
    n.sport = ports ? be16(r, l4) : 0;
    n.dport = ports ? be16(r, l4 + 2) : 0;
    n.flags = tcp ? u8(r, l4 + 13) : 0;
    n.seq = tcp ? be32(r, l4 + 4) : 0;
    n.poff = l4 + tlen;
    n.plen = (ports && good && ipend > n.poff) ? ipend - n.poff : 0;
    return n;
}

/* One buffer argument: the raw bytes ('r'), or an array of int64 ('i'), uint64 ('u') or bool ('b') elements
 * holding at least `items` of them, C-contiguous, writable where asked. */
typedef struct {
    PyObject *obj;
    char kind;
    int writable;
    Py_ssize_t items;
} Arg;

static int get_one(const Arg *a, Py_buffer *v)
{
    if (a->kind == 'r')
        return PyObject_GetBuffer(a->obj, v, PyBUF_SIMPLE);
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (a->writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(a->obj, v, flags) < 0)
        return -1;
    const char *f = v->format ? v->format : "B";
    if (*f == '<' || *f == '=' || *f == '@')
        f++;
    int ok;
    if (a->kind == 'i')
        ok = v->itemsize == 8 && (*f == 'q' || *f == 'l');
    else if (a->kind == 'u')
        ok = v->itemsize == 8 && (*f == 'Q' || *f == 'L');
    else
        ok = v->itemsize == 1 && *f == '?';
    if (!ok || v->len / v->itemsize < a->items) {
        PyBuffer_Release(v);
        PyErr_SetString(PyExc_TypeError, "decode: an array of the wrong type or size");
        return -1;
    }
    return 0;
}

/* All the arguments' buffers, or none (an exception set). */
static int get_all(const Arg *args, Py_buffer *views, int count)
{
    for (int i = 0; i < count; i++) {
        if (get_one(&args[i], &views[i]) < 0) {
            while (--i >= 0)
                PyBuffer_Release(&views[i]);
            return -1;
        }
    }
    return 0;
}

static void release_all(Py_buffer *views, int count)
{
    for (int i = 0; i < count; i++)
        PyBuffer_Release(&views[i]);
}

/* packet_walk(raw, off, caplen, link, out, addr, cut): see decode.packet_walk (out: 12 rows, addr: 4). */
static PyObject *packet_walk(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *o[7];
    if (!PyArg_ParseTuple(args, "OOOOOOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5], &o[6]))
        return NULL;
    Py_ssize_t n = PyObject_Length(o[1]);
    if (n < 0)
        return NULL;
    Arg spec[7] = {{o[0], 'r', 0, 0}, {o[1], 'i', 0, n}, {o[2], 'i', 0, n}, {o[3], 'i', 0, n},
                   {o[4], 'i', 1, 12 * n}, {o[5], 'u', 1, 4 * n}, {o[6], 'b', 1, n}};
    Py_buffer v[7];
    if (get_all(spec, v, 7) < 0)
        return NULL;
    Buf r = {(const uint8_t *)v[0].buf, v[0].len};
    const int64_t *po = v[1].buf, *pc = v[2].buf, *pl = v[3].buf;
    int64_t *col = v[4].buf;
    uint64_t *ad = v[5].buf;
    char *cu = v[6].buf;
    Py_BEGIN_ALLOW_THREADS
    for (Py_ssize_t i = 0; i < n; i++) {
        int64_t end = po[i] + pc[i];
        Link k = link_header(&r, po[i], pc[i], pl[i]);
        int64_t kind = 0, reason = 0, proto = 0, sport = 0, dport = 0, flags = 0, seq = 0;
        int64_t poff = k.l3, plen = end - k.l3 > 0 ? end - k.l3 : 0;
        uint64_t sh = 0, sl = 0, dh = 0, dl = 0;
        int short_ = 0;
        if (!k.supported) {
            reason = 1;
        } else if (k.l3 > end) {
            reason = 2;
        } else if (k.etype != ETH_IPV4 && k.etype != ETH_IPV6) {
            /* Non-IP frames: L2 flows keyed by source MAC, the ethertype as destination port, the raw
             * type/length field as source port. */
            if (k.etype >= 0 && k.smac >= 0) {
                kind = KIND_L2;
                sport = k.ftype;
                dport = k.etype;
            } else {
                kind = KIND_NONIP;
            }
        } else {
            Net t = network(&r, k.l3, end, k.etype);
            kind = t.kind, reason = t.reason, proto = t.proto, sport = t.sport, dport = t.dport;
            flags = t.flags, seq = t.seq, poff = t.poff, plen = t.plen;
            sh = t.src_hi, sl = t.src_lo, dh = t.dst_hi, dl = t.dst_lo, short_ = t.cut;
        }
        int64_t row[12] = {kind, reason, k.vlan, k.smac, k.dmac, proto, sport, dport, flags, seq, poff, plen};
        for (int c = 0; c < 12; c++)
            col[c * n + i] = row[c];
        ad[0 * n + i] = sh;
        ad[1 * n + i] = sl;
        ad[2 * n + i] = dh;
        ad[3 * n + i] = dl;
        cu[i] = (char)short_;
    }
    Py_END_ALLOW_THREADS
    release_all(v, 7);
    Py_RETURN_NONE;
}

/* link_walk(raw, off, caplen, link, out, supported): see decode.link_walk (out: 6 rows). */
static PyObject *link_walk(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *o[6];
    if (!PyArg_ParseTuple(args, "OOOOOO", &o[0], &o[1], &o[2], &o[3], &o[4], &o[5]))
        return NULL;
    Py_ssize_t n = PyObject_Length(o[1]);
    if (n < 0)
        return NULL;
    Arg spec[6] = {{o[0], 'r', 0, 0}, {o[1], 'i', 0, n}, {o[2], 'i', 0, n}, {o[3], 'i', 0, n},
                   {o[4], 'i', 1, 6 * n}, {o[5], 'b', 1, n}};
    Py_buffer v[6];
    if (get_all(spec, v, 6) < 0)
        return NULL;
    Buf r = {(const uint8_t *)v[0].buf, v[0].len};
    const int64_t *po = v[1].buf, *pc = v[2].buf, *pl = v[3].buf;
    int64_t *col = v[4].buf;
    char *su = v[5].buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        Link k = link_header(&r, po[i], pc[i], pl[i]);
        int64_t row[6] = {k.l3, k.etype, k.vlan, k.smac, k.dmac, k.ftype};
        for (int c = 0; c < 6; c++)
            col[c * n + i] = row[c];
        su[i] = (char)k.supported;
    }
    release_all(v, 6);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"packet_walk", packet_walk, METH_VARARGS, "Decode the headers of a batch of records (see decode.py)."},
    {"link_walk", link_walk, METH_VARARGS, "Decode the link headers of a batch of records (see decode.py)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "wardwatch.capture._decode",
    "Packet headers of the capture hot path (reference: wardwatch.capture.decode).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__decode(void) { return PyModule_Create(&module); }
