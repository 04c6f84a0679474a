"""The shop's settings: Oscar's defaults, PostgreSQL when OSCAR_SHOP_POSTGRES_URL names one.

Without it the shop runs on SQLite (in memory under pytest-django). Caches, media, logs
and sessions live under OSCAR_SHOP_DIR (a temporary directory by default), where the
privacy suite scans them.
"""

import os
import tempfile
from urllib.parse import urlsplit

from oscar import INSTALLED_APPS as OSCAR_APPS
from oscar.defaults import *  # noqa: F403 (Oscar's settings are meant to be imported whole)

SCRATCH = os.environ.get("OSCAR_SHOP_DIR") or tempfile.mkdtemp(prefix="oscar_shop_")
_POSTGRES = os.environ.get("OSCAR_SHOP_POSTGRES_URL")
if _POSTGRES:
    _url = urlsplit(_POSTGRES)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _url.path.lstrip("/"),
            "USER": _url.username or "",
            "PASSWORD": _url.password or "",
            "HOST": _url.hostname or "",
            "PORT": str(_url.port or ""),
            "TEST": {"NAME": os.environ.get("OSCAR_SHOP_TEST_DB")},
        }
    }
else:
    DATABASES = {"default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"}}

SECRET_KEY = "oscar-shop-example-only"
# Django's fast hasher, as its testing documentation advises: the default PBKDF2 took a
# third of the privacy suite's run, hashing the one example password on every sign-up
# and again on every login. What a hash is made of holds no personal data either way.
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
DEBUG = False
ALLOWED_HOSTS = ["testserver", "localhost"]
USE_TZ = True
TIME_ZONE = "UTC"
SITE_ID = 1
INSTALLED_APPS = [*OSCAR_APPS, "oscar_shop.shop"]
MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "oscar.apps.basket.middleware.BasketMiddleware",
]
AUTHENTICATION_BACKENDS = (
    "oscar.apps.customer.auth_backends.EmailBackend",
    "django.contrib.auth.backends.ModelBackend",
)
ROOT_URLCONF = "oscar_shop.urls"
TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "oscar.apps.search.context_processors.search_form",
                "oscar.apps.checkout.context_processors.checkout",
                "oscar.apps.communication.notifications.context_processors.notifications",
                "oscar.core.context_processors.metadata",
            ]
        },
    }
]
HAYSTACK_CONNECTIONS = {"default": {"ENGINE": "haystack.backends.simple_backend.SimpleEngine"}}
STATIC_URL = "/static/"
MEDIA_ROOT = os.path.join(SCRATCH, "media")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": os.path.join(SCRATCH, "cache"),
    }
}
os.makedirs(os.path.join(SCRATCH, "logs"), exist_ok=True)
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {
        "file": {
            "class": "logging.FileHandler",
            "filename": os.path.join(SCRATCH, "logs", "shop.log"),
        }
    },
    "root": {"handlers": ["file"], "level": "INFO"},
    "loggers": {
        # At INFO, Oscar's Dispatcher logs every recipient's address: FINDINGS.md, finding 3.
        "oscar.apps.communication.utils": {
            "level": os.environ.get("OSCAR_SHOP_MAIL_LOG_LEVEL", "WARNING")
        }
    },
}
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
OSCAR_FROM_EMAIL = "shop@oscar-shop.example"
PHONENUMBER_DEFAULT_REGION = "US"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"
