# wsgo's build. `make build` links the Python that pkg-config's python3-embed
# names (Debian's 3.11 here); `make build PYTHON=/path/to/python3.X` links
# that one instead, with an rpath so the binary needs no LD_LIBRARY_PATH.

GO ?= go
PYTHON ?=

ifneq ($(PYTHON),)
PY_LIBDIR := $(shell $(PYTHON) -c 'import sysconfig; print(sysconfig.get_config_var("LIBDIR"))')
ifeq ($(PY_LIBDIR),)
$(error cannot ask $(PYTHON) for its LIBDIR; is PYTHON a python3 executable?)
endif
export PKG_CONFIG_PATH := $(PY_LIBDIR)/pkgconfig
export CGO_LDFLAGS := -Wl,-rpath,$(PY_LIBDIR)
endif

.PHONY: build run test vet e2e unit fuzz setup bench bench-quick bench-setup image-test clean

# urfave_cli_no_docs leaves out urfave/cli's man page and Markdown
# generators (blackfriday), which wsgo never calls: 0.35 MB less binary,
# and every process maps all of it.
build: setup
	$(GO) build -tags urfave_cli_no_docs -o wsgo .

# Sets up and builds what is missing, then serves an example.
EXAMPLE ?= examples/hello.py
run: build
	./wsgo run $(EXAMPLE)

# Installs what building and testing need (Debian packages) when missing;
# quick when nothing is.
setup:
	bash .ci/setup

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1; }
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build ./httpfront/... ./wsgi/... ./supervisor/... ./handoff/... ./internal/... ./bench/...
	cd examples/kubernetes && $(GO) vet ./...

unit:
	$(GO) test -count=1 ./wsgi/... ./httpfront/... ./pyhost/... ./supervisor/... ./handoff/... ./worker/... ./internal/...

e2e:
	$(GO) test -count=1 ./e2e/...

# examples/kubernetes is a module of its own (k8s.io stays out of wsgo's).
test: setup vet
	$(GO) test -count=1 ./...
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

# The Dockerfiles, checked without Docker: wsgo's runtime stage and the Django
# example's image on it, built with debootstrap and chroot, requested over
# loopback, stopped by SIGTERM to PID 1 (needs root; see .ci/image-test).
image-test: build
	bash .ci/image-test

clean:
	rm -f wsgo
