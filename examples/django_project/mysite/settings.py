"""mysite's settings: Django's defaults, and from the environment what a
container changes between runs.

    DJANGO_SECRET_KEY     required; keep it in a secret store, not in the image
    DJANGO_DATA_DIR       the directory the app writes: the SQLite database
                          (default: data/ next to manage.py; /data in the image)
    DJANGO_STATIC_ROOT    where `manage.py collectstatic` puts the files that
                          `wsgo run --static /static=DIR` serves
                          (default: staticfiles/ next to manage.py)
    DJANGO_ALLOWED_HOSTS  comma-separated host names (default: localhost,127.0.0.1)
    DJANGO_DEBUG          1 for Django's debug pages; never in production
"""
import os
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured

BASE_DIR = Path(__file__).resolve().parent.parent


def env_list(name, default):
    return [v.strip() for v in os.environ.get(name, default).split(",") if v.strip()]


SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    raise ImproperlyConfigured(
        "DJANGO_SECRET_KEY is not set: give the app a long random key, e.g. "
        "-e DJANGO_SECRET_KEY=$(head -c 48 /dev/urandom | base64), the same for every "
        "container of the app (sessions and password resets are signed with it)"
    )
DEBUG = os.environ.get("DJANGO_DEBUG", "") == "1"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "mysite.urls"
WSGI_APPLICATION = "mysite.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.debug",
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# SQLite writes the database and, beside it, its journal: the whole
# directory must be writable by the app's user, not only the file.
DATA_DIR = Path(os.environ.get("DJANGO_DATA_DIR", BASE_DIR / "data"))
if not DATA_DIR.is_dir():
    raise ImproperlyConfigured(
        f"the data directory {DATA_DIR} does not exist: create it, writable by the app's "
        "user, or point DJANGO_DATA_DIR to one (in a container: a volume)"
    )
DATABASES = {
    "default": {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": DATA_DIR / "db.sqlite3",
    }
}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# Served by wsgo (--static /static=STATIC_ROOT), never by Django.
STATIC_URL = "/static/"
STATIC_ROOT = Path(os.environ.get("DJANGO_STATIC_ROOT", BASE_DIR / "staticfiles"))

# To stderr, the container's log: Django's errors with their tracebacks
# (a 500; not every 404, which the access log has) and the app's warnings.
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"stderr": {"class": "logging.StreamHandler"}},
    "loggers": {"django": {"handlers": ["stderr"], "level": "ERROR", "propagate": False}},
    "root": {"handlers": ["stderr"], "level": "WARNING"},
}
