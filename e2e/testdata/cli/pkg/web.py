def handler(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [("from %s.handler\n" % __name__).encode()]
