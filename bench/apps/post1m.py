# Reads the whole request body (1 MiB in the benchmark); a short read is a 400
# so the benchmark counts it as an error.
def application(environ, start_response):
    want = int(environ.get("CONTENT_LENGTH") or 0)
    got = len(environ["wsgi.input"].read(want))
    status = "200 OK" if got == want else "400 Bad Request"
    body = b"%d" % got
    start_response(status, [("Content-Type", "text/plain"), ("Content-Length", str(len(body)))])
    return [body]
