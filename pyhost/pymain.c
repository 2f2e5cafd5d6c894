/* pymain.c: `wsgo python ARGS`, the embedded interpreter as a command line. */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "wsgo.h"

int wsgo_python_main(int argc, char **argv, const char *executable)
{
    PyConfig config;
    PyStatus status;

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
    return Py_RunMain();

fail:
    PyConfig_Clear(&config);
    if (PyStatus_IsExit(status))
        return status.exitcode;
    Py_ExitStatusException(status); /* prints the error and exits */
    return 1;
}
