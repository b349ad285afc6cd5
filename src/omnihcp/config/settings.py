"""Settings for every environment, read from 12-factor environment variables.

Local defaults are safe for a laptop (SQLite in ./var, DEBUG on). With ``DEBUG=0`` the
settings refuse to start on the development secret key, so production cannot run with it.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

PACKAGE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(os.environ.get("OMNIHCP_VAR_DIR", Path.cwd() / "var"))

DEV_SECRET_KEY = "dev-insecure-omnihcp-secret-key-change-me"  # noqa: S105 - refused when DEBUG=0


def env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


DEBUG = env_bool("DEBUG", default=True)
SECRET_KEY = os.environ.get("SECRET_KEY", DEV_SECRET_KEY)
if not DEBUG and SECRET_KEY == DEV_SECRET_KEY:
    raise ImproperlyConfigured("SECRET_KEY must be set to a secret value when DEBUG is off.")

ALLOWED_HOSTS = [
    h.strip() for h in os.environ.get("ALLOWED_HOSTS", "127.0.0.1,localhost").split(",")
]
CSRF_TRUSTED_ORIGINS = [
    o.strip() for o in os.environ.get("CSRF_TRUSTED_ORIGINS", "").split(",") if o.strip()
]

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django_htmx",
    "template_partials",
    "django_tasks",
    "django_tasks_db",
    "omnihcp.core",
    "omnihcp.governance",
    "omnihcp.org",
    "omnihcp.masterdata",
    "omnihcp.tracking",
    "omnihcp.engagement",
    "omnihcp.profiles",
    "omnihcp.fieldforce",
    "omnihcp.demo",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "omnihcp.core.middleware.ApplicationErrorMiddleware",
]

ROOT_URLCONF = "omnihcp.config.urls"
WSGI_APPLICATION = "omnihcp.config.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
                "omnihcp.org.context_processors.navigation",
            ],
        },
    }
]


def database_config() -> dict[str, Any]:
    """SQLite tuned for safe concurrent writes by default; any DATABASE_URL otherwise."""
    url = os.environ.get("DATABASE_URL")
    if url:
        config: dict[str, Any] = dict(dj_database_url.parse(url, conn_max_age=60))
        config.setdefault("TEST", {})
        if os.environ.get("OMNIHCP_TEST_DB_NAME"):
            config["TEST"]["NAME"] = os.environ["OMNIHCP_TEST_DB_NAME"]
        return config
    VAR_DIR.mkdir(parents=True, exist_ok=True)
    return {
        "ENGINE": "django.db.backends.sqlite3",
        "NAME": os.environ.get("OMNIHCP_SQLITE_PATH", str(VAR_DIR / "omnihcp.sqlite3")),
        # Kept open between requests: opening one runs the PRAGMAs below and reads the
        # schema, which cost more than a whole tracking call (8 ms against 3 ms).
        "CONN_MAX_AGE": 600,
        "CONN_HEALTH_CHECKS": True,
        "OPTIONS": {
            # IMMEDIATE takes the write lock at BEGIN, so writers queue on the busy
            # timeout instead of failing with "database is locked" on upgrade.
            "transaction_mode": "IMMEDIATE",
            "timeout": 20,
            # FULL makes an acknowledged commit survive a power cut in WAL mode.
            "init_command": (
                "PRAGMA journal_mode=WAL; PRAGMA synchronous=FULL; "
                "PRAGMA foreign_keys=ON; PRAGMA cache_size=-65536; PRAGMA temp_store=MEMORY;"
            ),
        },
    }


DATABASES = {"default": database_config()}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "org.User"
LOGIN_URL = "org:login"
LOGIN_REDIRECT_URL = "org:home"
LOGOUT_REDIRECT_URL = "org:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
]

LANGUAGE_CODE = "zh-hans"
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
LOCALE_PATHS = [PACKAGE_DIR / "locale"]
TIME_ZONE = "Asia/Shanghai"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"

TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SECURE = not DEBUG
CSRF_COOKIE_SECURE = not DEBUG
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "SAMEORIGIN"

# Personal information (PIPL): a separate key encrypts phone and licence numbers and keys
# the blind index used to find them. Derived from SECRET_KEY unless given explicitly.
OMNIHCP_PI_KEY = os.environ.get("OMNIHCP_PI_KEY", "")

# The address doctors' links start with when a background job sends them (a rep's share uses
# the address the rep's browser reached).
OMNIHCP_BASE_URL = os.environ.get("OMNIHCP_BASE_URL", "http://127.0.0.1:8000/")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "WARNING")},
}

# Match probabilities at or above "auto" merge or link without a steward; from "review" up to
# "auto" go to the steward's queue; below "review" a record is new. Per entity type, each
# overridable by an environment variable such as OMNIHCP_MATCH_HCP_AUTO=0.97. A misspelt
# HCO name without its address or USCC scores low: the HCO review band is wide.
MDM_MATCH_THRESHOLDS = {
    entity: {
        level: float(os.environ.get(f"OMNIHCP_MATCH_{entity.upper()}_{level.upper()}", default))
        for level, default in (("auto", auto), ("review", review))
    }
    for entity, auto, review in (("hcp", 0.95, 0.5), ("hco", 0.95, 0.1))
}
