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

.PHONY: build test vet e2e unit fuzz setup bench bench-quick bench-setup image-test clean

build:
	$(GO) build -o wsgo .

# Installs what building and testing need (Debian packages); run once.
setup:
	bash .ci/setup

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1; }
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build ./httpfront/... ./wsgi/... ./bench/...

unit:
	$(GO) test -count=1 ./wsgi/... ./httpfront/... ./pyhost/...

e2e:
	$(GO) test -count=1 ./e2e/...

test: vet
	$(GO) test -count=1 ./...
	$(GO) test -race -count=1 -run Stress ./pyhost/

# Fuzzing, each target for FUZZTIME (their seed corpora run in `make test`).
FUZZTIME ?= 60s
fuzz:
	$(GO) test -run '^$$' -fuzz FuzzPackedRequest -fuzztime $(FUZZTIME) ./pyhost/

# The benchmark suite: wsgo against gunicorn, uWSGI, waitress and a bare Go
# server, driven by wrk (bench/runner). `make bench` rewrites
# docs/BENCHMARKS.md; `make bench-quick` only prints, for development.
# BENCHFLAGS passes runner options: BENCHFLAGS='-workload hello -server wsgo,uwsgi'.
BENCHFLAGS ?=
BENCH_PACKAGES := wrk gunicorn uwsgi uwsgi-plugin-python3 python3-waitress python3-flask python3-django

bench-setup:
	bash .ci/setup $(BENCH_PACKAGES)

bench: build bench-setup
	$(GO) run ./bench/runner -out docs/BENCHMARKS.md $(BENCHFLAGS)

bench-quick: build bench-setup
	$(GO) run ./bench/runner -quick $(BENCHFLAGS)

# The Dockerfile's runtime stage, checked without Docker: debootstrap, chroot,
# a request over loopback, SIGTERM to PID 1 (needs root; see .ci/image-test).
image-test: build
	bash .ci/image-test

clean:
	rm -f wsgo
