"""A tutorial-style wsgiref script, run unchanged by wsgo.

    python3 examples/web_application.py     # wsgiref, on localhost:8051
    wsgo run examples/web_application.py    # wsgo, on the same address
"""
from wsgiref.simple_server import make_server


def application(environ, start_response):
    path = environ.get("PATH_INFO", "/")
    if path == "/":
        status, body = "200 OK", b"<h1>Home</h1><p><a href='/abcd'>abcd</a></p>"
    elif path == "/abcd":
        status, body = "200 OK", b"<h1>abcd</h1><p>You found the other page.</p>"
    else:
        status, body = "404 Not Found", b"<h1>Not Found</h1>"
    start_response(status, [("Content-Type", "text/html"), ("Content-Length", str(len(body)))])
    return [body]


httpd = make_server("localhost", 8051, application)
print("Serving on port 8051...")
httpd.serve_forever()
