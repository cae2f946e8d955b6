/*
 * Compiled loops of the capture hot path: the record walks that are sequential per record, and the
 * payload copies of a batch of datagrams (one bytes object each, without a slice object per datagram).
 *
 * Everything else on the hot path is vectorized with numpy; a walk whose next step depends on the bytes
 * just read (the offset chain of capture-file records) is a plain C loop here. The portable Python
 * implementation of each function lives in wardwatch/capture/kernels.py and is the reference: tests run
 * both on the same input and require equal results.
 *
 * Inputs come from the network and from files: every read is bounds-checked against the buffer length,
 * whatever the bytes say. Buffers are taken through the buffer protocol (no numpy headers needed).
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

static inline uint32_t rd32(const uint8_t *p, int big)
{
    if (big)
        return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | (uint32_t)p[3];
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) | ((uint32_t)p[3] << 24);
}

/* A writable, C-contiguous int64 output buffer of at least `cols` columns per row. */
static int get_out(PyObject *obj, Py_buffer *view, Py_ssize_t cols, Py_ssize_t *rows)
{
    if (PyObject_GetBuffer(obj, view, PyBUF_WRITABLE | PyBUF_C_CONTIGUOUS | PyBUF_FORMAT) < 0)
        return -1;
    if (view->itemsize != 8 || view->format == NULL || (view->format[0] != 'q' && view->format[0] != 'l')) {
        PyBuffer_Release(view);
        PyErr_SetString(PyExc_TypeError, "out must be a contiguous int64 buffer");
        return -1;
    }
    *rows = (view->len / 8) / cols;
    return 0;
}

/*
 * pcap_walk(raw, pos, stop, limit, big, out) -> (count, next position, bad)
 * Classic pcap records (draft-ietf-opsawg-pcap §5: seconds, fraction, caplen, wirelen; 16 bytes), followed
 * while a record header starts before `stop` and fits the buffer. out[i] = (offset, sec, frac, caplen,
 * wirelen). `bad`: a caplen beyond `limit` stopped the walk at the returned position.
 */
static PyObject *pcap_walk(PyObject *self, PyObject *args)
{
    Py_buffer raw, out;
    Py_ssize_t pos, stop, limit, rows;
    int big;
    PyObject *out_obj;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*nnnpO", &raw, &pos, &stop, &limit, &big, &out_obj))
        return NULL;
    if (get_out(out_obj, &out, 5, &rows) < 0) {
        PyBuffer_Release(&raw);
        return NULL;
    }
    const uint8_t *b = (const uint8_t *)raw.buf;
    int64_t *o = (int64_t *)out.buf;
    Py_ssize_t size = raw.len, n = 0;
    int bad = 0;
    if (stop > size - 16 + 1)
        stop = size - 16 + 1;
    if (pos < 0)
        pos = 0;
    Py_BEGIN_ALLOW_THREADS
    while (pos < stop && n < rows) {
        const uint8_t *h = b + pos;
        uint32_t caplen = rd32(h + 8, big);
        if ((Py_ssize_t)caplen > limit) {
            bad = 1;
            break;
        }
        int64_t *r = o + n * 5;
        r[0] = pos;
        r[1] = rd32(h, big);
        r[2] = rd32(h + 4, big);
        r[3] = caplen;
        r[4] = rd32(h + 12, big);
        n++;
        pos += 16 + (Py_ssize_t)caplen;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&raw);
    PyBuffer_Release(&out);
    return Py_BuildValue("nnO", n, pos, bad ? Py_True : Py_False);
}

/*
 * pcapng_epb_walk(raw, pos, stop, max_block, big, epb, out) -> (count, position of the first block not taken)
 * Consecutive blocks of type `epb` (pcapng §4.3 Enhanced Packet Block); stops before `stop`, any other
 * block type, a block length that is not a sane multiple of four, a block running past the buffer, or a
 * full `out` (one offset per row).
 */
static PyObject *pcapng_epb_walk(PyObject *self, PyObject *args)
{
    Py_buffer raw, out;
    Py_ssize_t pos, stop, max_block, rows;
    int big;
    unsigned long epb;
    PyObject *out_obj;
    (void)self;
    if (!PyArg_ParseTuple(args, "y*nnnpkO", &raw, &pos, &stop, &max_block, &big, &epb, &out_obj))
        return NULL;
    if (get_out(out_obj, &out, 1, &rows) < 0) {
        PyBuffer_Release(&raw);
        return NULL;
    }
    const uint8_t *b = (const uint8_t *)raw.buf;
    int64_t *o = (int64_t *)out.buf;
    Py_ssize_t size = raw.len, n = 0;
    if (pos < 0)
        pos = 0;
    Py_BEGIN_ALLOW_THREADS
    while (pos < stop && n < rows && pos + 12 <= size) {
        uint32_t btype = rd32(b + pos, big), blen = rd32(b + pos + 4, big);
        if (btype != epb || blen < 12 || blen % 4 != 0 || (Py_ssize_t)blen > max_block ||
            pos + (Py_ssize_t)blen > size)
            break;
        o[n++] = pos;
        pos += blen;
    }
    Py_END_ALLOW_THREADS
    PyBuffer_Release(&raw);
    PyBuffer_Release(&out);
    return Py_BuildValue("nn", n, pos);
}

/* slices(buf, offsets, lengths) -> list of bytes: buf[off : off + len] for each pair, both clamped to
 * [0, len(buf)] first (see kernels.slices). */
static PyObject *slices(PyObject *self, PyObject *args)
{
    (void)self;
    PyObject *buf_obj, *offs_obj, *lens_obj;
    if (!PyArg_ParseTuple(args, "OOO", &buf_obj, &offs_obj, &lens_obj))
        return NULL;
    Py_buffer view;
    if (PyObject_GetBuffer(buf_obj, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    PyObject *offs = PySequence_Fast(offs_obj, "offsets must be a sequence");
    PyObject *lens = offs == NULL ? NULL : PySequence_Fast(lens_obj, "lengths must be a sequence");
    PyObject *out = NULL;
    if (lens == NULL)
        goto done;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(offs);
    if (PySequence_Fast_GET_SIZE(lens) != n) {
        PyErr_SetString(PyExc_ValueError, "offsets and lengths differ in length");
        goto done;
    }
    out = PyList_New(n);
    if (out == NULL)
        goto done;
    const char *base = (const char *)view.buf;
    Py_ssize_t size = view.len;
    for (Py_ssize_t i = 0; i < n; i++) {
        Py_ssize_t off = PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(offs, i));
        Py_ssize_t len = off == -1 && PyErr_Occurred() ? -1 : PyLong_AsSsize_t(PySequence_Fast_GET_ITEM(lens, i));
        if (PyErr_Occurred()) {
            Py_CLEAR(out);
            goto done;
        }
        Py_ssize_t start = off < 0 ? 0 : (off > size ? size : off);
        Py_ssize_t room = size - start;
        Py_ssize_t take = len < 0 ? 0 : (len > room ? room : len);
        PyObject *item = PyBytes_FromStringAndSize(base + start, take);
        if (item == NULL) {
            Py_CLEAR(out);
            goto done;
        }
        PyList_SET_ITEM(out, i, item);
    }
done:
    Py_XDECREF(offs);
    Py_XDECREF(lens);
    PyBuffer_Release(&view);
    return out;
}

static PyMethodDef methods[] = {
    {"pcap_walk", pcap_walk, METH_VARARGS, "Follow classic pcap records (see kernels.py)."},
    {"pcapng_epb_walk", pcapng_epb_walk, METH_VARARGS, "Follow consecutive pcapng EPBs (see kernels.py)."},
    {"slices", slices, METH_VARARGS, "Payload copies of a batch: buf[off : off + len] each (see kernels.py)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "wardwatch.capture._kernels",
    "Compiled record walks of the capture hot path (reference: wardwatch.capture.kernels).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__kernels(void) { return PyModule_Create(&module); }
