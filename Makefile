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

.PHONY: build test vet e2e unit setup bench image-test clean

build:
	$(GO) build -o wsgo .

# Installs what building and testing need (Debian packages); run once.
setup:
	bash .ci/setup

vet:
	@test -z "$$(gofmt -l $$(git ls-files '*.go'))" || { gofmt -l $$(git ls-files '*.go'); echo 'gofmt needed'; exit 1; }
	$(GO) vet ./...
	CGO_ENABLED=0 $(GO) build ./httpfront/... ./wsgi/...

unit:
	$(GO) test -count=1 ./wsgi/... ./httpfront/... ./pyhost/...

e2e:
	$(GO) test -count=1 ./e2e/...

test: vet
	$(GO) test -count=1 ./...

# The thread-pool benchmark (needs wrk): hello world and a 50 ms sleep, 1 thread against 16.
bench: build
	bench/threads.sh

# The Dockerfile's runtime stage, checked without Docker: debootstrap, chroot,
# a request over loopback, SIGTERM to PID 1 (needs root; see .ci/image-test).
image-test: build
	bash .ci/image-test

clean:
	rm -f wsgo
