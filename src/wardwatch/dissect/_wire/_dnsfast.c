/*
 * The one DNS shape that floods a resolver's flows, read in C: a plain query (RFC 1035 §4.1.1: QR 0,
 * OPCODE 0, QDCOUNT 1, no answer, authority or additional records) whose single question name
 * (RFC 1035 §4.1.2) is uncompressed printable ASCII.
 *
 * plain_query_text(data) returns that name as text ("www.example.com"), or None for anything else: the
 * caller then takes the general Python path (wardwatch.dissect._wire.dnsmsg), which is the reference and
 * raises ParseError where the message is malformed. This function never raises for any content, and
 * every read is bounds-checked against the buffer.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#define DNS_HEADER 12
#define DNS_MAX_NAME 255 /* RFC 1035 §3.1: labels and their length octets */

static PyObject *plain_query_text(PyObject *self, PyObject *arg)
{
    (void)self;
    Py_buffer view;
    if (PyObject_GetBuffer(arg, &view, PyBUF_SIMPLE) < 0)
        return NULL;
    const uint8_t *d = (const uint8_t *)view.buf;
    Py_ssize_t size = view.len;
    char text[DNS_MAX_NAME + 1];
    Py_ssize_t out = 0, pos = DNS_HEADER, total = 0;
    PyObject *result = NULL;
    if (size < DNS_HEADER)
        goto none;
    /* flags: QR and OPCODE (the top five bits) zero; counts: one question, nothing else. */
    if ((d[2] & 0xF8) != 0 || d[4] != 0 || d[5] != 1 || d[6] | d[7] | d[8] | d[9] | d[10] | d[11])
        goto none;
    for (;;) {
        if (pos >= size)
            goto none;
        uint8_t len = d[pos];
        if (len == 0) {
            pos++;
            break;
        }
        if (len & 0xC0) /* a pointer or an extended label type: the general path decides */
            goto none;
        total += len + 1;
        if (total > DNS_MAX_NAME || pos + 1 + len > size)
            goto none;
        if (out > 0)
            text[out++] = '.';
        for (Py_ssize_t k = pos + 1; k < pos + 1 + len; k++) {
            uint8_t c = d[k];
            if (c < 0x20 || c > 0x7E) /* controls, DEL and non-ASCII: the general path cleans them */
                goto none;
            text[out++] = (char)c;
        }
        pos += 1 + len;
    }
    if (out == 0 || pos + 4 > size) /* the root name, or QTYPE/QCLASS cut off */
        goto none;
    result = PyUnicode_DecodeASCII(text, out, NULL);
    PyBuffer_Release(&view);
    return result;
none:
    PyBuffer_Release(&view);
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"plain_query_text", plain_query_text, METH_O, "The name of a plain printable-ASCII DNS query, or None."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "wardwatch.dissect._wire._dnsfast",
    "The plain DNS query fast path (reference: wardwatch.dissect._wire.dnsmsg).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__dnsfast(void) { return PyModule_Create(&module); }
