def make_app(greeting="default", n=1):
    def app(environ, start_response):
        start_response("200 OK", [("Content-Type", "text/plain")])
        return [("greeting=%r n=%r\n" % (greeting, n)).encode()]
    return app


def broken_factory():
    raise RuntimeError("the factory refuses")
