def handler(environ, start_response):
    start_response("200 OK", [])
    return [b""]


def make_thing():
    return 1
