/*
 * One constructor for the small frozen, slotted dataclasses the hot path makes by the hundred thousand
 * (Observation, FlowContext, FlowRecord): allocate the instance, then store each field through its slot's
 * member descriptor. That is exactly what the Python reference (wardwatch/fastobj.py) does with
 * object.__new__ and the descriptors' __set__, without a Python-level call per field; a frozen
 * dataclass's __setattr__ guard is bypassed the same way in both.
 *
 * build(cls, descriptors, *values): `descriptors` is a tuple of the class's slot member descriptors in the
 * order of `values` (same length). Anything else raises TypeError; nothing is assumed about memory layout.
 *
 * An instance whose values are all atomic (exactly None, bool, int, float or str) cannot be part of a
 * reference cycle, so it is taken off the cyclic collector's lists, as CPython does for such tuples and
 * dicts: the collector then never scans the hundreds of thousands of facts and flows a run keeps. The
 * classes are frozen, so their slots keep those values.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

/* True for the values that hold no reference to another object the collector could follow. */
static int atomic(PyObject *v)
{
    return v == Py_None || PyUnicode_CheckExact(v) || PyLong_CheckExact(v) || PyFloat_CheckExact(v) ||
           PyBool_Check(v);
}

static PyObject *build(PyObject *self, PyObject *const *args, Py_ssize_t nargs)
{
    (void)self;
    if (nargs < 2 || !PyType_Check(args[0]) || !PyTuple_Check(args[1])) {
        PyErr_SetString(PyExc_TypeError, "build(cls, descriptors, *values)");
        return NULL;
    }
    PyTypeObject *cls = (PyTypeObject *)args[0];
    PyObject *descrs = args[1];
    Py_ssize_t n = PyTuple_GET_SIZE(descrs);
    if (nargs - 2 != n) {
        PyErr_Format(PyExc_TypeError, "build: %zd descriptors but %zd values", n, nargs - 2);
        return NULL;
    }
    PyObject *obj = cls->tp_alloc(cls, 0);
    if (obj == NULL)
        return NULL;
    int untrack = cls->tp_dictoffset == 0;  /* an instance __dict__ could take anything later */
    for (Py_ssize_t i = 0; i < n; i++) {
        PyObject *descr = PyTuple_GET_ITEM(descrs, i);
        descrsetfunc set = Py_TYPE(descr)->tp_descr_set;
        if (set == NULL) {
            Py_DECREF(obj);
            PyErr_SetString(PyExc_TypeError, "build: a descriptor without __set__");
            return NULL;
        }
        if (set(descr, obj, args[i + 2]) < 0) {
            Py_DECREF(obj);
            return NULL;
        }
        untrack = untrack && atomic(args[i + 2]);
    }
    if (untrack && PyObject_GC_IsTracked(obj))
        PyObject_GC_UnTrack(obj);
    return obj;
}

static PyMethodDef methods[] = {
    {"build", (PyCFunction)(void (*)(void))build, METH_FASTCALL,
     "build(cls, descriptors, *values): a new instance with each slot set (see wardwatch.fastobj)."},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "wardwatch._fastobj",
    "Slotted-instance constructor of the hot path (reference: wardwatch.fastobj).", -1, methods,
    NULL, NULL, NULL, NULL,
};

PyMODINIT_FUNC PyInit__fastobj(void) { return PyModule_Create(&module); }
