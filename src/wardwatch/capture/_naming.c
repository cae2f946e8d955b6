/*
 * Compiled per-flow naming of the flow table: endpoint texts, sink slots and flow records of many flows.
 *
 * The reference is wardwatch/capture/flowstate.py (Namer.endpoints, Namer.make_slots, Namer.records):
 * this file does the same per-flow loops with results that must be equal (tests compare both on
 * generated columns and on whole captures). A `Texts` object holds the two bounded caches of the
 * reference (address text by 128-bit address, MAC text by MAC), each emptied once it holds more than
 * 2^18 entries, as the reference's dicts are.
 *
 * Texts are made exactly as the reference makes them: addresses by the C library's inet_ntop (which is
 * what socket.inet_ntop calls: dotted decimal for an IPv4 address stored v4-mapped (RFC 4291 §2.5.5.2),
 * else the RFC 5952 compressed IPv6 form), MACs as six lower-case hex pairs joined by colons
 * (bytes.hex(":")). The cache tables are keyed through a secret per-object salt, so crafted addresses
 * cannot pile into one probe chain.
 *
 * Flow columns come through the buffer protocol (no numpy headers): each is checked for element type,
 * dimensions (per-direction columns are (rows, 2)), C contiguity and a common row count; every flow id is
 * checked against that count (a negative id counts from the end, as numpy indexing does) before it
 * indexes a column. No pointer into a cache table is kept across a call into Python code.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <string.h>
#ifdef _WIN32
#include <winsock2.h>
#include <ws2tcpip.h>
#else
#include <arpa/inet.h>
#include <sys/socket.h>
#endif

#include "_cshared.h"

/* wardwatch.domain.flow protocol numbers (IANA "Assigned Internet Protocol Numbers"; 0 marks a non-IP
 * frame). */
#define PROTO_L2 0
#define PROTO_TCP 6
/* The upper 32 bits of the low half of a v4-mapped address ::ffff:a.b.c.d (flowstate.V4_PREFIX). */
#define V4_PREFIX 0xFFFFULL
/* A cache holding more entries than this is emptied before the next insertion (the reference's 1 << 18). */
#define CACHE_LIMIT ((size_t)1 << 18)
#define FIRST_CAPACITY 256
/* MACs are 48-bit (IEEE 802); int.to_bytes(6) refuses anything larger. */
#define MAC_END ((int64_t)1 << 48)

/* -- text caches ------------------------------------------------------------------------------------ */

/* One cached text under a 128-bit key; `text == NULL` marks an empty entry. */
typedef struct {
    uint64_t hi, lo;
    PyObject *text;
} Entry;

typedef struct {
    Entry *e;    /* NULL while empty */
    size_t mask; /* capacity - 1; capacity is a power of two, at most 3/4 full */
    size_t count;
} Cache;

static inline size_t home(uint64_t salt, uint64_t hi, uint64_t lo, size_t mask)
{
    return (size_t)(scramble(scramble(lo ^ salt) ^ hi) & mask);
}

static void cache_clear(Cache *c)
{
    Entry *e = c->e;
    size_t cap = c->e == NULL ? 0 : c->mask + 1;
    c->e = NULL;
    c->mask = 0;
    c->count = 0;
    for (size_t i = 0; i < cap; i++)
        Py_XDECREF(e[i].text); /* str objects: no Python code runs */
    PyMem_Free(e);
}

/* A new reference to the text under (hi, lo), or NULL (no exception set) when there is none. */
static PyObject *cache_get(const Cache *c, uint64_t salt, uint64_t hi, uint64_t lo)
{
    if (c->e == NULL)
        return NULL;
    size_t s = home(salt, hi, lo, c->mask);
    while (c->e[s].text != NULL) {
        if (c->e[s].hi == hi && c->e[s].lo == lo)
            return Py_NewRef(c->e[s].text);
        s = (s + 1) & c->mask;
    }
    return NULL;
}

/* Store `text` under an absent (hi, lo); past CACHE_LIMIT entries the cache is emptied first (the
 * reference's `if len(cache) > 1 << 18: cache.clear()`). 0, or -1 and MemoryError. */
static int cache_put(Cache *c, uint64_t salt, uint64_t hi, uint64_t lo, PyObject *text)
{
    if (c->count > CACHE_LIMIT)
        cache_clear(c);
    if (c->e == NULL || (c->count + 1) * 4 > (c->mask + 1) * 3) {
        size_t cap = c->e == NULL ? FIRST_CAPACITY : (c->mask + 1) * 2;
        Entry *fresh = PyMem_Calloc(cap, sizeof(Entry));
        if (fresh == NULL) {
            PyErr_NoMemory();
            return -1;
        }
        size_t old_cap = c->e == NULL ? 0 : c->mask + 1;
        for (size_t i = 0; i < old_cap; i++) {
            Entry *o = &c->e[i];
            if (o->text == NULL)
                continue;
            size_t s = home(salt, o->hi, o->lo, cap - 1);
            while (fresh[s].text != NULL)
                s = (s + 1) & (cap - 1);
            fresh[s] = *o;
        }
        PyMem_Free(c->e);
        c->e = fresh;
        c->mask = cap - 1;
    }
    size_t s = home(salt, hi, lo, c->mask);
    while (c->e[s].text != NULL)
        s = (s + 1) & c->mask;
    c->e[s] = (Entry){hi, lo, Py_NewRef(text)};
    c->count++;
    return 0;
}

typedef struct {
    PyObject_HEAD
    uint64_t salt;
    Cache ips;
    Cache macs;
} Texts;

static PyTypeObject TextsType;

/* The text of an address (flowstate.ip_text), a new reference. */
static PyObject *ip_text(Texts *t, uint64_t hi, uint64_t lo)
{
    PyObject *text = cache_get(&t->ips, t->salt, hi, lo);
    if (text != NULL)
        return text;
    unsigned char raw[16];
    char buf[64];
    const char *ok;
    if (hi == 0 && lo >> 32 == V4_PREFIX) {
        for (int k = 0; k < 4; k++)
            raw[k] = (unsigned char)(lo >> (24 - 8 * k));
        ok = inet_ntop(AF_INET, raw, buf, sizeof(buf));
    } else {
        for (int k = 0; k < 8; k++) {
            raw[k] = (unsigned char)(hi >> (56 - 8 * k));
            raw[8 + k] = (unsigned char)(lo >> (56 - 8 * k));
        }
        ok = inet_ntop(AF_INET6, raw, buf, sizeof(buf));
    }
    if (ok == NULL)
        return PyErr_SetFromErrno(PyExc_OSError);
    text = PyUnicode_FromString(buf);
    if (text == NULL)
        return NULL;
    if (cache_put(&t->ips, t->salt, hi, lo, text) < 0) {
        Py_DECREF(text);
        return NULL;
    }
    return text;
}

/* The text of a MAC (flowstate.mac_text: None when negative), a new reference. */
static PyObject *mac_text(Texts *t, int64_t mac)
{
    if (mac < 0)
        Py_RETURN_NONE;
    if (mac >= MAC_END) {
        PyErr_SetString(PyExc_OverflowError, "int too big to convert");
        return NULL;
    }
    PyObject *text = cache_get(&t->macs, t->salt, 0, (uint64_t)mac);
    if (text != NULL)
        return text;
    static const char hex[] = "0123456789abcdef";
    text = PyUnicode_New(17, 127);
    if (text == NULL)
        return NULL;
    Py_UCS1 *p = PyUnicode_1BYTE_DATA(text);
    for (int k = 0; k < 6; k++) {
        unsigned v = (unsigned)((uint64_t)mac >> (40 - 8 * k)) & 0xFF;
        p[3 * k] = (Py_UCS1)hex[v >> 4];
        p[3 * k + 1] = (Py_UCS1)hex[v & 0xF];
        if (k < 5)
            p[3 * k + 2] = ':';
    }
    if (cache_put(&t->macs, t->salt, 0, (uint64_t)mac, text) < 0) {
        Py_DECREF(text);
        return NULL;
    }
    return text;
}

/* -- flow columns ----------------------------------------------------------------------------------- */

/* The columns read here (wardwatch.capture.flowstate.COLUMNS). endpoints reads the first N_ENDS,
 * make_slots one more (first), records all of them. */
enum { C_A_HI, C_A_LO, C_B_HI, C_B_LO, C_A_PORT, C_B_PORT, C_MAC_A, C_MAC_B, C_ORIG_A, C_L2, C_PROTO, C_VLAN,
       C_FIRST, C_LAST, C_PK, C_BY, C_ANSWERED, C_COUNT };
#define N_ENDS (C_VLAN + 1)
#define N_SLOTS (C_FIRST + 1)
static const char *C_NAMES[C_COUNT] = {"a_hi", "a_lo", "b_hi", "b_lo", "a_port", "b_port", "mac_a", "mac_b",
                                       "orig_a", "l2", "proto", "vlan", "first", "last", "pk", "by",
                                       "answered"};
/* Element types: 'u' uint64, 'i' int64, 'f' float64, 'b' bool. */
static const char C_TYPES[C_COUNT] = {'u', 'u', 'u', 'u', 'i', 'i', 'i', 'i', 'b', 'b', 'i', 'i',
                                      'f', 'f', 'i', 'i', 'b'};
static const char C_PER_DIR[C_COUNT] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0};

typedef struct {
    Py_buffer v[C_COUNT];
    int held;
    Py_ssize_t rows;
    const uint64_t *u[C_COUNT];
    const int64_t *i[C_COUNT];
    const double *f[C_COUNT];
    const uint8_t *b[C_COUNT];
} Cols;

static void cols_release(Cols *c)
{
    for (int k = 0; k < c->held; k++)
        PyBuffer_Release(&c->v[k]);
    c->held = 0;
}

/* The first `count` columns of the dict `col`, checked; 0, or -1 with an exception. */
static int cols_get(PyObject *col, int count, Cols *c)
{
    c->held = 0;
    c->rows = 0;
    if (!PyDict_Check(col)) {
        PyErr_SetString(PyExc_TypeError, "flow columns must be a dict");
        return -1;
    }
    for (int k = 0; k < count; k++) {
        PyObject *arr = PyDict_GetItemString(col, C_NAMES[k]); /* borrowed */
        if (arr == NULL) {
            PyErr_Format(PyExc_KeyError, "flow column %s", C_NAMES[k]);
            cols_release(c);
            return -1;
        }
        Py_buffer *v = &c->v[k];
        if (PyObject_GetBuffer(arr, v, PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0) {
            cols_release(c);
            return -1;
        }
        c->held = k + 1;
        int ndim = C_PER_DIR[k] ? 2 : 1;
        if (!format_ok(v, C_TYPES[k]) || v->ndim != ndim || v->shape == NULL || (ndim == 2 && v->shape[1] != 2) ||
            (k > 0 && v->shape[0] != c->rows)) {
            PyErr_Format(PyExc_TypeError, "flow column %s: wrong element type, shape or length", C_NAMES[k]);
            cols_release(c);
            return -1;
        }
        if (k == 0)
            c->rows = v->shape[0];
        c->u[k] = v->buf;
        c->i[k] = v->buf;
        c->f[k] = v->buf;
        c->b[k] = v->buf;
    }
    return 0;
}

/* Flow ids: a 1-D int64 array (any stride). */
typedef struct {
    Py_buffer v;
    Py_ssize_t n;
} Ids;

static int ids_get(PyObject *obj, Ids *ids)
{
    if (PyObject_GetBuffer(obj, &ids->v, PyBUF_STRIDES | PyBUF_FORMAT) < 0)
        return -1;
    if (!format_ok(&ids->v, 'i') || ids->v.ndim != 1 || ids->v.shape == NULL || ids->v.strides == NULL) {
        PyErr_SetString(PyExc_TypeError, "flow ids must be a 1-D int64 array");
        PyBuffer_Release(&ids->v);
        return -1;
    }
    ids->n = ids->v.shape[0];
    return 0;
}

static inline int64_t id_at(const Ids *ids, Py_ssize_t k)
{
    int64_t f;
    memcpy(&f, (const char *)ids->v.buf + k * ids->v.strides[0], sizeof(f));
    return f;
}

/* The row of flow id `f` (negative: from the end), or -1 and IndexError. */
static inline Py_ssize_t row_of(const Cols *c, int64_t f)
{
    int64_t r = f < 0 ? f + (int64_t)c->rows : f;
    if (r < 0 || r >= (int64_t)c->rows) {
        PyErr_Format(PyExc_IndexError, "flow id %lld is out of bounds for %zd flows", (long long)f, c->rows);
        return -1;
    }
    return (Py_ssize_t)r;
}

/* -- endpoints -------------------------------------------------------------------------------------- */

enum { E_CIP, E_SIP, E_CPORT, E_SPORT, E_CMAC, E_SMAC, E_PROTO, E_VLAN, E_COUNT };

static void ends_clear(PyObject **e)
{
    for (int k = 0; k < E_COUNT; k++)
        Py_CLEAR(e[k]);
}

/* The eight endpoint values of row `r` as new references (Namer.endpoints: client = originator; an L2
 * frame has no addresses, port 0 and its ethertype as the server port). 0, or -1 with an exception and
 * `e` cleared. */
static int ends_of(Texts *t, const Cols *c, Py_ssize_t r, PyObject **e)
{
    memset(e, 0, E_COUNT * sizeof(PyObject *));
    int64_t vlan = c->i[C_VLAN][r];
    if (c->b[C_L2][r]) {
        e[E_CIP] = Py_NewRef(Py_None);
        e[E_SIP] = Py_NewRef(Py_None);
        e[E_CPORT] = PyLong_FromLong(0);
        e[E_SPORT] = PyLong_FromLongLong(c->i[C_A_PORT][r]);
        e[E_CMAC] = mac_text(t, c->i[C_MAC_A][r]);
        e[E_SMAC] = e[E_CMAC] == NULL ? NULL : mac_text(t, c->i[C_MAC_B][r]);
        e[E_PROTO] = PyLong_FromLong(PROTO_L2);
    } else {
        int a = c->b[C_ORIG_A][r] != 0; /* the originator is endpoint a */
        int cl = a ? 0 : 1;
        const uint64_t hi[2] = {c->u[C_A_HI][r], c->u[C_B_HI][r]};
        const uint64_t lo[2] = {c->u[C_A_LO][r], c->u[C_B_LO][r]};
        const int64_t port[2] = {c->i[C_A_PORT][r], c->i[C_B_PORT][r]};
        const int64_t mac[2] = {c->i[C_MAC_A][r], c->i[C_MAC_B][r]};
        e[E_CIP] = ip_text(t, hi[cl], lo[cl]);
        e[E_SIP] = e[E_CIP] == NULL ? NULL : ip_text(t, hi[1 - cl], lo[1 - cl]);
        e[E_CPORT] = PyLong_FromLongLong(port[cl]);
        e[E_SPORT] = PyLong_FromLongLong(port[1 - cl]);
        e[E_CMAC] = e[E_SIP] == NULL ? NULL : mac_text(t, mac[cl]);
        e[E_SMAC] = e[E_CMAC] == NULL ? NULL : mac_text(t, mac[1 - cl]);
        e[E_PROTO] = PyLong_FromLongLong(c->i[C_PROTO][r]);
    }
    e[E_VLAN] = vlan < 0 ? Py_NewRef(Py_None) : PyLong_FromLongLong(vlan);
    for (int k = 0; k < E_COUNT; k++) {
        if (e[k] == NULL) {
            ends_clear(e);
            return -1;
        }
    }
    return 0;
}

/* The Endpoints tuple of row `r`, a new reference. */
static PyObject *ends_tuple(Texts *t, const Cols *c, Py_ssize_t r)
{
    PyObject *e[E_COUNT];
    if (ends_of(t, c, r, e) < 0)
        return NULL;
    PyObject *tuple = PyTuple_New(E_COUNT);
    if (tuple == NULL) {
        ends_clear(e);
        return NULL;
    }
    for (int k = 0; k < E_COUNT; k++)
        PyTuple_SET_ITEM(tuple, k, e[k]); /* steals */
    return tuple;
}

/* -- Texts methods ---------------------------------------------------------------------------------- */

static PyObject *Texts_endpoints(Texts *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 2) {
        PyErr_SetString(PyExc_TypeError, "endpoints(col, ids)");
        return NULL;
    }
    Cols c;
    Ids ids;
    if (cols_get(args[0], N_ENDS, &c) < 0)
        return NULL;
    if (ids_get(args[1], &ids) < 0) {
        cols_release(&c);
        return NULL;
    }
    PyObject *out = PyList_New(ids.n);
    for (Py_ssize_t k = 0; out != NULL && k < ids.n; k++) {
        Py_ssize_t r = row_of(&c, id_at(&ids, k));
        PyObject *tuple = r < 0 ? NULL : ends_tuple(self, &c, r);
        if (tuple == NULL)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, k, tuple);
    }
    PyBuffer_Release(&ids.v);
    cols_release(&c);
    return out;
}

/* Up to this many ids are sorted in place; more are sorted through a bitmap of the rows. */
#define FEW_IDS 32

/* The distinct ids, ascending (numpy.unique), as a PyMem array of `*count` rows; NULL with IndexError
 * when an id is not a row of the columns (negative or past the end), NULL with MemoryError. */
static int64_t *unique_rows(const Ids *ids, Py_ssize_t rows, Py_ssize_t *count)
{
    for (Py_ssize_t k = 0; k < ids->n; k++) {
        int64_t f = id_at(ids, k);
        if (f < 0 || f >= (int64_t)rows) {
            PyErr_Format(PyExc_IndexError, "flow id %lld is out of bounds for %zd flows", (long long)f, rows);
            return NULL;
        }
    }
    int64_t *out = PyMem_Malloc((size_t)(ids->n ? ids->n : 1) * sizeof(int64_t));
    if (out == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    Py_ssize_t m = 0;
    if (ids->n <= FEW_IDS) { /* insertion sort, dropping repeats */
        for (Py_ssize_t k = 0; k < ids->n; k++) {
            int64_t f = id_at(ids, k);
            Py_ssize_t j = m;
            while (j > 0 && out[j - 1] > f)
                j--;
            if (j > 0 && out[j - 1] == f)
                continue;
            memmove(out + j + 1, out + j, (size_t)(m - j) * sizeof(int64_t));
            out[j] = f;
            m++;
        }
    } else { /* one bit per row, then the set bits in row order */
        size_t words = ((size_t)rows + 63) / 64;
        uint64_t *bits = PyMem_Calloc(words, sizeof(uint64_t));
        if (bits == NULL) {
            PyMem_Free(out);
            PyErr_NoMemory();
            return NULL;
        }
        for (Py_ssize_t k = 0; k < ids->n; k++) {
            uint64_t f = (uint64_t)id_at(ids, k);
            bits[f >> 6] |= (uint64_t)1 << (f & 63);
        }
        for (size_t w = 0; w < words; w++) {
            for (uint64_t b = bits[w]; b; b &= b - 1)
                out[m++] = (int64_t)(w * 64 + (size_t)__builtin_ctzll(b));
        }
        PyMem_Free(bits);
    }
    *count = m;
    return out;
}

static PyObject *Texts_make_slots(Texts *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 5 || !PyDict_Check(args[4])) {
        PyErr_SetString(PyExc_TypeError, "make_slots(col, ids, sensor, slot_class, slots: dict)");
        return NULL;
    }
    PyObject *sensor = args[2], *slot_class = args[3], *slots = args[4];
    Cols c;
    Ids ids;
    if (cols_get(args[0], N_SLOTS, &c) < 0)
        return NULL;
    if (ids_get(args[1], &ids) < 0) {
        cols_release(&c);
        return NULL;
    }
    Py_ssize_t count = 0;
    int64_t *rows = unique_rows(&ids, c.rows, &count);
    PyBuffer_Release(&ids.v);
    int ok = rows != NULL;
    for (Py_ssize_t k = 0; ok && k < count; k++) {
        Py_ssize_t r = (Py_ssize_t)rows[k];
        PyObject *key = PyLong_FromSsize_t(r);
        if (key == NULL) {
            ok = 0;
            break;
        }
        int present = PyDict_Contains(slots, key);
        if (present != 0) {
            ok = present > 0;
            Py_DECREF(key);
            continue;
        }
        PyObject *ends = ends_tuple(self, &c, r);
        PyObject *first = ends == NULL ? NULL : PyFloat_FromDouble(c.f[C_FIRST][r]);
        PyObject *slot = NULL;
        if (first != NULL) {
            PyObject *call[3] = {ends, first, sensor};
            slot = PyObject_Vectorcall(slot_class, call, 3, NULL);
        }
        ok = slot != NULL && PyDict_SetItem(slots, key, slot) == 0;
        Py_XDECREF(slot);
        Py_XDECREF(first);
        Py_XDECREF(ends);
        Py_DECREF(key);
    }
    PyMem_Free(rows);
    cols_release(&c);
    if (!ok)
        return NULL;
    Py_RETURN_NONE;
}

/* Number of values `build` takes after (cls, descriptors): flowstate._RECORD_LAYOUT. */
#define RECORD_FIELDS 17

static PyObject *Texts_records(Texts *self, PyObject *const *args, Py_ssize_t nargs)
{
    if (nargs != 7 || (args[3] != Py_None && !PyDict_Check(args[3]))) {
        PyErr_SetString(PyExc_TypeError, "records(col, ids, sensor, known: dict | None, build, cls, descriptors)");
        return NULL;
    }
    PyObject *sensor = args[2], *known = args[3], *build = args[4];
    if (known != Py_None && PyDict_GET_SIZE(known) == 0)
        known = Py_None; /* `if known:` */
    Cols c;
    Ids ids;
    if (cols_get(args[0], C_COUNT, &c) < 0)
        return NULL;
    if (ids_get(args[1], &ids) < 0) {
        cols_release(&c);
        return NULL;
    }
    PyObject *empty = PyUnicode_New(0, 0);
    PyObject *out = empty == NULL ? NULL : PyList_New(ids.n);
    for (Py_ssize_t k = 0; out != NULL && k < ids.n; k++) {
        int64_t f = id_at(&ids, k);
        Py_ssize_t r = row_of(&c, f);
        PyObject *e[E_COUNT] = {NULL};
        PyObject *rec = NULL;
        int got = r < 0 ? -1 : 0; /* 1: e holds the known endpoints */
        if (got == 0 && known != Py_None) {
            /* known.get(f) or fresh endpoints */
            PyObject *key = PyLong_FromLongLong(f);
            PyObject *v = key == NULL ? NULL : PyDict_GetItemWithError(known, key); /* borrowed */
            Py_XDECREF(key);
            if (v == NULL) {
                got = PyErr_Occurred() ? -1 : 0;
            } else {
                Py_INCREF(v);
                int truth = PyObject_IsTrue(v);
                got = truth < 0 ? -1 : truth;
                for (int j = 0; got == 1 && j < E_COUNT; j++) {
                    e[j] = PySequence_GetItem(v, j);
                    if (e[j] == NULL)
                        got = -1;
                }
                Py_DECREF(v);
                if (got < 0)
                    ends_clear(e);
            }
        }
        if (got == 0)
            got = ends_of(self, &c, r, e) < 0 ? -1 : 1;
        if (got == 1) {
            int src_true = PyObject_IsTrue(e[E_CIP]);
            int dst_true = src_true < 0 ? -1 : PyObject_IsTrue(e[E_SIP]);
            const int64_t *pk = c.i[C_PK] + 2 * r, *by = c.i[C_BY] + 2 * r;
            int refused = c.i[C_PROTO][r] == PROTO_TCP && !c.b[C_L2][r] && pk[1] > 0 && !c.b[C_ANSWERED][r];
            PyObject *num[6] = {PyFloat_FromDouble(c.f[C_FIRST][r]), PyFloat_FromDouble(c.f[C_LAST][r]),
                                PyLong_FromLongLong(pk[0]), PyLong_FromLongLong(pk[1]),
                                PyLong_FromLongLong(by[0]), PyLong_FromLongLong(by[1])};
            int nums_ok = 1;
            for (int j = 0; j < 6; j++)
                nums_ok = nums_ok && num[j] != NULL;
            if (src_true >= 0 && dst_true >= 0 && nums_ok) {
                /* build(FlowRecord, descriptors, src_ip, dst_ip, proto, src_port, dst_port, src_mac, dst_mac,
                 *       first_seen, last_seen, packets_fwd, packets_rev, bytes_fwd, bytes_rev, vlan, app,
                 *       sensor, refused) */
                PyObject *call[2 + RECORD_FIELDS] = {
                    args[5], args[6], src_true ? e[E_CIP] : empty, dst_true ? e[E_SIP] : empty, e[E_PROTO],
                    e[E_CPORT], e[E_SPORT], e[E_CMAC], e[E_SMAC], num[0], num[1], num[2], num[3], num[4],
                    num[5], e[E_VLAN], Py_None, sensor, refused ? Py_True : Py_False};
                rec = PyObject_Vectorcall(build, call, 2 + RECORD_FIELDS, NULL);
            }
            for (int j = 0; j < 6; j++)
                Py_XDECREF(num[j]);
            ends_clear(e);
        }
        if (rec == NULL)
            Py_CLEAR(out);
        else
            PyList_SET_ITEM(out, k, rec);
    }
    Py_XDECREF(empty);
    PyBuffer_Release(&ids.v);
    cols_release(&c);
    return out;
}

static PyObject *Texts_sizes(Texts *self, PyObject *Py_UNUSED(ignored))
{
    return Py_BuildValue("nn", (Py_ssize_t)self->ips.count, (Py_ssize_t)self->macs.count);
}

static PyObject *Texts_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    unsigned long long salt = 0;
    static char *kwlist[] = {"salt", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|K", kwlist, &salt))
        return NULL;
    Texts *t = (Texts *)type->tp_alloc(type, 0);
    if (t == NULL)
        return NULL;
    t->salt = (uint64_t)salt;
    return (PyObject *)t;
}

static void Texts_dealloc(Texts *self)
{
    cache_clear(&self->ips);
    cache_clear(&self->macs);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static PyMethodDef Texts_methods[] = {
    {"endpoints", (PyCFunction)(void (*)(void))Texts_endpoints, METH_FASTCALL,
     "endpoints(col, ids): the Endpoints tuple of each flow (Namer.endpoints)."},
    {"make_slots", (PyCFunction)(void (*)(void))Texts_make_slots, METH_FASTCALL,
     "make_slots(col, ids, sensor, slot_class, slots): slots[f] = slot_class(endpoints, first, sensor) for "
     "each distinct flow f of ids not in slots, in ascending order (Namer.make_slots)."},
    {"records", (PyCFunction)(void (*)(void))Texts_records, METH_FASTCALL,
     "records(col, ids, sensor, known, build, cls, descriptors): the flow record of each flow, made by "
     "build (Namer.records)."},
    {"sizes", (PyCFunction)Texts_sizes, METH_NOARGS, "sizes(): entries in the address and MAC caches."},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject TextsType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "wardwatch.capture._naming.Texts",
    .tp_basicsize = sizeof(Texts),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Texts(salt=0): bounded caches of address and MAC texts, and the per-flow naming loops.",
    .tp_new = Texts_new,
    .tp_dealloc = (destructor)Texts_dealloc,
    .tp_methods = Texts_methods,
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "wardwatch.capture._naming",
    "Compiled per-flow naming of the flow table (reference: wardwatch.capture.flowstate.Namer).", -1, NULL,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__naming(void)
{
    if (PyType_Ready(&TextsType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "Texts", (PyObject *)&TextsType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
