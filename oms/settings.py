"""Settings, all read from the environment (django-environ).

Development defaults are safe to run locally; with DEBUG off the production
hardening below applies and `manage.py check --deploy` passes.
"""

from pathlib import Path

import environ
from django.utils.translation import gettext_lazy as _

from oms.lib.roles import ACCOUNTING, ADMIN
from oms.lib.secret import local_secret_key

BASE_DIR = Path(__file__).resolve().parent.parent

env = environ.Env()
environ.Env.read_env(BASE_DIR / ".env", overwrite=False)

DEBUG = env.bool("DEBUG", default=False)
# Development gets a random key of its own, kept in the checkout's data dir
# (never a fixed one: it signs the customers' payment links); production must
# set its own.
SECRET_KEY = (env.str("SECRET_KEY", default="") or local_secret_key(BASE_DIR / ".data")
              if DEBUG else env.str("SECRET_KEY"))
ALLOWED_HOSTS = env.list("ALLOWED_HOSTS", default=["127.0.0.1", "localhost", "testserver"])
CSRF_TRUSTED_ORIGINS = env.list("CSRF_TRUSTED_ORIGINS", default=[])

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.humanize",
    # Trigram/opclass indexes and lookups for back-office search.
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "ninja",  # serves the API docs' Swagger UI from static files, not a CDN
    "django_celery_beat",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "oms",
    "customers",
    "inventory",
    "orders",
    "billing",
    "fulfillment",
    "reporting",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django_otp.middleware.OTPMiddleware",
    # After the session: a signed-in user's saved language wins over the cookie.
    "oms.lib.preferences.UserLanguageMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    # Signed out after SESSION_IDLE_TIMEOUT_MINUTES without a request (after
    # messages, to say why, and htmx, to answer a lost database as a view would).
    "oms.lib.idle.IdleSessionMiddleware",
    # Admin and Accounting confirm a one-time code before any back-office page.
    "oms.lib.second_factor.SecondFactorMiddleware",
    "oms.lib.errors.ApplicationErrorMiddleware",
    "oms.lib.errors.DatabaseUnavailableMiddleware",
    # axes last: it turns a lockout into a response before the view runs.
    "axes.middleware.AxesMiddleware",
]

ROOT_URLCONF = "oms.urls"
WSGI_APPLICATION = "oms.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "oms.lib.navigation.navigation",
                "oms.lib.notices.bell",
            ],
        },
    },
]

DATABASES = {
    "default": env.db_url("DATABASE_URL", default="postgres://postgres@127.0.0.1:5432/oms"),
}
DATABASES["default"].setdefault("CONN_MAX_AGE", env.int("CONN_MAX_AGE", default=0))
# A persistent connection broken by a database restart is replaced before the
# next request uses it, instead of failing that request.
DATABASES["default"].setdefault("CONN_HEALTH_CHECKS", True)
DATABASES["default"].setdefault("OPTIONS", {})
# A stuck lock must surface as an error, never as a request that hangs for ever.
DATABASES["default"]["OPTIONS"].setdefault(
    "options", "-c lock_timeout=10000 -c statement_timeout=60000"
)

AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "login"
LOGIN_REDIRECT_URL = "dashboard"
LOGOUT_REDIRECT_URL = "login"

# Lock an account+address pair out after repeated failures (django-axes).
AXES_FAILURE_LIMIT = env.int("AXES_FAILURE_LIMIT", default=5)
AXES_COOLOFF_TIME = env.float("AXES_COOLOFF_HOURS", default=0.5)
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
AXES_RESET_ON_SUCCESS = True
AXES_LOCKOUT_TEMPLATE = "registration/locked_out.html"
# Behind the documented TLS proxy every request arrives from the proxy: the
# lockout keys on the client address the proxy appends (oms.lib.auth.client_ip).
BEHIND_TLS_PROXY = env.bool("BEHIND_TLS_PROXY", default=False)
AXES_CLIENT_IP_CALLABLE = "oms.lib.auth.client_ip"

# Second factor (TOTP, django-otp): these roles confirm a one-time code after
# the password. OTP_REQUIRED=false switches it off in DEBUG only (`make run`'s
# demo logins); production turns it off, if it must, with OTP_REQUIRED_ROLES=.
OTP_REQUIRED = env.bool("OTP_REQUIRED", default=True) or not DEBUG
OTP_REQUIRED_ROLES = (env.list("OTP_REQUIRED_ROLES", default=[ADMIN, ACCOUNTING])
                      if OTP_REQUIRED else [])
OTP_TOTP_ISSUER = env.str("OTP_TOTP_ISSUER", default="OMS")
# The admin may delete a lost phone's device (the user sets up again at the
# next log-in) but never reads anyone's secret or QR code.
OTP_ADMIN_HIDE_SENSITIVE_DATA = True
# A signed-in session with no request for this long is signed out.
SESSION_IDLE_TIMEOUT_MINUTES = env.int("SESSION_IDLE_TIMEOUT_MINUTES", default=30)

# Internationalisation: English first, then the languages of the documents the
# product comes from.
LANGUAGE_CODE = "en"
LANGUAGES = [
    ("en", _("English")),
    ("fr", _("French")),
    ("es", _("Spanish")),
    ("nl", _("Dutch")),
    ("ro", _("Romanian")),
    ("ru", _("Russian")),
]
LOCALE_PATHS = [BASE_DIR / "locale"]
# English dates as written in Europe (day/month); see oms/formats/en/formats.py.
FORMAT_MODULE_PATH = ["oms.formats"]
TIME_ZONE = env.str("TIME_ZONE", default="Europe/Paris")
USE_I18N = True
USE_TZ = True
USE_THOUSAND_SEPARATOR = True

DEFAULT_CURRENCY = env.str("DEFAULT_CURRENCY", default="EUR")
CURRENCIES = env.list("CURRENCIES", default=["EUR", "USD", "GBP"])

# The manual discount (lines and order, in percent of the goods' value) each
# role may give; above it the order waits for a manager. A person gets the
# highest of their roles; other roles and the API none.
ORDER_DISCOUNT_LIMITS = {
    "Sales": env.int("SALES_DISCOUNT_LIMIT_PERCENT", default=10),
    "Manager": 100,
    "Admin": 100,
}

# How long a placed order holds its stock before the hold lapses (minutes).
RESERVATION_HOLD_MINUTES = env.int("RESERVATION_HOLD_MINUTES", default=60)
# How long an order on hold waits, by hold reason (orders.holds): a declined
# card as long as its payment link (BILLING_CARD_LINK_MAX_AGE_HOURS); a
# bank-transfer prepayment this many days, the customer reminded this many
# days before the end; a review by Sales or a manager until decided, the
# managers alerted once when it waits longer than HOLD_REVIEW_ALERT_HOURS.
HOLD_PREPAYMENT_DAYS = env.int("HOLD_PREPAYMENT_DAYS", default=7)
HOLD_PREPAYMENT_REMINDER_DAYS = env.int("HOLD_PREPAYMENT_REMINDER_DAYS", default=2)
HOLD_REVIEW_ALERT_HOURS = env.int("HOLD_REVIEW_ALERT_HOURS", default=24)
# The work queue (/queue/): orders held longer than this need a person; the
# top bar's count is cached this long; bulk actions take at most this many rows.
WORK_QUEUE_HOLD_HOURS = env.int("WORK_QUEUE_HOLD_HOURS", default=HOLD_REVIEW_ALERT_HOURS)
WORK_QUEUE_BADGE_SECONDS = env.int("WORK_QUEUE_BADGE_SECONDS", default=60)
BULK_ACTION_MAX_ROWS = env.int("BULK_ACTION_MAX_ROWS", default=500)
# A return is opened up to this many days after the order shipped; staff may
# open one later, giving a reason (orders.services.returns).
RETURN_WINDOW_DAYS = env.int("RETURN_WINDOW_DAYS", default=30)
# The hold reasons whose wait gives the stock back (it is reserved again on
# approval, or the order is backordered when it is short by then).
HOLD_RELEASE_STOCK_REASONS = env.list("HOLD_RELEASE_STOCK_REASONS",
                                      default=["prepayment_missing"])

STATIC_URL = "static/"
STATICFILES_DIRS = [BASE_DIR / "static"]
STATIC_ROOT = BASE_DIR / ".data" / "staticfiles"
MEDIA_URL = "media/"
MEDIA_ROOT = env.path("MEDIA_ROOT", default=str(BASE_DIR / ".data" / "media"))
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": (
            "django.contrib.staticfiles.storage.StaticFilesStorage"
            if DEBUG
            else "whitenoise.storage.CompressedManifestStaticFilesStorage"
        )
    },
}
WHITENOISE_USE_FINDERS = env.bool("WHITENOISE_USE_FINDERS", default=DEBUG)
WHITENOISE_AUTOREFRESH = DEBUG

DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# E-mail: console in development, SMTP (or the compose mail catcher) when set.
EMAIL_CONFIG = env.email_url("EMAIL_URL", default="consolemail://")
vars().update(EMAIL_CONFIG)
DEFAULT_FROM_EMAIL = env.str("DEFAULT_FROM_EMAIL", default="OMS <orders@oms.example>")
SERVER_EMAIL = DEFAULT_FROM_EMAIL
EMAIL_TIMEOUT = 10
# Absolute links in e-mails (the customer's signed payment link) start with this.
SITE_URL = env.str("SITE_URL", default="http://localhost:8000")

# Payment approval (billing): card gateway, signed payment-link lifetime and
# tries, and how long a placed order may wait for the automatic decision
# before it shows in the approval queue.
BILLING_CARD_PROVIDER = env.str("BILLING_CARD_PROVIDER", default="sandbox")
BILLING_CARD_LINK_MAX_AGE_HOURS = env.int("BILLING_CARD_LINK_MAX_AGE_HOURS", default=72)
BILLING_CARD_RETRY_MAX_ATTEMPTS = env.int("BILLING_CARD_RETRY_MAX_ATTEMPTS", default=5)
BILLING_QUEUE_PLACED_GRACE_MINUTES = env.int("BILLING_QUEUE_PLACED_GRACE_MINUTES", default=5)

# Invoicing (billing): the seller printed on every invoice (EU VAT directive
# art. 226 requires its name, address and VAT id), the payment details, the
# number series, and the days overdue at which a reminder goes out.
SELLER_NAME = env.str("SELLER_NAME", default="OMS Trading SARL")
SELLER_ADDRESS = env.str("SELLER_ADDRESS", default="12 rue de l'Exemple, 75001 Paris, FR")
SELLER_VAT_ID = env.str("SELLER_VAT_ID", default="FR00123456789")
SELLER_IBAN = env.str("SELLER_IBAN", default="FR76 3000 6000 0112 3456 7890 189")
SELLER_BIC = env.str("SELLER_BIC", default="AGRIFRPPXXX")
# VAT (orders.taxes): where the seller is established, and whether its
# distance sales to consumers in other member states passed the EU threshold
# (EUR 10,000 a year): then they are taxed at the destination's rate.
SELLER_COUNTRY = env.str("SELLER_COUNTRY", default="FR")
VAT_DISTANCE_SELLING_THRESHOLD_PASSED = env.bool("VAT_DISTANCE_SELLING_THRESHOLD_PASSED",
                                                 default=False)
# The seller's legal mentions its country requires on invoices (France: legal
# form and capital, RCS registration, the late-payment penalty rate and the
# fixed recovery indemnity of Code de commerce L441-10). Blank: not printed.
SELLER_LEGAL_FORM = env.str("SELLER_LEGAL_FORM", default="SARL au capital de 50 000 €")
SELLER_REGISTRATION = env.str("SELLER_REGISTRATION",
                              default="RCS Paris 123 456 789 · SIRET 123 456 789 00012")
SELLER_LATE_PAYMENT_PENALTY = env.str(
    "SELLER_LATE_PAYMENT_PENALTY",
    default="3 times the French legal interest rate")
SELLER_RECOVERY_INDEMNITY = env.str("SELLER_RECOVERY_INDEMNITY", default="40.00")
BILLING_INVOICE_SERIES = env.str("BILLING_INVOICE_SERIES", default="INV")
BILLING_CREDIT_NOTE_SERIES = env.str("BILLING_CREDIT_NOTE_SERIES", default="CN")
# Invoice each shipment as it leaves (its units, a partial card capture);
# off: one invoice of the order once all of it has left.
BILLING_INVOICE_EACH_SHIPMENT = env.bool("BILLING_INVOICE_EACH_SHIPMENT", default=False)
BILLING_REMINDER_LEVELS = [int(v) for v in env.list("BILLING_REMINDER_LEVELS",
                                                    default=["1", "15", "30"])]

# Scheduled reports (reporting): files over this size go out as a signed
# download link valid this many days instead of an attachment; a failing run
# is tried this many times (with backoff) before it stays failed.
REPORT_ATTACHMENT_MAX_BYTES = env.int("REPORT_ATTACHMENT_MAX_BYTES", default=5 * 1024 * 1024)
REPORT_LINK_MAX_AGE_DAYS = env.int("REPORT_LINK_MAX_AGE_DAYS", default=7)
REPORT_RUN_MAX_ATTEMPTS = env.int("REPORT_RUN_MAX_ATTEMPTS", default=4)
# Files of older runs are deleted (their rows stay in the run history).
REPORT_FILE_RETENTION_DAYS = env.int("REPORT_FILE_RETENTION_DAYS", default=90)

# Celery. With no REDIS_URL tasks run in-process right after commit, so the
# product works on a laptop with nothing but Python.
REDIS_URL = env.str("REDIS_URL", default="")
CELERY_BROKER_URL = REDIS_URL or "memory://"
CELERY_RESULT_BACKEND = None
CELERY_TASK_ALWAYS_EAGER = not REDIS_URL
CELERY_TASK_EAGER_PROPAGATES = False
CELERY_BEAT_SCHEDULER = "django_celery_beat.schedulers:DatabaseScheduler"
OUTBOX_RELAY_SECONDS = env.int("OUTBOX_RELAY_SECONDS", default=30)
OUTBOX_MAX_ATTEMPTS = env.int("OUTBOX_MAX_ATTEMPTS", default=8)
# A dispatched row still pending after this long was lost by the broker: re-send.
OUTBOX_REDISPATCH_SECONDS = env.int("OUTBOX_REDISPATCH_SECONDS", default=300)
# Done outbox rows and stored API answers are deleted after this many days.
OUTBOX_RETENTION_DAYS = env.int("OUTBOX_RETENTION_DAYS", default=30)
IDEMPOTENCY_RETENTION_DAYS = env.int("IDEMPOTENCY_RETENTION_DAYS", default=7)
# Used one-time keys of the back-office money forms: a form rendered longer ago
# than this could be submitted a second time (keep it above the session age).
FORM_KEY_RETENTION_DAYS = env.int("FORM_KEY_RETENTION_DAYS", default=30)

# The JSON API: requests per minute and token (0: no limit), counted in the
# "shared" cache, Redis when REDIS_URL is set so that every worker counts
# together (in-process without Redis); long jobs keep their progress there
# too. Carrier events may be stamped this many seconds after "now" (the
# carrier's clock runs ahead of ours).
API_RATE_LIMIT_PER_MINUTE = env.int("API_RATE_LIMIT_PER_MINUTE", default=600)
# The customer's order page (/o/<token>/): one link per order, valid this many
# days from its making; requests per minute and client address (0: no limit).
ORDER_LINK_MAX_AGE_DAYS = env.int("ORDER_LINK_MAX_AGE_DAYS", default=90)
ORDER_PAGE_RATE_LIMIT_PER_MINUTE = env.int("ORDER_PAGE_RATE_LIMIT_PER_MINUTE", default=60)
# When every parcel of an order arrived, the customer is asked to rate it: 0 in
# the "delivered" e-mail itself; more: in a separate e-mail this many hours later.
FEEDBACK_REQUEST_DELAY_HOURS = env.int("FEEDBACK_REQUEST_DELAY_HOURS", default=0)
CARRIER_EVENT_CLOCK_SKEW_SECONDS = env.int("CARRIER_EVENT_CLOCK_SKEW_SECONDS", default=300)
CACHES = {
    "default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"},
    "shared": ({"BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_URL, "KEY_PREFIX": "oms"}
               if REDIS_URL else
               {"BACKEND": "django.core.cache.backends.locmem.LocMemCache",
                "LOCATION": "shared"}),
}

# Security: strict unless DEBUG. Behind a TLS-terminating proxy set
# SECURE_PROXY_SSL_HEADER through the environment flag below.
SESSION_COOKIE_HTTPONLY = True
CSRF_COOKIE_HTTPONLY = False  # htmx reads the token from the page, not the cookie
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"
SECURE_REFERRER_POLICY = "same-origin"
if not DEBUG:
    SESSION_COOKIE_SECURE = env.bool("SESSION_COOKIE_SECURE", default=True)
    CSRF_COOKIE_SECURE = env.bool("CSRF_COOKIE_SECURE", default=True)
    SECURE_SSL_REDIRECT = env.bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_HSTS_SECONDS = env.int("SECURE_HSTS_SECONDS", default=31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = env.bool("SECURE_HSTS_PRELOAD", default=True)
    if BEHIND_TLS_PROXY:
        SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {"handlers": ["console"], "level": env.str("LOG_LEVEL", default="INFO")},
    "loggers": {"django.db.backends": {"level": "INFO"}},
}

# Periodic work. Apps add their own entries here; django-celery-beat keeps
# them (and the managers' report schedules) in the database.
CELERY_BEAT_SCHEDULE = {
    "outbox-relay": {"task": "oms.tasks.relay_outbox", "schedule": float(OUTBOX_RELAY_SECONDS)},
    # Lapsed stock holds -> orders expired, set-based (orders.services.expire_orders).
    "orders-expire-reservations": {"task": "orders.tasks.expire_reservations",
                                   "schedule": 60.0},
    # Prepayments near their deadline -> one reminder each; reviews waiting
    # past HOLD_REVIEW_ALERT_HOURS -> one managers' alert each.
    "orders-hold-reminders": {"task": "orders.tasks.send_hold_reminders",
                              "schedule": 900.0},
    # Backordered orders whose stock has arrived -> reserved.
    "orders-allocate-backorders": {"task": "orders.tasks.allocate_backorders",
                                   "schedule": 300.0},
    # Waiting orders the expected stock cannot deliver by their promised date
    # -> the customer is told the new date (once per date).
    "fulfillment-notify-late-orders": {"task": "fulfillment.tasks.notify_late_orders",
                                       "schedule": 3600.0},
    # Authorisations left open by expired or cancelled orders -> voided.
    "billing-void-closed-order-payments": {
        "task": "billing.tasks.void_payments_of_closed_orders", "schedule": 300.0},
    # Overdue invoices -> one reminder e-mail per invoice and level, daily.
    "billing-overdue-reminders": {"task": "billing.tasks.send_overdue_reminders",
                                  "schedule": 24 * 3600.0},
    # Report files past REPORT_FILE_RETENTION_DAYS -> deleted, daily. The
    # report subscriptions themselves are PeriodicTasks in the database.
    "reporting-purge-old-report-files": {"task": "reporting.tasks.purge_old_report_files",
                                         "schedule": 24 * 3600.0},
    # Done outbox rows, old API answers and expired sessions -> deleted, daily.
    "oms-purge-old-records": {"task": "oms.tasks.purge_old_records",
                              "schedule": 24 * 3600.0},
    # Unread staff notices -> one e-mail per user who asked for an hourly or
    # a daily digest (oms.lib.notices.claim_digests; daily ones wait a day).
    "oms-notice-digests": {"task": "oms.tasks.send_notice_digests", "schedule": 3600.0},
}
