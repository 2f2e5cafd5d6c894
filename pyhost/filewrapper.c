/*
 * filewrapper.c: wsgi.file_wrapper(filelike, blksize=8192). Iterating it
 * reads blocks, as PEP 3333 describes; when the app returns it and the
 * file-like is a binary file of io's whose descriptor is a regular file,
 * call.c sends the file from its descriptor instead (sendfile, no copy
 * through Python).
 */
#include "internal.h"

#include <linux/magic.h>
#include <sys/stat.h>
#include <sys/vfs.h>
#include <unistd.h>

typedef struct {
    PyObject_HEAD
    PyObject *filelike;
    Py_ssize_t blksize;
} wsgo_file_wrapper;

static PyObject *fw_new(PyTypeObject *tp, PyObject *args, PyObject *kwds)
{
    static char *kwlist[] = {"filelike", "blksize", NULL};
    PyObject *filelike;
    Py_ssize_t blksize = 8192;
    if (!PyArg_ParseTupleAndKeywords(args, kwds, "O|n:file_wrapper", kwlist, &filelike, &blksize))
        return NULL;
    if (blksize <= 0) {
        PyErr_SetString(PyExc_ValueError, "file_wrapper: blksize must be positive");
        return NULL;
    }
    wsgo_file_wrapper *fw = (wsgo_file_wrapper *)tp->tp_alloc(tp, 0);
    if (fw) {
        fw->filelike = Py_NewRef(filelike);
        fw->blksize = blksize;
    }
    return (PyObject *)fw;
}

static PyObject *fw_next(wsgo_file_wrapper *fw)
{
    PyObject *data = PyObject_CallMethod(fw->filelike, "read", "n", fw->blksize);
    if (data == NULL)
        return NULL;
    Py_ssize_t n = PyObject_Length(data);
    if (n <= 0) { /* 0: end of file (StopIteration); -1: the len() error */
        Py_DECREF(data);
        return NULL;
    }
    return data;
}

static PyObject *fw_close(wsgo_file_wrapper *fw, PyObject *unused)
{
    (void)unused;
    PyObject *close = PyObject_GetAttrString(fw->filelike, "close");
    if (close == NULL) {
        if (!PyErr_ExceptionMatches(PyExc_AttributeError))
            return NULL;
        PyErr_Clear(); /* a file-like without close() */
        Py_RETURN_NONE;
    }
    PyObject *r = PyObject_CallNoArgs(close);
    Py_DECREF(close);
    return r;
}

/*
 * Whether o is a cls whose attribute name is cls's own, which no subclass
 * or assignment to the instance replaced: 1, 0, or -1 with an exception.
 */
static int own(PyObject *o, PyTypeObject *cls, PyObject *name)
{
    if (!PyObject_TypeCheck(o, cls))
        return 0;
    PyObject *attr = PyObject_GetAttr((PyObject *)cls, name), *mine = NULL, *theirs = NULL;
    int r = attr ? 0 : -1;
    if (attr && Py_TYPE(attr)->tp_descr_get) /* io's methods and raw: descriptors */
        r = (mine = Py_TYPE(attr)->tp_descr_get(attr, o, (PyObject *)cls)) && (theirs = PyObject_GetAttr(o, name))
                ? PyObject_RichCompareBool(mine, theirs, Py_EQ)
                : -1;
    Py_XDECREF(attr);
    Py_XDECREF(mine);
    Py_XDECREF(theirs);
    return r;
}

/* Whether own() holds for each of the NULL-terminated names. */
static int own_all(PyObject *o, PyTypeObject *cls, PyObject *const *names)
{
    int r = 1;
    for (; r == 1 && *names; names++)
        r = own(o, cls, *names);
    return r;
}

/*
 * Whether f.read() gives the bytes of f.fileno()'s file from f's position,
 * which sendfile may then send instead (PEP 3333: the same as reading it):
 * a FileIO, or a BufferedReader or BufferedRandom over one, their methods
 * io's own. gzip.open()'s, a text file's and other wrappers' fileno() is
 * a regular file's too, but their read() gives other bytes, or str.
 * 1, 0, or -1 with an exception.
 */
static int reads_descriptor(wsgo_interp *st, PyObject *f)
{
    PyObject *const file[] = {st->s_read, st->s_fileno, NULL};
    PyObject *const buffered[] = {st->s_read, st->s_fileno, st->s_raw, NULL};
    PyObject *const raw_file[] = {st->s_readinto, st->s_fileno, NULL}; /* what a buffered read() calls */
    int r = own_all(f, st->file_io[0], file);
    for (int i = 1; r == 0 && i < 3; i++) {
        if ((r = own_all(f, st->file_io[i], buffered)) == 1) {
            PyObject *raw = PyObject_GetAttr(f, st->s_raw);
            r = raw ? own_all(raw, st->file_io[0], raw_file) : -1;
            Py_XDECREF(raw);
        }
    }
    if (r < 0 && wsgo_clear_ordinary())
        return 0;
    return r;
}

/*
 * Whether a regular file's size may not be its length: the files the
 * kernel makes up as they are read report 0 (/proc) or a page (/sys), so
 * sendfile framed by the size would send nothing, or announce bytes it
 * cannot send. Such a file is read block by block, as PEP 3333 says a
 * file_wrapper's semantics are.
 */
static int size_unknown(int fd, const struct stat *sb)
{
    struct statfs fs;
    if (sb->st_size == 0 || fstatfs(fd, &fs) < 0)
        return 1;
    switch (fs.f_type) {
    case PROC_SUPER_MAGIC:
    case SYSFS_MAGIC:
    case DEBUGFS_MAGIC:
    case TRACEFS_MAGIC:
    case SECURITYFS_MAGIC:
    case CGROUP_SUPER_MAGIC:
    case CGROUP2_SUPER_MAGIC:
        return 1;
    }
    return 0;
}

/*
 * Finds the regular file behind a wrapper: 1 with *fd, *off (the file-like's
 * position) and *len (bytes to its end); 0 when there is none, or reading
 * may give other bytes (read it block by block instead); -1 with an
 * exception.
 */
int wsgo_file_wrapper_fd(wsgo_interp *st, PyObject *o, int *fd, int64_t *off, int64_t *len)
{
    wsgo_file_wrapper *fw = (wsgo_file_wrapper *)o;
    struct stat sb;
    int suits = reads_descriptor(st, fw->filelike);
    if (suits <= 0)
        return suits;
    PyObject *r = PyObject_CallMethodNoArgs(fw->filelike, st->s_fileno);
    if (r == NULL) /* BytesIO and friends: no descriptor */
        return wsgo_clear_ordinary() ? 0 : -1;
    long n = PyLong_AsLong(r);
    Py_DECREF(r);
    if (n == -1 && PyErr_Occurred())
        return wsgo_clear_ordinary() ? 0 : -1;
    if (n < 0)
        return 0;
    if (fstat((int)n, &sb) < 0 || !S_ISREG(sb.st_mode) || size_unknown((int)n, &sb))
        return 0;
    int64_t pos = 0;
    if ((r = PyObject_CallMethodNoArgs(fw->filelike, st->s_tell)) != NULL) {
        pos = PyLong_AsLongLong(r);
        Py_DECREF(r);
    }
    if (r == NULL || pos < 0 || PyErr_Occurred()) {
        if (PyErr_Occurred() && !wsgo_clear_ordinary())
            return -1;
        pos = lseek((int)n, 0, SEEK_CUR);
        if (pos < 0)
            return 0;
    }
    *fd = (int)n;
    *off = pos;
    *len = sb.st_size > pos ? sb.st_size - pos : 0;
    return 1;
}

static int fw_traverse(wsgo_file_wrapper *fw, visitproc visit, void *arg)
{
    Py_VISIT(Py_TYPE(fw));
    Py_VISIT(fw->filelike);
    return 0;
}

static int fw_clear(wsgo_file_wrapper *fw)
{
    Py_CLEAR(fw->filelike);
    return 0;
}

static void fw_dealloc(wsgo_file_wrapper *fw)
{
    PyTypeObject *tp = Py_TYPE(fw);
    PyObject_GC_UnTrack(fw);
    fw_clear(fw);
    tp->tp_free(fw);
    Py_DECREF(tp);
}

static PyMethodDef fw_methods[] = {
    {"close", (PyCFunction)fw_close, METH_NOARGS, "close(): close the file-like."},
    {NULL, NULL, 0, NULL},
};

static PyType_Slot fw_slots[] = {
    {Py_tp_new, fw_new},
    {Py_tp_methods, fw_methods},
    {Py_tp_iter, PyObject_SelfIter},
    {Py_tp_iternext, fw_next},
    {Py_tp_traverse, fw_traverse},
    {Py_tp_clear, fw_clear},
    {Py_tp_dealloc, fw_dealloc},
    {Py_tp_doc, "wsgi.file_wrapper(filelike, blksize=8192)"},
    {0, NULL},
};

PyType_Spec wsgo_file_wrapper_spec = {
    .name = "wsgo.FileWrapper",
    .basicsize = sizeof(wsgo_file_wrapper),
    .flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .slots = fw_slots,
};
