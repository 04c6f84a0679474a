"""Settings chosen by environment variables, so each test picks the setup it is about.

TINY_SHOP_DB: "memory" (SQLite in memory, the default), a file path, or a PostgreSQL URL
(``postgresql://user@host:port/name``). TINY_SHOP_EXTRA: a JSON object of settings
laid over these (a second alias, another cache or e-mail backend ...).
"""

import json
import os
import tempfile
from urllib.parse import urlsplit

_DB = os.environ.get("TINY_SHOP_DB", "memory")
_SCRATCH = os.environ.get("TINY_SHOP_DIR") or tempfile.mkdtemp(prefix="tiny_shop_")

if _DB.startswith("postgresql"):
    _url = urlsplit(_DB)
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": _url.path.lstrip("/"),
            "USER": _url.username or "",
            "HOST": _url.hostname or "",
            "PORT": str(_url.port or ""),
            "TEST": {"NAME": os.environ.get("TINY_SHOP_TEST_DB")},
        }
    }
else:
    DATABASES = {
        "default": {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": ":memory:" if _DB == "memory" else _DB,
        }
    }

SECRET_KEY = "tiny-shop-tests-only"
USE_TZ = True
INSTALLED_APPS = [
    "django.contrib.contenttypes",
    "django.contrib.auth",
    "django.contrib.sessions",
    "tiny_shop",
]
MIDDLEWARE = [
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
]
ROOT_URLCONF = "tiny_shop.urls"
MEDIA_ROOT = os.path.join(_SCRATCH, "media")
CACHES = {
    "default": {
        "BACKEND": "django.core.cache.backends.filebased.FileBasedCache",
        "LOCATION": os.path.join(_SCRATCH, "cache"),
    }
}
LOGGING = {
    "version": 1,
    "handlers": {
        "shop": {
            "class": "logging.FileHandler",
            "filename": os.path.join(_SCRATCH, "logs", "shop.log"),
        }
    },
    "loggers": {"tiny_shop": {"handlers": ["shop"], "level": "INFO"}},
}
os.makedirs(os.path.join(_SCRATCH, "logs"), exist_ok=True)
EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
DEFAULT_AUTO_FIELD = "django.db.models.AutoField"

globals().update(json.loads(os.environ.get("TINY_SHOP_EXTRA", "{}")))
