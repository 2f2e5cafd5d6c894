"""A Pyramid app with one route."""
from pyramid.config import Configurator
from pyramid.response import Response


def hello(request):
    return Response("Hello from Pyramid", content_type="text/plain")


with Configurator() as config:
    config.add_route("hello", "/")
    config.add_view(hello, route_name="hello")
    app = config.make_wsgi_app()
