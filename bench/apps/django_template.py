# A whole Django project in one file: settings, one URL, one view rendering a
# template held in memory.
import django
from django.conf import settings

TEMPLATE = """<!doctype html>
<html><head><title>{{ title }}</title></head>
<body><h1>{{ title }}</h1>
<ul>{% for item in items %}<li class="{% cycle 'odd' 'even' %}">{{ item.name|title }}: {{ item.price|floatformat:2 }}</li>{% endfor %}</ul>
</body></html>
"""

settings.configure(
    DEBUG=False,
    SECRET_KEY="benchmark-only",
    ALLOWED_HOSTS=["*"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=["django.middleware.common.CommonMiddleware"],  # sets Content-Length
    INSTALLED_APPS=[],
    USE_TZ=True,
    TEMPLATES=[{
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "OPTIONS": {"loaders": [("django.template.loaders.locmem.Loader", {"page.html": TEMPLATE})]},
    }],
)
django.setup()

from django.core.wsgi import get_wsgi_application  # noqa: E402
from django.shortcuts import render  # noqa: E402
from django.urls import path  # noqa: E402

ITEMS = [{"name": "item number %d" % i, "price": i * 1.25} for i in range(20)]


def index(request):
    return render(request, "page.html", {"title": "Benchmark page", "items": ITEMS})


urlpatterns = [path("", index)]
application = get_wsgi_application()
