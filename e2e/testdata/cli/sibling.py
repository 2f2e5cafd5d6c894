import sibling_helper


def application(environ, start_response):
    start_response("200 OK", [("Content-Type", "text/plain")])
    return [sibling_helper.message().encode()]
