/*
 * The flow index of wardwatch.capture._flowkernel: flow-key hash -> flow id, kept by the flow table across
 * batches (the reference is the dict of wardwatch.capture.flowpath.DictIndex).
 *
 * Like the reference it is keyed by the 64-bit hash alone (its users check the stored key against the
 * flow's columns), so a hash collision has exactly the reference's consequences. Open addressing with
 * linear probing and backward-shift deletion; a secret per-table salt chooses the home slot, so crafted
 * traffic cannot pile its flows into one probe chain. Arrays come through the buffer protocol, each
 * checked for element type and length.
 */
#include "_flowkernel.h"

/* -- buffers ------------------------------------------------------------------------------------------ */

int get_buf(PyObject *obj, Py_buffer *v, char want, int writable, Py_ssize_t items, const char *name)
{
    int flags = PyBUF_C_CONTIGUOUS | PyBUF_FORMAT | (writable ? PyBUF_WRITABLE : 0);
    if (PyObject_GetBuffer(obj, v, flags) < 0)
        return -1;
    if (!format_ok(v, want) || v->len / v->itemsize < items) {
        PyErr_Format(PyExc_TypeError, "%s: wrong element type or fewer than %zd elements", name, items);
        PyBuffer_Release(v);
        return -1;
    }
    return 0;
}

void release_all(Py_buffer *views, int count)
{
    for (int i = 0; i < count; i++)
        PyBuffer_Release(&views[i]);
}

Slot *new_slots(size_t cap)
{
    Slot *slots = PyMem_Malloc(cap * sizeof(Slot));
    if (slots == NULL) {
        PyErr_NoMemory();
        return NULL;
    }
    for (size_t i = 0; i < cap; i++)
        slots[i].v = -1;
    return slots;
}
/* Put an entry known to be absent into a table with room for it. */
static inline void ix_insert_new(FlowIndex *ix, uint64_t h, int64_t fid)
{
    size_t s = ix_slot(ix, h);
    ix->slots[s] = (Slot){h, fid};
    ix->count++;
}

/* Move the entries into `cap` slots, keeping those whose flow `keep` maps to an id >= 0 (NULL: all). */
static int ix_rebuild(FlowIndex *ix, size_t cap, int64_t (*keep)(int64_t, const void *), const void *arg)
{
    Slot *slots = new_slots(cap), *old = ix->slots;
    if (slots == NULL)
        return -1;
    size_t old_cap = ix->mask + 1;
    ix->slots = slots;
    ix->mask = cap - 1;
    ix->count = 0;
    for (size_t i = 0; i < old_cap; i++) {
        int64_t v = old[i].v;
        if (v >= 0 && keep != NULL)
            v = keep(v, arg);
        if (v >= 0)
            ix_insert_new(ix, old[i].h, v);
    }
    PyMem_Free(old);
    return 0;
}

int ix_put(FlowIndex *ix, uint64_t h, int64_t fid)
{
    if ((ix->count + 1) * 2 > ix->mask + 1 && ix_rebuild(ix, (ix->mask + 1) * 2, NULL, NULL) < 0)
        return -1;
    size_t s = ix_slot(ix, h);
    if (ix->slots[s].v < 0)
        ix->count++;
    ix->slots[s] = (Slot){h, fid};
    return 0;
}

/* Empty slot `s` and shift later members of its probe chain back (linear probing has no tombstones). */
static void ix_remove_slot(FlowIndex *ix, size_t s)
{
    size_t j = s;
    for (;;) {
        j = (j + 1) & ix->mask;
        if (ix->slots[j].v < 0)
            break;
        size_t home = ix_home(ix, ix->slots[j].h);
        /* The member at j may move to s unless its home lies cyclically in (s, j]. */
        int stays = (s <= j) ? (s < home && home <= j) : (s < home || home <= j);
        if (!stays) {
            ix->slots[s] = ix->slots[j];
            s = j;
        }
    }
    ix->slots[s].v = -1;
    ix->count--;
}

static PyObject *FlowIndex_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    unsigned long long salt = 0;
    static char *kwlist[] = {"salt", NULL};
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "|K", kwlist, &salt))
        return NULL;
    FlowIndex *ix = (FlowIndex *)type->tp_alloc(type, 0);
    if (ix == NULL)
        return NULL;
    ix->salt = (uint64_t)salt;
    ix->mask = 1023;
    ix->slots = new_slots(ix->mask + 1);
    if (ix->slots == NULL) {
        Py_DECREF(ix);
        return NULL;
    }
    return (PyObject *)ix;
}

static void FlowIndex_dealloc(FlowIndex *ix)
{
    PyMem_Free(ix->slots);
    Py_TYPE(ix)->tp_free((PyObject *)ix);
}

static Py_ssize_t FlowIndex_len(FlowIndex *ix) { return (Py_ssize_t)ix->count; }

/* lookup(hashes, out): out[i] = index.get(hashes[i], -1). */
static PyObject *FlowIndex_lookup(FlowIndex *ix, PyObject *args)
{
    PyObject *h_obj, *o_obj;
    Py_buffer v[2];
    if (!PyArg_ParseTuple(args, "OO", &h_obj, &o_obj))
        return NULL;
    if (get_buf(h_obj, &v[0], 'u', 0, 0, "hashes") < 0)
        return NULL;
    Py_ssize_t n = v[0].len / 8;
    if (get_buf(o_obj, &v[1], 'i', 1, n, "out") < 0) {
        release_all(v, 1);
        return NULL;
    }
    const uint64_t *h = v[0].buf;
    int64_t *out = v[1].buf;
    for (Py_ssize_t i = 0; i < n; i++)
        out[i] = ix_get(ix, h[i]);
    release_all(v, 2);
    Py_RETURN_NONE;
}

/* Two equally long arrays: hashes (uint64) and flow ids (int64). */
static int pairs(PyObject *args, Py_buffer *v, Py_ssize_t *n)
{
    PyObject *h_obj, *f_obj;
    if (!PyArg_ParseTuple(args, "OO", &h_obj, &f_obj))
        return -1;
    if (get_buf(h_obj, &v[0], 'u', 0, 0, "hashes") < 0)
        return -1;
    *n = v[0].len / 8;
    if (get_buf(f_obj, &v[1], 'i', 0, *n, "fids") < 0) {
        release_all(v, 1);
        return -1;
    }
    return 0;
}

/* assign(hashes, fids): index[hashes[i]] = fids[i], in order. */
static PyObject *FlowIndex_assign(FlowIndex *ix, PyObject *args)
{
    Py_buffer v[2];
    Py_ssize_t n;
    if (pairs(args, v, &n) < 0)
        return NULL;
    const uint64_t *h = v[0].buf;
    const int64_t *f = v[1].buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        if (f[i] < 0) {
            release_all(v, 2);
            PyErr_SetString(PyExc_ValueError, "flow ids are not negative");
            return NULL;
        }
        if (ix_put(ix, h[i], f[i]) < 0) {
            release_all(v, 2);
            return NULL;
        }
    }
    release_all(v, 2);
    Py_RETURN_NONE;
}

/* discard(hashes, fids): delete index[hashes[i]] where it still names fids[i]. */
static PyObject *FlowIndex_discard(FlowIndex *ix, PyObject *args)
{
    Py_buffer v[2];
    Py_ssize_t n;
    if (pairs(args, v, &n) < 0)
        return NULL;
    const uint64_t *h = v[0].buf;
    const int64_t *f = v[1].buf;
    for (Py_ssize_t i = 0; i < n; i++) {
        size_t s = ix_slot(ix, h[i]);
        if (ix->slots[s].v >= 0 && ix->slots[s].v == f[i])
            ix_remove_slot(ix, s);
    }
    release_all(v, 2);
    Py_RETURN_NONE;
}

typedef struct {
    const int64_t *kept;
    Py_ssize_t n;
} Kept;

/* The new id of old flow `fid`: its position in the ascending `kept`, or -1 when it was not kept. */
static int64_t new_id(int64_t fid, const void *arg)
{
    const Kept *k = arg;
    Py_ssize_t lo = 0, hi = k->n;
    while (lo < hi) {
        Py_ssize_t mid = lo + (hi - lo) / 2;
        if (k->kept[mid] < fid)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < k->n && k->kept[lo] == fid ? (int64_t)lo : -1;
}

/* remap(kept): flow columns were compacted; kept[new id] = old id (ascending). Entries naming a flow
 * that was not kept are dropped. */
static PyObject *FlowIndex_remap(FlowIndex *ix, PyObject *args)
{
    PyObject *k_obj;
    Py_buffer v;
    if (!PyArg_ParseTuple(args, "O", &k_obj))
        return NULL;
    if (get_buf(k_obj, &v, 'i', 0, 0, "kept") < 0)
        return NULL;
    Kept k = {v.buf, v.len / 8};
    size_t cap = 1024, most = ix->count; /* entries kept: at most all of them */
    while (cap < most * 2 + 2)
        cap *= 2;
    int rc = ix_rebuild(ix, cap, new_id, &k);
    PyBuffer_Release(&v);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}
static PyMethodDef FlowIndex_methods[] = {
    {"lookup", (PyCFunction)FlowIndex_lookup, METH_VARARGS, "lookup(hashes, out): out[i] = flow id or -1."},
    {"assign", (PyCFunction)FlowIndex_assign, METH_VARARGS, "assign(hashes, fids): index[h] = fid."},
    {"discard", (PyCFunction)FlowIndex_discard, METH_VARARGS,
     "discard(hashes, fids): delete index[h] where it names fid."},
    {"remap", (PyCFunction)FlowIndex_remap, METH_VARARGS, "remap(kept): follow a compaction (kept = old ids)."},
    {"account", (PyCFunction)FlowIndex_account, METH_VARARGS, "Account a batch (see _flowkernel.c)."},
    {NULL, NULL, 0, NULL},
};

static PySequenceMethods FlowIndex_seq = {.sq_length = (lenfunc)FlowIndex_len};

PyTypeObject FlowIndexType = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "wardwatch.capture._flowkernel.FlowIndex",
    .tp_basicsize = sizeof(FlowIndex),
    .tp_dealloc = (destructor)FlowIndex_dealloc,
    .tp_as_sequence = &FlowIndex_seq,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Flow-key hash -> flow id, kept across batches; account() runs the per-packet pass.",
    .tp_methods = FlowIndex_methods,
    .tp_new = FlowIndex_new,
};

