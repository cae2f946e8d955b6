/*
 * Small helpers shared by the capture extensions (_flowkernel, _naming): one definition each.
 */
#ifndef WARDWATCH_CSHARED_H
#define WARDWATCH_CSHARED_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#include <stdint.h>

/* SplitMix64 finalizer: spreads a (salted) hash over the slots of a table. */
static inline uint64_t scramble(uint64_t x)
{
    x ^= x >> 30;
    x *= 0xBF58476D1CE4E5B9ULL;
    x ^= x >> 27;
    x *= 0x94D049BB133111EBULL;
    return x ^ (x >> 31);
}

/* True when buffer `v` holds single elements of type `want`: 'i' int64, 'u' uint64, 'f' float64, else
 * bool (the struct format codes numpy exports, with an optional native-order prefix). */
static inline int format_ok(const Py_buffer *v, char want)
{
    const char *f = v->format;
    if (f == NULL)
        return 0;
    if (f[0] == '@' || f[0] == '=')
        f++;
    if (f[0] == '\0' || f[1] != '\0')
        return 0;
    switch (want) {
    case 'i':
        return v->itemsize == 8 && (f[0] == 'q' || f[0] == 'l');
    case 'u':
        return v->itemsize == 8 && (f[0] == 'Q' || f[0] == 'L');
    case 'f':
        return v->itemsize == 8 && f[0] == 'd';
    default:
        return v->itemsize == 1 && f[0] == '?';
    }
}

#endif
