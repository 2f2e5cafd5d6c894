# wsgo's container image: one binary with Debian bookworm's Python 3.11
# linked in (statically, from libpython3.11-dev's archive), on
# debian:bookworm-slim with that Python's standard library, run as a
# non-root user.
#
#   docker build -t wsgo .
#   docker run -p 8000:8000 -v "$PWD/examples:/app" wsgo run hello.py
#
# An app's image builds FROM this one: examples/django_project/Dockerfile,
# explained in docs/docker.md.
#
# `make image-test` checks the runtime stage without Docker: it builds its
# root file system with debootstrap and runs the RUN lines marked below.

FROM golang:1.26-bookworm AS build
# libpython3-dev has python3-embed.pc, which `make build` links through;
# libpython3.11-dev the static archive, and python3.11 says which
# libraries the archive's built-in modules need (see the Makefile).
RUN apt-get update \
 && apt-get install -y --no-install-recommends libpython3.11-dev libpython3-dev python3.11 pkg-config \
 && rm -rf /var/lib/apt/lists/*
WORKDIR /src
COPY go.mod go.sum ./
RUN go mod download
COPY . .
RUN make build

FROM debian:bookworm-slim
# image-test: runtime packages (read by .ci/image-test; keep on one line)
RUN apt-get update && apt-get install -y --no-install-recommends libpython3.11-stdlib libexpat1 zlib1g && rm -rf /var/lib/apt/lists/*
# image-test: user (run by .ci/image-test; keep on one line)
RUN useradd --user-group --uid 10001 --home-dir /app --no-create-home --shell /usr/sbin/nologin wsgo
COPY --from=build /src/wsgo /usr/local/bin/wsgo
WORKDIR /app
USER wsgo
ENV WSGO_BIND=0.0.0.0:8000
EXPOSE 8000
# As PID 1, wsgo runs the server as its child, forwards signals to it
# (docker stop: SIGTERM, a graceful drain) and reaps orphans.
ENTRYPOINT ["wsgo"]
CMD ["--help"]
