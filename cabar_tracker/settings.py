"""Settings for the detention case tracker: one module, configured from the environment.

Every value that differs between a laptop, CI and production is read from an environment
variable through the helpers below, which fail loudly on a value they cannot parse instead
of silently falling back. README.md lists the variables.
"""

import os
from pathlib import Path

import dj_database_url
import xstatic.pkg.leaflet
from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy

BASE_DIR = Path(__file__).resolve().parent.parent

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off", ""}


def env_bool(name: str, default: bool) -> bool:
    raw = os.environ.get(name)
    if raw is None:
        return default
    value = raw.strip().lower()
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ImproperlyConfigured(f"{name}={raw!r} is not a boolean (use 1/0, true/false, yes/no).")


def env_int(name: str, default: int, *, minimum: int | None = None) -> int:
    raw = os.environ.get(name)
    if raw is None or raw.strip() == "":
        return default
    try:
        value = int(raw)
    except ValueError:
        raise ImproperlyConfigured(f"{name}={raw!r} is not an integer.") from None
    if minimum is not None and value < minimum:
        raise ImproperlyConfigured(f"{name}={raw!r} is less than {minimum}.")
    return value


def env_list(name: str, default: list[str]) -> list[str]:
    raw = os.environ.get(name)
    if raw is None:
        return default
    return [item.strip() for item in raw.split(",") if item.strip()]


def env_rate(name: str, default: str) -> str:
    """A rate such as 120/minute: a number, a slash and second, minute, hour or day."""
    raw = os.environ.get(name, default).strip()
    count, _slash, period = raw.partition("/")
    if not count.isdigit() or period not in {"second", "minute", "hour", "day"}:
        raise ImproperlyConfigured(f"{name}={raw!r} is not a rate such as 120/minute.")
    return raw


DEBUG = env_bool("DEBUG", False)

SECRET_KEY = os.environ.get("SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        # Production must never run on a key that is in the repository.
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off.")
    SECRET_KEY = "django-insecure-development-only-key-never-use-in-production"

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", ["127.0.0.1", "localhost"] if DEBUG else [])
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    # The admin, for the admin role only (cabar_tracker/admin_site.py).
    "cabar_tracker.apps.TrackerAdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # WhiteNoise serves static files in development too, so runserver behaves like production.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_countries",
    "rest_framework",
    # DRF's clear-text tokens are no longer used (accounts.ApiToken replaced them, and a
    # migration emptied their table); the app stays only because an early migration of
    # people depends on it.
    "rest_framework.authtoken",
    "django_filters",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "csp",
    "simple_history",
    # Locks a username after repeated failed logins from one address (AXES_* below).
    "axes",
    # The second factor for staff (accounts/mfa.py): django-otp's devices (authenticator
    # apps, recovery codes) and passkeys or security keys (django-otp-webauthn).
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "django_otp_webauthn",
    # Staff accounts' security: API tokens, login guard, session limits, security log.
    "accounts",
    # Background jobs (TASKS below): Django 6's task interface, and its database backend.
    "django_tasks",
    "django_tasks_db",
    # The tables every app shares (idempotency keys).
    "cabar_tracker.apps.TrackerConfig",
    "people",
    "incidents",
    # Captures of sources (WARC, screenshot, PDF), attachments and their fixity checks.
    "evidence",
]

MIDDLEWARE = [
    # An id for every request (X-Request-ID), and the request for the security log.
    "cabar_tracker.request_context.RequestIdMiddleware",
    "django.middleware.security.SecurityMiddleware",
    "cabar_tracker.middleware.PermissionsPolicyMiddleware",
    # Every error under /api/ is JSON, whichever view or handler answered it.
    "cabar_tracker.middleware.ApiErrorsAsJsonMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    # Cache-Control: private, no-store on every response to staff and in the private areas.
    "cabar_tracker.middleware.PrivateResponsesMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Ends idle and too-old sessions (SESSION_IDLE_MINUTES, SESSION_MAX_HOURS).
    "accounts.middleware.SessionLimitsMiddleware",
    # Which second factor this session passed (django-otp), and no private page without one
    # (accounts/middleware.py; MFA_REQUIRED).
    "django_otp.middleware.OTPMiddleware",
    "accounts.middleware.SecondFactorMiddleware",
    # Every 403 is a line in the security log.
    "accounts.middleware.SecurityLogMiddleware",
    # A parameter a view cannot use is a 400 naming it (cabar_tracker/parameters.py).
    "cabar_tracker.middleware.BadParameterMiddleware",
    # Records who made each change in the history tables.
    "simple_history.middleware.HistoryRequestMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    # A write sent twice with one idempotency key is done once (cabar_tracker/idempotency.py);
    # after CSRF and authentication, as its process_view needs both.
    "cabar_tracker.middleware.IdempotencyMiddleware",
    # Turns a login refused by django-axes into the lockout page; must come last.
    "axes.middleware.AxesMiddleware",
]
# Rate limits of the pages and exports for everyone but staff (THROTTLE_* below). After the
# authentication middleware, which tells staff apart; before the views, so a refused request
# costs no query.
MIDDLEWARE.insert(
    MIDDLEWARE.index("django.contrib.auth.middleware.AuthenticationMiddleware") + 1,
    "cabar_tracker.throttling.PageThrottleMiddleware",
)

ROOT_URLCONF = "cabar_tracker.urls"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "django.template.context_processors.i18n",
            ],
        },
    },
]

WSGI_APPLICATION = "cabar_tracker.wsgi.application"

# Database: DATABASE_URL (e.g. postgres://postgres@127.0.0.1:5432/cabar_tracker) or the
# embedded SQLite default, so a fresh checkout works with nothing else installed.
DEFAULT_SQLITE_PATH = BASE_DIR / "db.sqlite3"
DATABASES = {
    "default": dj_database_url.parse(
        os.environ.get("DATABASE_URL") or f"sqlite:///{DEFAULT_SQLITE_PATH}",
        conn_max_age=env_int("DATABASE_CONN_MAX_AGE", 60),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # SQLite with several gunicorn workers: WAL lets readers proceed during a write, and
    # IMMEDIATE transactions take the write lock at BEGIN, so two writers queue on the busy
    # timeout instead of failing with "database is locked" half-way through a transaction.
    DATABASES["default"]["CONN_MAX_AGE"] = 0
    DATABASES["default"]["OPTIONS"] = {
        "transaction_mode": "IMMEDIATE",
        "timeout": 20,
        "init_command": (
            "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;"
        ),
    }

elif DATABASES["default"]["ENGINE"] == "django.db.backends.postgresql":
    # No JIT compilation: it pays for long analytical queries, not for a web request's
    # short ones, where it added 80 ms to a 30 ms search at a million incidents.
    DATABASES["default"].setdefault("OPTIONS", {})["options"] = "-c jit=off"

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# Passwords: at least PASSWORD_MIN_LENGTH characters (never fewer than 12), not like the
# username or e-mail, not a common password, not all digits.
PASSWORD_MIN_LENGTH = max(12, env_int("PASSWORD_MIN_LENGTH", 12))
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": PASSWORD_MIN_LENGTH},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# django-axes checks every login (the login page, the admin) against its lockouts before
# Django's own backend checks the password. API tokens are not logins and are unaffected.
AUTHENTICATION_BACKENDS = [
    # Refuses every login from an address that failed too often, any username
    # (LOGIN_ADDRESS_* below; accounts/login_guard.py).
    "accounts.login_guard.AddressThrottleBackend",
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
# Login lockout: after AXES_FAILURE_LIMIT failed logins for one username from one address,
# that pair is refused for AXES_COOLOFF_TIME hours (0: until an admin runs
# `manage.py axes_reset_username NAME`). A correct login resets the count. Locking the pair,
# not the username alone, stops a stranger from locking a colleague out from elsewhere.
AXES_FAILURE_LIMIT = env_int("AXES_FAILURE_LIMIT", 5)
AXES_COOLOFF_TIME = env_int("AXES_COOLOFF_TIME", 1) or None
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
# The lockout page for both limits, with Retry-After.
AXES_LOCKOUT_CALLABLE = "accounts.login_guard.lockout_response"
# The real client's address behind TRUSTED_PROXY_COUNT proxies (not the proxy's).
AXES_CLIENT_IP_CALLABLE = "cabar_tracker.request_context.client_address"
# axes logs nothing of its own that the security log (accounts.security_log) does not say
# better; its table of attempts is what it counts.
AXES_ENABLE_ACCESS_FAILURE_LOG = False

# How many reverse proxies stand in front of the app and append to X-Forwarded-For (nginx
# with `proxy_add_x_forwarded_for`: 1; a CDN before it: 2). The client's address is the
# n-th from the right of that header. 0 (the default) trusts no forwarding header: use it
# when clients connect to gunicorn directly, or they could choose their address.
TRUSTED_PROXY_COUNT = env_int("TRUSTED_PROXY_COUNT", 0)
if TRUSTED_PROXY_COUNT < 0:
    raise ImproperlyConfigured("TRUSTED_PROXY_COUNT must be 0 or more.")

# Password spraying: after LOGIN_ADDRESS_FAILURE_LIMIT failed logins from one address (any
# usernames) within LOGIN_ADDRESS_WINDOW_MINUTES, logins from that address are refused until
# the window ends. Counted in the default cache: set REDIS_URL when several app servers run.
LOGIN_ADDRESS_FAILURE_LIMIT = env_int("LOGIN_ADDRESS_FAILURE_LIMIT", 20)
LOGIN_ADDRESS_WINDOW_MINUTES = env_int("LOGIN_ADDRESS_WINDOW_MINUTES", 15)

# Sessions of staff, who see unpublished and withheld data: logged out after
# SESSION_IDLE_MINUTES without a request, and SESSION_MAX_HOURS after logging in however
# active (accounts/middleware.py).
SESSION_IDLE_MINUTES = env_int("SESSION_IDLE_MINUTES", 30)
SESSION_MAX_HOURS = env_int("SESSION_MAX_HOURS", 12)
if SESSION_IDLE_MINUTES < 1 or SESSION_MAX_HOURS < 1:
    raise ImproperlyConfigured("SESSION_IDLE_MINUTES and SESSION_MAX_HOURS must be 1 or more.")
SESSION_COOKIE_AGE = SESSION_MAX_HOURS * 3600

# The second factor (accounts/mfa.py). Every staff account must pass one before it sees
# anything the public does not; turning this off is for a demo on one's own machine only.
MFA_REQUIRED = env_bool("MFA_REQUIRED", True)
if not MFA_REQUIRED and not DEBUG:
    raise ImproperlyConfigured("MFA_REQUIRED=0 is only allowed with DEBUG=1 (a local demo).")
# Sensitive actions (an API token, a merge, showing a withheld identity, roles, second
# factors) ask for the password and a second factor again after this many minutes.
REAUTH_MINUTES = env_int("REAUTH_MINUTES", 10)
# What authenticator apps show as the account's issuer.
OTP_TOTP_ISSUER = os.environ.get("OTP_TOTP_ISSUER", "Detention case tracker")
# Passkeys and security keys (accounts/webauthn.py). A passkey belongs to one site: set
# WEBAUTHN_RP_ID to the site's domain and WEBAUTHN_ORIGINS to its https:// address in
# production. Without them the relying party is the host the site is served on, and only
# http://localhost:8000 (the run command's address) is accepted: open the demo at
# localhost, not 127.0.0.1, to try a passkey (browsers refuse them on IP addresses).
WEBAUTHN_RP_ID = os.environ.get("WEBAUTHN_RP_ID", "").strip()
OTP_WEBAUTHN_RP_ID_CALLABLE = "accounts.webauthn.relying_party_id"
OTP_WEBAUTHN_RP_NAME = OTP_TOTP_ISSUER
OTP_WEBAUTHN_ALLOWED_ORIGINS = env_list("WEBAUTHN_ORIGINS", ["http://localhost:8000"])
# A passkey is a second factor here, never a login on its own: the password is checked by
# the guarded login first (accounts/login_guard.py).
OTP_WEBAUTHN_ALLOW_PASSWORDLESS_LOGIN = False

# API tokens (accounts/tokens.py): every token expires; its owner picks a lifetime up to
# API_TOKEN_MAX_DAYS. The last-used time is written at most every
# API_TOKEN_LAST_USED_INTERVAL seconds.
API_TOKEN_DEFAULT_DAYS = env_int("API_TOKEN_DEFAULT_DAYS", 90)
API_TOKEN_MAX_DAYS = env_int("API_TOKEN_MAX_DAYS", 365)
API_TOKEN_LAST_USED_INTERVAL = env_int("API_TOKEN_LAST_USED_INTERVAL", 60)
if not 1 <= API_TOKEN_DEFAULT_DAYS <= API_TOKEN_MAX_DAYS:
    raise ImproperlyConfigured("API_TOKEN_DEFAULT_DAYS must be from 1 to API_TOKEN_MAX_DAYS.")

LOGIN_URL = "login"

# The years a recorded date may fall in, on every write path (incidents.partial_dates):
# from PLAUSIBLE_FIRST_YEAR to this year plus PLAUSIBLE_YEARS_AHEAD (a trial announced ahead).
# A typo like 1022 or 9999 is refused with the range rather than stored.
PLAUSIBLE_FIRST_YEAR = env_int("PLAUSIBLE_FIRST_YEAR", 1900)
PLAUSIBLE_YEARS_AHEAD = env_int("PLAUSIBLE_YEARS_AHEAD", 1)

# A write sent again with the same idempotency key within this many hours (a form sent
# twice, an API client retrying) answers as the first did and writes nothing
# (cabar_tracker/idempotency.py); older keys are removed.
IDEMPOTENCY_KEY_HOURS = env_int("IDEMPOTENCY_KEY_HOURS", 24)

# The admin's history pages show versions but do not restore them: a restore there would skip
# the review step. Reviewers revert on the staff history pages.
SIMPLE_HISTORY_REVERT_DISABLED = True
LOGIN_REDIRECT_URL = "staff:dashboard"
LOGOUT_REDIRECT_URL = "home"

LANGUAGE_CODE = "en"
LANGUAGES = [("en", "English"), ("ru", "Русский")]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

STATIC_URL = "static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [
    BASE_DIR / "static",
    # Leaflet from its PyPI package, served as /static/leaflet/leaflet.js.
    ("leaflet", xstatic.pkg.leaflet.BASE_DIR),
]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    # Hashed, compressed files in production; plain storage under DEBUG and in tests, so
    # neither needs collectstatic to have run.
    "staticfiles": {
        "BACKEND": (
            "whitenoise.storage.CompressedManifestStaticFilesStorage"
            if not DEBUG and env_bool("STATIC_MANIFEST", True)
            else "django.contrib.staticfiles.storage.StaticFilesStorage"
        )
    },
}

# Uploaded attachments and captures of sources (evidence/) go to the default storage: this
# folder on the local disk unless STORAGES["default"] names another backend (README.md,
# Evidence: S3-compatible object storage through django-storages is one setting away). No
# MEDIA_URL: the files are never served from a folder, only by evidence/public/views.py,
# which checks who may see each one and always sends it as a download.
MEDIA_ROOT = Path(os.environ.get("MEDIA_ROOT") or BASE_DIR / "media")

# Captures of a source's address (evidence/capture.py): limits of one fetch. Only http and
# https are fetched; the host's addresses (and those of every redirect) must be public
# ones, never private, loopback or link-local, unless CAPTURE_ALLOW_PRIVATE_ADDRESSES is on
# (the tests' local server; refused without DEBUG). CAPTURE_ALLOWED_HOSTS, if set, is the
# only hosts (and their subdomains) that may be fetched.
CAPTURE_MAX_BYTES = env_int("CAPTURE_MAX_BYTES", 50 * 1024 * 1024)
CAPTURE_TIMEOUT_SECONDS = env_int("CAPTURE_TIMEOUT_SECONDS", 30)
CAPTURE_MAX_REDIRECTS = env_int("CAPTURE_MAX_REDIRECTS", 5)
CAPTURE_ALLOW_PRIVATE_ADDRESSES = env_bool("CAPTURE_ALLOW_PRIVATE_ADDRESSES", False)
if CAPTURE_ALLOW_PRIVATE_ADDRESSES and not DEBUG:
    raise ImproperlyConfigured(
        "CAPTURE_ALLOW_PRIVATE_ADDRESSES=1 lets captures reach the internal network: only "
        "with DEBUG=1."
    )
CAPTURE_ALLOWED_HOSTS = env_list("CAPTURE_ALLOWED_HOSTS", [])
# A capture is queued when a source with an address is created (any door).
CAPTURE_ON_CREATE = env_bool("CAPTURE_ON_CREATE", True)
# HTML is also rendered to a full-page screenshot and a PDF in headless Chromium.
CAPTURE_RENDER = env_bool("CAPTURE_RENDER", True)
CAPTURE_CHROMIUM = os.environ.get("CAPTURE_CHROMIUM", "/usr/bin/chromium")
CAPTURE_USER_AGENT = os.environ.get(
    "CAPTURE_USER_AGENT", "Mozilla/5.0 (compatible; DetentionCaseTracker-Archiver/1.0)"
)
# Largest file staff may attach to a record.
ATTACHMENT_MAX_BYTES = env_int("ATTACHMENT_MAX_BYTES", 100 * 1024 * 1024)
for _name in ("CAPTURE_MAX_BYTES", "CAPTURE_TIMEOUT_SECONDS", "ATTACHMENT_MAX_BYTES"):
    if globals()[_name] < 1:
        raise ImproperlyConfigured(f"{_name} must be 1 or more.")

# Security: strict by default when DEBUG is off; `manage.py check --deploy` is clean then.
# Behind a TLS-terminating proxy, set SECURE_PROXY_SSL_HEADER_ENABLED=1.
SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", not DEBUG)
SESSION_COOKIE_SECURE = env_bool("SESSION_COOKIE_SECURE", not DEBUG)
CSRF_COOKIE_SECURE = env_bool("CSRF_COOKIE_SECURE", not DEBUG)
SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 0 if DEBUG else 31536000)
SECURE_HSTS_INCLUDE_SUBDOMAINS = env_bool("SECURE_HSTS_INCLUDE_SUBDOMAINS", not DEBUG)
SECURE_HSTS_PRELOAD = env_bool("SECURE_HSTS_PRELOAD", not DEBUG)
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if env_bool("SECURE_PROXY_SSL_HEADER_ENABLED", False):
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "handlers": {"console": {"class": "logging.StreamHandler"}},
    "root": {"handlers": ["console"], "level": os.environ.get("LOG_LEVEL", "INFO")},
    "loggers": {
        # The security log: one JSON object per line (accounts/security_log.py), at INFO
        # whatever LOG_LEVEL says. Route it elsewhere by giving it a handler of its own.
        "security": {"level": "INFO"},
        # axes' own messages repeat the security log's, with the username and address masked.
        "axes": {"level": "ERROR"},
    },
}

# Countries the project cares about first appear at the top of country choices.
COUNTRIES_FIRST = ["KG", "KZ", "UZ", "TJ", "RU"]
COUNTRIES_FIRST_REPEAT = True
# The name readers in Kyrgyzstan use (the package's Russian name is the older "Киргизия").
COUNTRIES_OVERRIDE = {"KG": gettext_lazy("Kyrgyzstan")}

# Map tiles are the only third-party requests the pages make (DESIGN.md); the URL is a
# setting so a deployment can use its own tile server. The Content Security Policy below
# allows images from its host and nothing else from outside.
MAP_TILE_URL = os.environ.get("MAP_TILE_URL", "https://tile.openstreetmap.org/{z}/{x}/{y}.png")
MAP_TILE_ATTRIBUTION = os.environ.get("MAP_TILE_ATTRIBUTION", "&copy; OpenStreetMap contributors")

# The authority of the Atom feed's entry ids (`tag:<authority>,<date>:incident/<pk>`,
# RFC 4151): a domain the site's owner holds. Set it once, at the first deployment, and never
# change it, or every feed reader shows every case again as new. Not the request's host,
# which differs between a site's names and proxies.
FEED_ID_AUTHORITY = os.environ.get("FEED_ID_AUTHORITY", "localhost")


def _origin(url: str) -> str:
    scheme, _, rest = url.partition("://")
    return f"{scheme}://{rest.split('/', 1)[0]}".replace("{s}", "*") if rest else ""


CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "img-src": ["'self'", "data:", _origin(MAP_TILE_URL)],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "connect-src": ["'self'"],
        "font-src": ["'self'"],
        "object-src": ["'none'"],
        "base-uri": ["'self'"],
        "frame-ancestors": ["'none'"],
        "form-action": ["'self'"],
    }
}

# REST API (/api/v1/). Deny by default: a view that forgets to declare its permission
# serves nobody. Throttle rates are settings so a deployment can tune them.
REST_FRAMEWORK = {
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAdminUser"],
    "DEFAULT_AUTHENTICATION_CLASSES": [
        # `Token <key>` or `Bearer <key>`; another scheme is a 401 (api/authentication.py).
        "cabar_tracker.api.authentication.TokenOrBearerAuthentication",
        "rest_framework.authentication.SessionAuthentication",
    ],
    "DEFAULT_FILTER_BACKENDS": ["django_filters.rest_framework.DjangoFilterBackend"],
    # JSON nested deeper than any record is a 400, not a RecursionError (api/parsers.py).
    "DEFAULT_PARSER_CLASSES": [
        "cabar_tracker.api.parsers.BoundedJSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "cabar_tracker.api.schema.ApiAutoSchema",
    # These read the rate at each request (DRF's own classes freeze it at import).
    "DEFAULT_THROTTLE_CLASSES": [
        "cabar_tracker.api.throttling.AnonRateThrottle",
        "cabar_tracker.api.throttling.UserRateThrottle",
    ],
    "DEFAULT_THROTTLE_RATES": {
        "anon": env_rate("API_THROTTLE_ANON", "120/minute"),
        "user": env_rate("API_THROTTLE_USER", "1200/minute"),
    },
    # Decimals (coordinates) as JSON numbers, not strings.
    "COERCE_DECIMAL_TO_STRING": False,
    # The throttles' client address: the same rule as the login lockout's
    # (cabar_tracker/request_context.py). Without it DRF would count a forged header.
    "NUM_PROXIES": TRUSTED_PROXY_COUNT,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Detention case tracker API",
    "DESCRIPTION": (
        "Read published detention cases, people, places, statements and sources; staff "
        "tokens also read drafts and write.\n\n"
        "Anonymous clients see published records only, never staff-only fields, and a person "
        "whose identity is withheld only as a neutral label. Send `Authorization: Token <key>` "
        "(staff create a token at /account/api-token/) to read drafts and staff fields and to "
        "write. Writing needs a staff account with the change permission of the model (the "
        "editor role); publishing, unpublishing or archiving a published record needs the "
        "publish permission (the reviewer role). DELETE archives; nothing is deleted.\n\n"
        'Dates known only partly are one object: `{"value": "2022-01", "precision": '
        '"month"}` (value at that precision: YYYY-MM-DD for day and approximate, YYYY-MM, '
        "YYYY), or null when unknown.\n\n"
        "Lists are paged by cursor (`next`/`previous` links, also in the `Link` header); "
        "`page_size` up to 200; `count=true` adds a total. A list's CSV (`format=csv`) holds "
        "every row of the filter in one streamed response unless a page is asked for "
        "(`page_size`, `cursor` or `stream=page`), so `pandas.read_csv(url)` gets them all; "
        "`bom=1` adds a UTF-8 byte order mark for Excel. Incidents, detentions and statements "
        "as CSV have the columns of the site's downloads (/about/#exports). "
        "Details carry an ETag: send it in "
        "If-None-Match (304) or, when writing, If-Match (412 if the record changed)."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
    # No spec validator badge: Swagger UI would fetch it from validator.swagger.io.
    "SWAGGER_UI_SETTINGS": {"deepLinking": True, "validatorUrl": None},
    # Request and response bodies differ (ids in, nested summaries out).
    "COMPONENT_SPLIT_REQUEST": True,
    "ENUM_NAME_OVERRIDES": {
        "PublicationStateEnum": "cabar_tracker.publishing.PublicationState",
        "DatePrecisionEnum": "incidents.partial_dates.DatePrecision",
        "IncidentKindEnum": "incidents.models.IncidentKind",
        "LocationKindEnum": "incidents.models.LocationKind",
        "CoordinatePrecisionEnum": "incidents.models.CoordinatePrecision",
        "VerificationEnum": "incidents.models.Verification",
        "DetentionRoleEnum": "incidents.models.DetentionRole",
        "OutcomeEnum": "incidents.models.Outcome",
        "AllegationKindEnum": "incidents.models.AllegationKind",
        "EventKindEnum": "incidents.models.EventKind",
        "StatementKindEnum": "incidents.models.StatementKind",
        "MediumEnum": "incidents.models.Medium",
        "DisputeStatusEnum": "incidents.models.DisputeStatus",
        "SourceKindEnum": "incidents.models.SourceKind",
        "SexEnum": "people.models.Sex",
        "NameKindEnum": "people.models.NameKind",
        "ScriptEnum": "people.models.Script",
        "OrganizationKindEnum": "people.models.OrganizationKind",
        "CountryEnum": "cabar_tracker.api.fields.country_choices",
    },
}

# Background jobs (CSV imports, incidents/import_jobs.py; captures of sources and fixity
# checks, evidence/) through django-tasks, the backport of Django 6's django.tasks, with
# django-tasks-db's backend: jobs are rows in the database, run by `manage.py db_worker`
# (dev.py run and serve start one). It needs nothing but the database, SQLite or
# PostgreSQL, and any number of workers on any number of machines share one queue. Tests
# use the immediate backend (tests/conftest.py) and one real worker.
TASKS = {"default": {"BACKEND": "django_tasks_db.DatabaseBackend", "QUEUES": ["default"]}}

# A page export (/incidents/export.csv, detentions.csv, export.json, /statements/export.csv)
# whose filter selects more rows than this is written by a background job
# (incidents/export_jobs.py) into a file the reader downloads from a progress page, rather
# than streamed through a request that would hold a gunicorn thread for minutes. The API's
# CSV always streams (scripts read it in one response).
EXPORT_JOB_ROWS = env_int("EXPORT_JOB_ROWS", 10_000, minimum=1)
# `manage.py clean_jobs`: an import or export job "running" for longer than this (its worker
# was stopped or died) is marked failed, saying so.
JOB_STUCK_MINUTES = env_int("JOB_STUCK_MINUTES", 60, minimum=1)
# `manage.py clean_jobs`: export files and stored import files older than this are deleted;
# an export's page then answers 410 Gone.
JOB_FILE_RETENTION_DAYS = env_int("JOB_FILE_RETENTION_DAYS", 7, minimum=1)
# Where Django's default storage keeps files: the export jobs' files, under `exports/`. Never
# served directly (no MEDIA_URL route): each file is handed out by its job's download view,
# which checks who may have it. With workers on several machines it must be a directory
# they all share, or STORAGES["default"] an object store.
MEDIA_ROOT = os.environ.get("MEDIA_ROOT", str(BASE_DIR / "media"))


# Rate limits per client address for the pages (everything but the API, which has its own,
# static files and the staff side) and, on top, for the exports and feeds, which stream many
# rows. Staff are not limited. Past a limit the answer is 429 with Retry-After and a page
# saying when to try again. Counted in the default cache: shared by every worker and every
# machine with REDIS_URL, per process without it (cabar_tracker/throttling.py).
THROTTLE_PAGES = env_rate("THROTTLE_PAGES", "300/minute")
THROTTLE_EXPORTS = env_rate("THROTTLE_EXPORTS", "20/hour")

# Shared state (throttle counters, cached pages) must not live in one process's memory when
# several app servers run: set REDIS_URL to share it. Without it, each process keeps its own.
if os.environ.get("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "django.core.cache.backends.redis.RedisCache",
            "LOCATION": os.environ["REDIS_URL"],
            # Several sites (or a test run) may share one Redis server.
            "KEY_PREFIX": os.environ.get("CACHE_KEY_PREFIX", "cabar"),
        }
    }
