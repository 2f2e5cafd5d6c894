/* pymain.c: `wsgo python ARGS`, the embedded interpreter as a command line. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "wsgo.h"

#include <stdio.h>

/*
 * Runs setup_src in a namespace of its own (not __main__'s, which the
 * command's script gets). 0, or -1 with an exception set. GIL: held.
 */
static int run_setup(const char *setup_src)
{
    PyObject *globals = PyDict_New(), *code = NULL, *ret = NULL;
    if (globals && PyDict_SetItemString(globals, "__builtins__", PyEval_GetBuiltins()) == 0 &&
        (code = Py_CompileString(setup_src, "<wsgo setup>", Py_file_input)) != NULL)
        ret = PyEval_EvalCode(code, globals, globals);
    Py_XDECREF(globals);
    Py_XDECREF(code);
    Py_XDECREF(ret);
    return ret ? 0 : -1;
}

static int python_main(int argc, char **argv, const char *executable, const char *setup_src)
{
    PyConfig config;
    PyStatus status;

    wsgo_python_signals();
    PyConfig_InitPythonConfig(&config);
    status = PyConfig_SetBytesString(&config, &config.executable, executable);
    if (PyStatus_Exception(status))
        goto fail;
    status = PyConfig_SetBytesArgv(&config, argc, argv);
    if (PyStatus_Exception(status))
        goto fail;
    status = Py_InitializeFromConfig(&config);
    if (PyStatus_Exception(status))
        goto fail;
    PyConfig_Clear(&config);
    if (run_setup(setup_src) < 0) {
        PyErr_Print(); /* a SystemExit (the setup's own errors) exits here, with its code */
        Py_FinalizeEx();
        return 1;
    }
    return Py_RunMain();

fail:
    PyConfig_Clear(&config);
    if (PyStatus_IsExit(status))
        return status.exitcode;
    Py_ExitStatusException(status); /* prints the error and exits */
    return 1;
}

/*
 * What Python printed through C's stdio (-V, --help, its usage errors) is
 * in stdio's buffer when stdout is a pipe or a file, and Go's os.Exit,
 * which the exit code goes to, does not flush it.
 */
int wsgo_python_main(int argc, char **argv, const char *executable, const char *setup_src)
{
    int code = python_main(argc, argv, executable, setup_src);
    fflush(NULL);
    return code;
}
