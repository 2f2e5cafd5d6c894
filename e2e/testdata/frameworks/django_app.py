"""A single-file Django project: settings.configure(), two views."""
import hashlib

from django.conf import settings

settings.configure(
    DEBUG=False,
    SECRET_KEY="wsgo-e2e-not-secret",
    ROOT_URLCONF=__name__,
    ALLOWED_HOSTS=["*"],
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
)

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.http import HttpResponse  # noqa: E402
from django.urls import path  # noqa: E402


def index(request):
    return HttpResponse("Hello from Django", content_type="text/plain")


def echo(request):
    data = request.body
    return HttpResponse("%d bytes, sha256 %s" % (len(data), hashlib.sha256(data).hexdigest()),
                        content_type="text/plain")


urlpatterns = [path("", index), path("echo", echo)]

application = get_wsgi_application()
