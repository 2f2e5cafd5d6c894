"""The smallest WSGI app: greets whoever the path names.

    wsgo run examples/hello.py
    curl http://127.0.0.1:8000/world      ->  Hello, world!
"""


def application(environ, start_response):
    name = environ["PATH_INFO"].strip("/") or "stranger"
    body = ("Hello, %s!\n" % name).encode("utf-8")
    start_response("200 OK", [("Content-Type", "text/plain; charset=utf-8"),
                              ("Content-Length", str(len(body)))])
    return [body]
