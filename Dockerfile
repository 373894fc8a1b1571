# syntax=docker/dockerfile:1
# The production image: gunicorn serves the web app; the same image runs the Celery worker and
# beat (docker-compose.yml). Configuration comes from the environment (docs/operations.md).

# --- Front-end assets: installed from the npm registry, served by the app (no CDN) ------------
FROM node:22-bookworm-slim AS assets
WORKDIR /src
COPY package.json package-lock.json ./
RUN npm ci --omit=dev --no-audit --no-fund --loglevel=error

# --- The application -------------------------------------------------------------------------
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    ITSM_VAR_DIR=/var/lib/itsm \
    ATTACHMENTS_ROOT=/var/lib/itsm/attachments \
    DEBUG=0

# gettext for compilemessages at build time.
RUN apt-get update \
    && apt-get install -y --no-install-recommends gettext \
    && rm -rf /var/lib/apt/lists/*

RUN groupadd --system --gid 10001 itsm \
    && useradd --system --uid 10001 --gid itsm --home-dir /app --no-create-home itsm

WORKDIR /app

# Dependencies first (pyproject installs dependencies only: packages = []), so code changes
# rebuild from here on.
COPY pyproject.toml ./
RUN pip install .

# Only the dist folders that settings.STATICFILES_DIRS serves.
COPY --from=assets /src/node_modules/bootstrap/dist node_modules/bootstrap/dist
COPY --from=assets /src/node_modules/bootstrap-icons/font node_modules/bootstrap-icons/font
COPY --from=assets /src/node_modules/htmx.org/dist node_modules/htmx.org/dist
COPY --from=assets /src/node_modules/chart.js/dist node_modules/chart.js/dist
COPY --from=assets /src/node_modules/cytoscape/dist node_modules/cytoscape/dist
COPY --from=assets /src/node_modules/cytoscape-dagre/dist node_modules/cytoscape-dagre/dist

COPY . .

# Build-time settings only: nothing here is kept in the image's environment.
RUN mkdir -p locale \
    && SECRET_KEY=build-only ITSM_VAR_DIR=/tmp/build-var \
       python manage.py compilemessages --ignore=node_modules -v 0 \
    && SECRET_KEY=build-only ITSM_VAR_DIR=/tmp/build-var \
       python manage.py collectstatic --noinput -v 0 \
    && rm -rf /tmp/build-var \
    && install -d -o itsm -g itsm -m 0750 /var/lib/itsm /var/lib/itsm/attachments /var/lib/itsm/beat

USER itsm
EXPOSE 8000

# /health/ answers 200 while the database answers. ALLOWED_HOSTS must include "localhost"
# (docker-compose.yml adds it) or set HEALTHCHECK_HOST to an allowed name.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request as r; r.urlopen(r.Request('http://127.0.0.1:8000/health/', headers={'Host': os.environ.get('HEALTHCHECK_HOST', 'localhost')}), timeout=4)"]

CMD ["gunicorn", "itsm.wsgi:application", \
     "--bind", "0.0.0.0:8000", \
     "--access-logfile", "-", \
     "--worker-tmp-dir", "/dev/shm", \
     "--max-requests", "2000", "--max-requests-jitter", "200", \
     "--timeout", "60", "--graceful-timeout", "30"]
