# The application image: web (gunicorn), Celery worker and beat all run from it.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=oms.settings \
    MEDIA_ROOT=/data/media

# WeasyPrint renders PDFs with Pango/HarfBuzz; gettext compiles the translations.
RUN apt-get update \
    && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app
COPY requirements/base.txt requirements/base.txt
RUN pip install --require-hashes -r requirements/base.txt

COPY . .

# Build-time only: collectstatic and compilemessages import the settings, which
# need a SECRET_KEY when DEBUG is off. No database is touched.
RUN DEBUG=false SECRET_KEY=build-only-not-secret python manage.py collectstatic --noinput -v 0 \
    && if find . -path ./.venv -prune -o -name '*.po' -print | grep -q .; then \
         DEBUG=false SECRET_KEY=build-only-not-secret \
         python manage.py compilemessages --ignore=.venv -v 0; \
       fi

RUN useradd --system --create-home --uid 10001 oms \
    && mkdir -p /data/media \
    && chown -R oms /data /app/.data
USER oms

EXPOSE 8000
# WEB_CONCURRENCY (gunicorn reads it) sets the worker processes per container.
CMD ["gunicorn", "oms.wsgi", "--bind", "0.0.0.0:8000", "--threads", "4", \
     "--timeout", "60", "--access-logfile", "-"]
