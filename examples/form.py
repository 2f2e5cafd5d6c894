"""A form that POSTs back to itself and echoes what was sent.

    wsgo run examples/form.py               # then open http://127.0.0.1:8000/
    curl -d 'name=Ada&message=hi' http://127.0.0.1:8000/
"""
import html
from urllib.parse import parse_qs

FORM = b"""<!doctype html><title>Echo</title>
<form method="post"><input name="name" placeholder="name">
<input name="message" placeholder="message"><button>Send</button></form>"""


def application(environ, start_response):
    if environ["REQUEST_METHOD"] == "POST":
        size = environ.get("CONTENT_LENGTH")
        data = environ["wsgi.input"].read(int(size)) if size else environ["wsgi.input"].read()
        fields = parse_qs(data.decode("utf-8"))
        items = "".join("<li>%s: %s</li>" % (html.escape(k), html.escape(", ".join(v)))
                        for k, v in sorted(fields.items()))
        body = FORM + ("<h2>You sent</h2><ul>%s</ul>" % items).encode("utf-8")
    else:
        body = FORM
    start_response("200 OK", [("Content-Type", "text/html; charset=utf-8"),
                              ("Content-Length", str(len(body)))])
    return [body]
