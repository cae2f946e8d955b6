/*
 * Shared by the two files of wardwatch.capture._flowkernel: the flow index (_flowindex.c) and the batch
 * pass (_flowkernel.c).
 */
#ifndef WARDWATCH_FLOWKERNEL_H
#define WARDWATCH_FLOWKERNEL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

#include "_cshared.h"

/* Buffers (_flowindex.c). Element types: 'i' int64, 'u' uint64, 'f' float64, 'b' bool. A contiguous
 * buffer of at least `items` such elements, else an exception. */
int get_buf(PyObject *obj, Py_buffer *v, char want, int writable, Py_ssize_t items, const char *name);
void release_all(Py_buffer *views, int count);

/* One slot of a table keyed by hash: the hash and the flow (or group) it names; -1 marks an empty slot. */
typedef struct {
    uint64_t h;
    int64_t v;
} Slot;

typedef struct {
    PyObject_HEAD
    Slot *slots;
    size_t mask; /* capacity - 1; capacity is a power of two, at most half full */
    size_t count;
    uint64_t salt;
} FlowIndex;

static inline size_t ix_home(const FlowIndex *ix, uint64_t h) { return (size_t)(scramble(h ^ ix->salt) & ix->mask); }

/* Fresh empty slots (the old ones are the caller's to free); NULL and MemoryError when out of memory. */
Slot *new_slots(size_t cap);

/* The slot holding `h`, or the empty slot where it would go. */
static inline size_t ix_slot(const FlowIndex *ix, uint64_t h)
{
    size_t s = ix_home(ix, h);
    while (ix->slots[s].v >= 0 && ix->slots[s].h != h)
        s = (s + 1) & ix->mask;
    return s;
}

static inline int64_t ix_get(const FlowIndex *ix, uint64_t h) { return ix->slots[ix_slot(ix, h)].v; }

/* index[h] = fid (fid >= 0), like dict assignment; -1 and MemoryError when out of memory. */
int ix_put(FlowIndex *ix, uint64_t h, int64_t fid);

/* The batch pass, a method of FlowIndex (_flowkernel.c). */
PyObject *FlowIndex_account(FlowIndex *ix, PyObject *args);
extern PyTypeObject FlowIndexType;

#endif
