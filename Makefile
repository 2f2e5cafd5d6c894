# wsgo's build. `make build` links the Python that pkg-config's python3-embed
# names (Debian's 3.11 here); `make build PYTHON=/path/to/python3.X` links
# that one instead.
#
# libpython is linked statically when that Python ships its archive
# (sysconfig's LIBPL/LIBRARY: Debian's libpython3.X-dev, pyenv's builds):
# Python code runs faster linked from it than from the shared library
# (Flask ~5% on Debian's, whose archive is compiled without -fPIC; ~20% on a
# pure-Python loop with pyenv's 3.12; docs/PERFORMANCE.md), and the master,
# which runs no Python, no longer pays for libpython's relocations. Else the
# binary links the shared library, with an rpath to it when PYTHON is given,
# so it runs without LD_LIBRARY_PATH. PYLINK=shared links the shared library
# even when the archive is there.

GO ?= go
PYTHON ?=
PYLINK ?= auto

ifneq ($(PYTHON),)
PY_LIBDIR := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR"))')
ifeq ($(PY_LIBDIR),)
$(error cannot ask $(PYTHON) for its LIBDIR; is PYTHON a python3 executable?)
endif
export PKG_CONFIG_PATH := $(PY_LIBDIR)/pkgconfig
endif

# GNU make 4.3 does not pass exported variables to $(shell), hence the prefix.
PKGCONFIG := PKG_CONFIG_PATH=$(PKG_CONFIG_PATH) pkg-config
PY_VERSION := $(shell $(PKGCONFIG) --modversion python3-embed 2>/dev/null)
# The Python that goes with python3-embed knows where its archive is and
# which libraries the archive's built-in modules need (Debian's: expat, zlib).
PY_EXE := $(shell $(PKGCONFIG) --variable=exec_prefix python3-embed 2>/dev/null)/bin/python$(PY_VERSION)
PY_SYSCONFIG = $(shell $(PY_EXE) -c 'import sysconfig; v = sysconfig.get_config_var; print($(1))' 2>/dev/null)

ifeq ($(filter auto shared,$(PYLINK)),)
$(error PYLINK=$(PYLINK): say PYLINK=shared to link libpython's shared library, or leave PYLINK out)
endif
GO_TAGS := urfave_cli_no_docs
ifeq ($(PYLINK),auto)
ifneq ($(wildcard $(PY_EXE)),)
PY_ARCHIVE := $(call PY_SYSCONFIG,v("LIBPL") + "/" + v("LIBRARY"))
ifneq ($(wildcard $(PY_ARCHIVE)),)
PY_STATIC := yes
endif
endif
endif
ifeq ($(PY_STATIC),yes)
GO_TAGS := $(GO_TAGS),pystatic
export CGO_CFLAGS := -O2 -g $(shell $(PKGCONFIG) --cflags python3-embed)
export CGO_LDFLAGS := $(PY_ARCHIVE) $(call PY_SYSCONFIG,v("MODLIBS") + " " + v("LIBS") + " " + v("SYSLIBS"))
else ifneq ($(PYTHON),)
export CGO_LDFLAGS := -Wl,-rpath,$(PY_LIBDIR)
endif

# urfave_cli_no_docs leaves out urfave/cli's man page and Markdown
# generators (blackfriday), which wsgo never calls: 0.35 MB less binary,
# and every process maps all of it. GOFLAGS reaches every go command below
# and the e2e tests' own `go build`; a GOFLAGS of the user's keeps its other
# flags.
export GOFLAGS := $(strip $(filter-out -tags=%,$(GOFLAGS)) -tags=$(GO_TAGS))

.PHONY: build build-after-setup run test test-after-setup vet e2e unit fuzz setup bench bench-quick bench-setup image-test clean

# On a fresh machine, setup installs the python3-embed that the variables
# above were read from, so build and test go on in a second make, which
# reads them afresh: the first binary links libpython as every later one.
# build installs only what building needs (the Dockerfile's build stage
# runs it); test, what testing needs too.
build:
	bash .ci/setup build
	@$(MAKE) --no-print-directory build-after-setup

build-after-setup:
	$(GO) build -o wsgo .

# Sets up (the examples' frameworks too) and builds what is missing, then
# serves an example.
EXAMPLE ?= examples/hello.py
run: setup build
	./wsgo run $(EXAMPLE)

# Installs what building and testing need (Debian packages) when missing;
# quick when nothing is.
setup:
	bash .ci/setup

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1; }
	@test -z "$$(git ls-files '*.pyc' '*.o' '*.so' '*.a' '*.test' '*/__pycache__/*')" || { git ls-files '*.pyc' '*.o' '*.so' '*.a' '*.test' '*/__pycache__/*'; echo 'compiled files are tracked by git: git rm --cached them'; exit 1; }
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build ./httpfront/... ./wsgi/... ./supervisor/... ./handoff/... ./internal/... ./bench/...
	cd examples/kubernetes && $(GO) vet ./...

unit:
	$(GO) test -count=1 ./wsgi/... ./httpfront/... ./pyhost/... ./supervisor/... ./handoff/... ./worker/... ./internal/...

# -parallel 4: the e2e tests marked parallel mostly wait (timeouts, slow
# clients), so four of them at once cost the 2-core CI machine little.
e2e:
	$(GO) test -count=1 -parallel 4 ./e2e/...

# examples/kubernetes is a module of its own (k8s.io stays out of wsgo's).
test: setup
	@$(MAKE) --no-print-directory test-after-setup

test-after-setup: vet
	$(GO) test -count=1 -parallel 4 ./...
	cd examples/kubernetes && $(GO) test -count=1 ./...
	$(GO) test -race -count=1 -run Stress ./pyhost/

# Fuzzing: every Fuzz target of FUZZ_PACKAGES searches for FUZZTIME each
# (`make test` runs only their seeds, from the code and testdata/fuzz).
# A failing input is written to the package's testdata/fuzz: commit it
# with the fix, and it stays a test.
FUZZTIME ?= 30s
FUZZ_PACKAGES ?= ./httpfront/ ./pyhost/

fuzz:
	@for pkg in $(FUZZ_PACKAGES); do \
		for target in $$($(GO) test -list '^Fuzz' $$pkg | grep '^Fuzz'); do \
			echo "== $$pkg $$target ($(FUZZTIME))"; \
			$(GO) test -run '^$$' -fuzz "^$$target\$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
		done; \
	done

# The benchmark suite: wsgo against gunicorn, uWSGI, mod_wsgi, waitress and a
# bare Go server, driven by wrk (bench/runner), also per core (-pin: servers on
# CPU 0, wrk on the others). `make bench` rewrites docs/BENCHMARKS.md;
# `make bench-quick` only prints, for development. BENCHFLAGS passes runner
# options: BENCHFLAGS='-workload hello -server wsgo,uwsgi', or -pin=false.
BENCHFLAGS ?=
BENCH_PACKAGES := wrk gunicorn uwsgi uwsgi-plugin-python3 python3-waitress python3-flask python3-django apache2 libapache2-mod-wsgi-py3 util-linux

bench-setup:
	bash .ci/setup $(BENCH_PACKAGES)

bench: build bench-setup
	$(GO) run ./bench/runner -pin -out docs/BENCHMARKS.md $(BENCHFLAGS)

bench-quick: build bench-setup
	$(GO) run ./bench/runner -pin -quick $(BENCHFLAGS)

# The Dockerfiles, checked without Docker: wsgo's build and runtime stages and
# the Django example's image on it, built with debootstrap and chroot,
# requested over loopback, stopped by SIGTERM to PID 1 (needs root; see
# .ci/image-test). The image's binary is the build stage's, not ./wsgo.
image-test: setup
	bash .ci/image-test

clean:
	rm -f wsgo
