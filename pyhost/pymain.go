package pyhost

/*
#include <stdlib.h>
#include "wsgo.h"
*/
import "C"

import (
	"os"
	"runtime"
	"unsafe"
)

// ExecutableEnv is set in the environment of a process that runs Python
// with this binary as sys.executable, so that the processes it starts
// inherit it: there `wsgo SCRIPT ARGS` is `python3 SCRIPT ARGS`, as
// Django's autoreloader and an app's subprocess.run([sys.executable,
// "script.py"]) expect, where a user's `wsgo hello.py` is a mistyped
// `wsgo run hello.py`, which wsgo says.
const ExecutableEnv = "WSGO_PYTHON_EXECUTABLE"

// PythonMain runs the linked Python as its command line would, with args
// as its arguments after the program name, and returns its exit code
// (`wsgo python manage.py migrate`). sys.executable is executable, so
// that Python started again by the app (multiprocessing's spawn, pip)
// comes back here. Before the command runs, the virtualenv of
// WSGO_VIRTUALENV or VIRTUAL_ENV, or a .venv in the current directory, is
// put on sys.path as `wsgo run` does (venv.py); a bad one exits 4.
// Nothing else may use Python in this process, before or after.
func PythonMain(executable string, args []string) int {
	runtime.LockOSThread() // Python's main thread is the one that starts it
	os.Setenv(ExecutableEnv, "1")
	argv := make([]*C.char, 0, len(args)+1)
	for _, a := range append([]string{"wsgo"}, args...) {
		argv = append(argv, C.CString(a))
	}
	defer func() {
		for _, p := range argv {
			C.free(unsafe.Pointer(p))
		}
	}()
	exe := C.CString(executable)
	defer C.free(unsafe.Pointer(exe))
	setup := C.CString(venvSource + "\npython_command()\n")
	defer C.free(unsafe.Pointer(setup))
	// argv is Go memory holding C pointers: C reads it during the call only.
	return int(C.wsgo_python_main(C.int(len(argv)), &argv[0], exe, setup))
}
