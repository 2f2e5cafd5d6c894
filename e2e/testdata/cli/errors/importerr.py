import os
import nosuch_dependency_xyz


def application(environ, start_response):
    start_response("200 OK", [])
    return [b""]
