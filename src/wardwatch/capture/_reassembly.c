/*
 * Compiled TCP segment placement: the per-segment loop of wardwatch.capture.delivery and the bounded
 * per-flow stream buffers it fills.
 *
 * The reference is wardwatch/capture/reassembly.py (DirectionBuffer, StreamBuffers, place_segments):
 * this file does the same work with results that must be identical, down to the quirks of the reference
 * (Python slice semantics of payload cuts, the pending byte count): tests run both on generated segment
 * sequences and on the shared captures and compare the streams, the truncation flags and the internal
 * state of every direction.
 *
 * Segments are placed in RFC 9293 §3.4 sequence space: `rel` is the segment's offset from the
 * direction's initial sequence number (ISN + 1 after a SYN). Only the first `budget` bytes of a direction
 * are kept; overlaps and retransmissions are de-duplicated (the first copy wins); out-of-order segments
 * wait, at most MAX_PENDING of them and at most `budget` bytes, until the gap before them closes.
 *
 * Inputs come from the network: every payload cut is clamped to the capture buffer exactly as a Python
 * slice of it would be (hostile offsets and lengths read nothing outside it), flow ids are checked
 * against the `full` array before they index it, and directions must be 0 or 1. Buffers are taken
 * through the buffer protocol (no numpy headers needed).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Out-of-order segments kept per direction while waiting for a gap to close (reassembly.MAX_PENDING). */
#define MAX_PENDING 64
/* Largest budget accepted: keeps every offset sum below int64 overflow. */
#define MAX_BUDGET ((int64_t)1 << 62)

typedef struct {
    int64_t rel;      /* offset of the chunk from the stream start (> the prefix length when stored) */
    uint8_t *chunk;   /* owned copy */
    Py_ssize_t len;
} Pending;

/* One direction: the in-order prefix, the out-of-order chunks sorted by `rel`, the gap flag.
 * The prefix is written straight into a bytes object (its first `len` bytes; the object's size is the
 * capacity), which result() cuts to length and hands out without a copy. A handed-out object is never
 * written again: the next write copies the prefix to a fresh one. */
typedef struct {
    PyObject *bytes; /* NULL while the prefix is empty */
    Py_ssize_t len;
    int shared;      /* `bytes` was handed out by result() */
    Pending *pend; /* MAX_PENDING entries once the first chunk waits */
    int npend;
    int gap;
    int64_t pending_bytes; /* as the reference counts them (whole payloads added, stored chunks removed) */
} Direction;

typedef struct {
    PyObject_HEAD
    int64_t budget;
    Direction dirs[2];
} StreamBuffers;

static PyTypeObject StreamBuffersType;

/* ---- helpers ------------------------------------------------------------------------------------ */

static inline int64_t add_sat(int64_t a, int64_t b)
{
    int64_t r;
    if (__builtin_add_overflow(a, b, &r))
        return b > 0 ? INT64_MAX : INT64_MIN;
    return r;
}

/* The bytes `seq[start:stop]` of a sequence of `size` bytes select (Python slice rules, step 1). */
static inline void slice(Py_ssize_t size, int64_t start, int64_t stop, Py_ssize_t *at, Py_ssize_t *n)
{
    if (start < 0) {
        start += size;
        if (start < 0)
            start = 0;
    } else if (start > size) {
        start = size;
    }
    if (stop < 0) {
        stop += size;
        if (stop < 0)
            stop = 0;
    } else if (stop > size) {
        stop = size;
    }
    *at = (Py_ssize_t)start;
    *n = stop > start ? (Py_ssize_t)(stop - start) : 0;
}

/* First capacity of a prefix (grown by doubling up to the budget). */
#define FIRST_CAPACITY 512

static int dir_append(Direction *d, int64_t budget, const uint8_t *p, Py_ssize_t n)
{
    if (n <= 0)
        return 0;
    Py_ssize_t need = d->len + n;
    if (d->bytes == NULL || d->shared) {
        Py_ssize_t cap = d->bytes == NULL ? FIRST_CAPACITY : 2 * d->len;
        if (cap > budget)
            cap = (Py_ssize_t)budget;
        if (cap < need)
            cap = need;
        PyObject *fresh = PyBytes_FromStringAndSize(NULL, cap);
        if (fresh == NULL)
            return -1;
        if (d->len)
            memcpy(PyBytes_AS_STRING(fresh), PyBytes_AS_STRING(d->bytes), (size_t)d->len);
        Py_XSETREF(d->bytes, fresh);
        d->shared = 0;
    } else if (need > PyBytes_GET_SIZE(d->bytes)) {
        Py_ssize_t cap = 2 * PyBytes_GET_SIZE(d->bytes);
        if (cap > budget)
            cap = (Py_ssize_t)budget;
        if (cap < need)
            cap = need;
        if (_PyBytes_Resize(&d->bytes, cap) < 0) { /* the object is gone: start over empty */
            d->len = 0;
            return -1;
        }
    }
    memcpy(PyBytes_AS_STRING(d->bytes) + d->len, p, (size_t)n);
    d->len = need;
    return 0;
}

/* The prefix as bytes (DirectionBuffer.result), without a copy. */
static PyObject *dir_result(Direction *d)
{
    if (d->len == 0)
        return PyBytes_FromStringAndSize(NULL, 0);
    if (!d->shared && PyBytes_GET_SIZE(d->bytes) != d->len && _PyBytes_Resize(&d->bytes, d->len) < 0) {
        d->len = 0;
        return NULL;
    }
    d->shared = 1;
    return Py_NewRef(d->bytes);
}

static void dir_clear_pending(Direction *d)
{
    for (int i = 0; i < d->npend; i++)
        PyMem_Free(d->pend[i].chunk);
    d->npend = 0;
    d->pending_bytes = 0;
}

static void dir_free(Direction *d)
{
    dir_clear_pending(d);
    PyMem_Free(d->pend);
    Py_CLEAR(d->bytes);
    d->pend = NULL;
    d->len = 0;
}

/* Move the waiting chunks that the prefix now reaches onto it (DirectionBuffer._drain). The chunks are
 * sorted by offset, so one pass in order does what the reference's repeated sorted passes do. */
static int dir_drain(Direction *d, int64_t budget)
{
    int i = 0;
    int rc = 0;
    for (; i < d->npend; i++) {
        Pending *p = &d->pend[i];
        int64_t have = d->len;
        if (p->rel > have)
            break;
        d->pending_bytes -= p->len;
        int64_t end = add_sat(p->rel, p->len);
        if (end > budget)
            end = budget;
        if (end > have && rc == 0)
            rc = dir_append(d, budget, p->chunk + (have - p->rel), (Py_ssize_t)(end - have));
        PyMem_Free(p->chunk);
    }
    if (i) {
        memmove(d->pend, d->pend + i, sizeof(Pending) * (size_t)(d->npend - i));
        d->npend -= i;
    }
    if (d->len >= budget)
        dir_clear_pending(d);
    return rc;
}

/* DirectionBuffer.add: place `n` bytes at `p` starting `rel` bytes after the stream start. */
static int dir_add(Direction *d, int64_t budget, int64_t rel, const uint8_t *p, Py_ssize_t n)
{
    int64_t have = d->len;
    if (have >= budget)
        return 0;
    if (rel < 0) { /* starts before the stream origin: keep the part at or after it */
        if (rel <= -(int64_t)n) {
            n = 0;
        } else {
            p += -rel;
            n -= (Py_ssize_t)(-rel);
        }
        rel = 0;
    }
    int64_t end = add_sat(rel, n);
    if (end > budget)
        end = budget;
    if (end <= have)
        return 0; /* pure retransmission */
    if (rel > have) {
        if (d->npend < MAX_PENDING && d->pending_bytes + n <= budget) {
            int lo = 0, hi = d->npend;
            while (lo < hi) { /* first entry at or after rel */
                int mid = (lo + hi) / 2;
                if (d->pend[mid].rel < rel)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            int found = lo < d->npend && d->pend[lo].rel == rel;
            if (!found || d->pend[lo].len < n) {
                Py_ssize_t at, keep;
                slice(n, 0, end - rel, &at, &keep); /* payload[: end - rel] */
                uint8_t *copy = PyMem_Malloc(keep ? (size_t)keep : 1);
                if (copy == NULL) {
                    PyErr_NoMemory();
                    return -1;
                }
                if (d->pend == NULL) {
                    d->pend = PyMem_Malloc(sizeof(Pending) * MAX_PENDING);
                    if (d->pend == NULL) {
                        PyMem_Free(copy);
                        PyErr_NoMemory();
                        return -1;
                    }
                }
                memcpy(copy, p, (size_t)keep);
                if (found) {
                    d->pending_bytes += n - d->pend[lo].len;
                    PyMem_Free(d->pend[lo].chunk);
                } else {
                    d->pending_bytes += n;
                    memmove(d->pend + lo + 1, d->pend + lo, sizeof(Pending) * (size_t)(d->npend - lo));
                    d->npend++;
                }
                d->pend[lo].rel = rel;
                d->pend[lo].chunk = copy;
                d->pend[lo].len = keep;
            }
        } else {
            d->gap = 1;
        }
        return 0;
    }
    if (dir_append(d, budget, p + (have - rel), (Py_ssize_t)(end - have)) < 0)
        return -1;
    if (d->npend)
        return dir_drain(d, budget);
    return 0;
}

static int check_budget(long long budget)
{
    if (budget > MAX_BUDGET) {
        PyErr_SetString(PyExc_ValueError, "budget too large");
        return -1;
    }
    return 0;
}

static StreamBuffers *streams_new(int64_t budget)
{
    StreamBuffers *sb = PyObject_New(StreamBuffers, &StreamBuffersType);
    if (sb == NULL)
        return NULL;
    sb->budget = budget;
    memset(sb->dirs, 0, sizeof(sb->dirs));
    return sb;
}

/* ---- the StreamBuffers type ----------------------------------------------------------------------- */

static PyObject *sb_tp_new(PyTypeObject *type, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"budget", NULL};
    long long budget;
    (void)type;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "L", kwlist, &budget) || check_budget(budget) < 0)
        return NULL;
    return (PyObject *)streams_new(budget);
}

static void sb_dealloc(StreamBuffers *sb)
{
    dir_free(&sb->dirs[0]);
    dir_free(&sb->dirs[1]);
    PyObject_Free(sb);
}

static int direction_arg(PyObject *obj, int *d)
{
    long v = PyLong_AsLong(obj);
    if (v == -1 && PyErr_Occurred())
        return -1;
    if (v != 0 && v != 1) {
        PyErr_SetString(PyExc_ValueError, "direction must be 0 or 1");
        return -1;
    }
    *d = (int)v;
    return 0;
}

static PyObject *sb_add(StreamBuffers *sb, PyObject *args)
{
    PyObject *dobj;
    long long rel;
    Py_buffer payload;
    int d;
    if (!PyArg_ParseTuple(args, "OLy*", &dobj, &rel, &payload))
        return NULL;
    int rc = direction_arg(dobj, &d);
    if (rc == 0)
        rc = dir_add(&sb->dirs[d], sb->budget, rel, payload.buf, payload.len);
    PyBuffer_Release(&payload);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *sb_result(StreamBuffers *sb, PyObject *unused)
{
    (void)unused;
    PyObject *c = dir_result(&sb->dirs[0]);
    if (c == NULL)
        return NULL;
    PyObject *s = dir_result(&sb->dirs[1]);
    if (s == NULL) {
        Py_DECREF(c);
        return NULL;
    }
    PyObject *out = PyTuple_Pack(2, c, s);
    Py_DECREF(c);
    Py_DECREF(s);
    return out;
}

static PyObject *sb_state(StreamBuffers *sb, PyObject *dobj)
{
    int d;
    if (direction_arg(dobj, &d) < 0)
        return NULL;
    Direction *dir = &sb->dirs[d];
    PyObject *pend = PyList_New(dir->npend);
    if (pend == NULL)
        return NULL;
    for (int i = 0; i < dir->npend; i++) {
        PyObject *item = Py_BuildValue("(Ly#)", (long long)dir->pend[i].rel, (const char *)dir->pend[i].chunk,
                                       dir->pend[i].len);
        if (item == NULL) {
            Py_DECREF(pend);
            return NULL;
        }
        PyList_SET_ITEM(pend, i, item);
    }
    return Py_BuildValue("(y#NLO)", dir->bytes ? PyBytes_AS_STRING(dir->bytes) : "", dir->len, pend, (long long)dir->pending_bytes,
                         dir->gap ? Py_True : Py_False);
}

static inline int dir_truncated(const Direction *d, int64_t budget)
{
    return d->len >= budget || d->gap || d->npend > 0;
}

static PyObject *sb_truncated(StreamBuffers *sb, void *closure)
{
    (void)closure;
    return PyBool_FromLong(dir_truncated(&sb->dirs[0], sb->budget) || dir_truncated(&sb->dirs[1], sb->budget));
}

static PyObject *sb_budget(StreamBuffers *sb, void *closure)
{
    (void)closure;
    return PyLong_FromLongLong(sb->budget);
}

static PyMethodDef sb_methods[] = {
    {"add", (PyCFunction)sb_add, METH_VARARGS, "add(d, rel, payload): place payload in direction d."},
    {"result", (PyCFunction)sb_result, METH_NOARGS, "The usable in-order prefixes (client, server)."},
    {"state", (PyCFunction)sb_state, METH_O,
     "state(d) -> (prefix, [(rel, chunk), ...] sorted, pending byte count, gap): for tests."},
    {NULL, NULL, 0, NULL},
};

static PyGetSetDef sb_getset[] = {
    {"truncated", (getter)sb_truncated, NULL, "True when a budget cut a direction or a gap ended its prefix.",
     NULL},
    {"budget", (getter)sb_budget, NULL, "Bytes kept per direction.", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject StreamBuffersType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "wardwatch.capture._reassembly.StreamBuffers",
    .tp_basicsize = sizeof(StreamBuffers),
    .tp_dealloc = (destructor)sb_dealloc,
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Both directions of one TCP flow (0 = client, 1 = server); see reassembly.StreamBuffers.",
    .tp_methods = sb_methods,
    .tp_getset = sb_getset,
    .tp_new = sb_tp_new,
};

/* ---- place_segments ------------------------------------------------------------------------------ */

/* A column of int64 values: a list, or a one-dimensional int64 buffer (numpy array). */
typedef struct {
    PyObject *list; /* borrowed, or NULL for a buffer */
    Py_buffer view;
    Py_ssize_t n, stride;
} Column;

static int column_get(PyObject *obj, Column *c, const char *name)
{
    c->list = NULL;
    if (PyList_Check(obj)) {
        c->list = obj;
        c->n = PyList_GET_SIZE(obj);
        return 0;
    }
    if (PyObject_GetBuffer(obj, &c->view, PyBUF_RECORDS_RO) < 0)
        return -1;
    const char *f = c->view.format;
    if (c->view.ndim != 1 || c->view.itemsize != 8 || f == NULL ||
        !(strcmp(f, "q") == 0 || strcmp(f, "l") == 0 || strcmp(f, "<q") == 0 || strcmp(f, "<l") == 0 ||
          strcmp(f, "=q") == 0 || strcmp(f, "=l") == 0)) {
        PyBuffer_Release(&c->view);
        PyErr_Format(PyExc_TypeError, "%s must be a list or a one-dimensional int64 array", name);
        return -1;
    }
    c->n = c->view.shape[0];
    c->stride = c->view.strides[0];
    return 0;
}

static void column_release(Column *c)
{
    if (c->list == NULL)
        PyBuffer_Release(&c->view);
}

/* Element i, or -1 with an exception set (the list may not shrink under us). */
static inline int column_at(Column *c, Py_ssize_t i, int64_t *v)
{
    if (c->list == NULL) {
        memcpy(v, (const char *)c->view.buf + i * c->stride, 8);
        return 0;
    }
    if (i >= PyList_GET_SIZE(c->list)) {
        PyErr_SetString(PyExc_IndexError, "segment list changed size");
        return -1;
    }
    long long x = PyLong_AsLongLong(PyList_GET_ITEM(c->list, i));
    if (x == -1 && PyErr_Occurred())
        return -1;
    *v = x;
    return 0;
}

/*
 * place_segments(streams, finished, full, budget, buf, fids, dirs, offs, lens, rels, start) -> int
 * Place segments start, start+1, ... (capture order) into streams[fid] (created for a flow not in it,
 * unless the flow is in `finished`); mark full[fid, d] when a direction holds its budget. Returns the
 * index of the first segment after which both directions of its flow are full (the caller hands that
 * stream over and calls again from the next index), or the number of segments.
 */
static PyObject *place_segments(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs != 11) {
        PyErr_SetString(PyExc_TypeError, "place_segments takes 11 arguments");
        return NULL;
    }
    PyObject *streams = args[0], *finished = args[1];
    if (!PyDict_Check(streams) || !PyAnySet_Check(finished)) {
        PyErr_SetString(PyExc_TypeError, "streams must be a dict and finished a set");
        return NULL;
    }
    long long budget = PyLong_AsLongLong(args[3]);
    if (budget == -1 && PyErr_Occurred())
        return NULL;
    Py_ssize_t start = PyLong_AsSsize_t(args[10]);
    if (start == -1 && PyErr_Occurred())
        return NULL;
    if (check_budget(budget) < 0)
        return NULL;

    Py_buffer fullv, bufv;
    if (PyObject_GetBuffer(args[2], &fullv, PyBUF_RECORDS) < 0)
        return NULL;
    if (fullv.ndim != 2 || fullv.itemsize != 1 || fullv.shape[1] != 2 || fullv.format == NULL ||
        strcmp(fullv.format, "?") != 0) {
        PyBuffer_Release(&fullv);
        PyErr_SetString(PyExc_TypeError, "full must be a writable (flows, 2) bool array");
        return NULL;
    }
    if (PyObject_GetBuffer(args[4], &bufv, PyBUF_SIMPLE) < 0) {
        PyBuffer_Release(&fullv);
        return NULL;
    }
    static const char *names[5] = {"fids", "dirs", "offs", "lens", "rels"};
    Column col[5];
    int got = 0;
    for (; got < 5; got++)
        if (column_get(args[5 + got], &col[got], names[got]) < 0)
            break;
    PyObject *result = NULL;
    StreamBuffers *last = NULL; /* the flow of the previous segment (strong reference) */
    int64_t last_f = 0;
    if (got < 5)
        goto done;
    Py_ssize_t n = col[0].n;
    for (int k = 1; k < 5; k++) {
        if (col[k].n != n) {
            PyErr_SetString(PyExc_ValueError, "segment columns differ in length");
            goto done;
        }
    }
    if (start < 0)
        start = 0;

    const uint8_t *base = bufv.buf;
    Py_ssize_t size = bufv.len;
    uint8_t *fullp = fullv.buf;
    Py_ssize_t rows = fullv.shape[0], s0 = fullv.strides[0], s1 = fullv.strides[1];
    Py_ssize_t i = start;
    for (; i < n; i++) {
        int64_t f, dd, off, len, r;
        if (column_at(&col[0], i, &f) < 0 || column_at(&col[1], i, &dd) < 0 || column_at(&col[2], i, &off) < 0 ||
            column_at(&col[3], i, &len) < 0 || column_at(&col[4], i, &r) < 0)
            goto done;
        if (dd != 0 && dd != 1) {
            PyErr_SetString(PyExc_ValueError, "direction must be 0 or 1");
            goto done;
        }
        StreamBuffers *sb;
        if (last != NULL && f == last_f) {
            sb = last;
        } else {
            PyObject *key = col[0].list != NULL ? Py_NewRef(PyList_GET_ITEM(col[0].list, i)) : PyLong_FromLongLong(f);
            if (key == NULL)
                goto done;
            PyObject *found = PyDict_GetItemWithError(streams, key); /* borrowed */
            if (found == NULL) {
                if (PyErr_Occurred()) {
                    Py_DECREF(key);
                    goto done;
                }
                int gone = PySet_Contains(finished, key);
                if (gone != 0) {
                    Py_DECREF(key);
                    if (gone < 0)
                        goto done;
                    continue;
                }
                StreamBuffers *fresh = streams_new(budget);
                if (fresh == NULL || PyDict_SetItem(streams, key, (PyObject *)fresh) < 0) {
                    Py_XDECREF(fresh);
                    Py_DECREF(key);
                    goto done;
                }
                found = (PyObject *)fresh;
                Py_DECREF(fresh); /* the dict holds it */
            } else if (!PyObject_TypeCheck(found, &StreamBuffersType)) {
                Py_DECREF(key);
                PyErr_SetString(PyExc_TypeError, "streams holds an object that is not a compiled StreamBuffers");
                goto done;
            }
            Py_DECREF(key);
            Py_XSETREF(last, (StreamBuffers *)Py_NewRef(found));
            last_f = f;
            sb = last;
        }
        Direction *db = &sb->dirs[dd];
        int64_t have = db->len;
        if (have >= budget)
            continue;
        Py_ssize_t at, cut;
        if (r == have && db->npend == 0) { /* in order, nothing waiting: the common case */
            int64_t room = budget - have;
            slice(size, off, add_sat(off, len < room ? len : room), &at, &cut);
            if (dir_append(db, sb->budget, base + at, cut) < 0)
                goto done;
        } else {
            slice(size, off, add_sat(off, len), &at, &cut);
            if (dir_add(db, sb->budget, r, base + at, cut) < 0)
                goto done;
        }
        if (db->len >= budget) {
            if (f < 0 || f >= rows) {
                PyErr_SetString(PyExc_IndexError, "flow id outside the full array");
                goto done;
            }
            uint8_t *row = fullp + f * s0;
            row[dd * s1] = 1;
            if (row[(1 - dd) * s1])
                break;
        }
    }
    result = PyLong_FromSsize_t(i);
done:
    Py_XDECREF(last);
    for (int k = 0; k < got; k++)
        column_release(&col[k]);
    PyBuffer_Release(&bufv);
    PyBuffer_Release(&fullv);
    return result;
}

static PyMethodDef methods[] = {
    {"place_segments", (PyCFunction)(void (*)(void))place_segments, METH_FASTCALL,
     "place_segments(streams, finished, full, budget, buf, fids, dirs, offs, lens, rels, start) -> index "
     "(see reassembly.place_segments)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "wardwatch.capture._reassembly",
    "Compiled TCP segment placement (reference: wardwatch.capture.reassembly).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__reassembly(void)
{
    if (PyType_Ready(&StreamBuffersType) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&module);
    if (m == NULL)
        return NULL;
    if (PyModule_AddObjectRef(m, "StreamBuffers", (PyObject *)&StreamBuffersType) < 0 ||
        PyModule_AddIntConstant(m, "MAX_PENDING", MAX_PENDING) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    return m;
}
