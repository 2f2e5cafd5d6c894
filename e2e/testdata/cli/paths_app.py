import mod_a
import mod_b


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("%s %s\n" % (mod_a.NAME, mod_b.NAME)).encode()]
