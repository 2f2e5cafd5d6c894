# 16 MiB streamed by a generator: 256 chunks of 64 KiB, no Content-Length.
CHUNK = b"x" * 65536


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "application/octet-stream")])
    return (CHUNK for _ in range(256))
