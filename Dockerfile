# syntax=docker/dockerfile:1

# ---- build: dependencies, compiled translations, collected static files ----
FROM python:3.12-slim-bookworm AS build

ENV UV_PYTHON_DOWNLOADS=never \
    UV_PROJECT_ENVIRONMENT=/app/.venv \
    UV_COMPILE_BYTECODE=1 \
    UV_LINK_MODE=copy \
    PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1

# gettext provides msgfmt for compilemessages.
RUN apt-get update \
 && apt-get install -y --no-install-recommends gettext \
 && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir uv==0.13.9

WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN --mount=type=cache,target=/root/.cache/uv uv sync --frozen --no-dev

COPY . .
# Settings never connect at import when DATABASE_URL is set, so a dummy URL is enough here;
# these values exist only for this RUN and are not kept in the image.
RUN DJANGO_DEBUG=False \
    DJANGO_SECRET_KEY=build-only-not-a-secret \
    DATABASE_URL=postgres://build:build@localhost:5432/build \
    sh -c 'python manage.py compilemessages --ignore=.venv -v 0 \
        && python manage.py collectstatic --no-input -v 0' \
 && chmod -R a+rX /app

# ---- runtime ----
FROM python:3.12-slim-bookworm

ENV PATH=/app/.venv/bin:$PATH \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    DJANGO_DEBUG=False \
    DJANGO_MEDIA_ROOT=/app/media

RUN useradd --uid 1000 --create-home --shell /usr/sbin/nologin app
WORKDIR /app
COPY --from=build /app /app
# Owned by app so a fresh named volume mounted here inherits a writable directory.
RUN mkdir -p /app/media && chown app:app /app/media
USER app

EXPOSE 8000
# SECURE_SSL_REDIRECT is on in production and the host must be allowed: send the
# proxy's https header and the first allowed host (settings' default includes localhost).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
  CMD ["python", "-c", "import os, urllib.request as u; h = os.environ.get('DJANGO_ALLOWED_HOSTS', 'localhost').split(',')[0].strip().lstrip('.'); h = 'localhost' if h in ('', '*') else h; u.urlopen(u.Request('http://127.0.0.1:8000/health/?live=1', headers={'Host': h, 'X-Forwarded-Proto': 'https'}), timeout=4)"]

CMD ["gunicorn", "-c", "hardship/gunicorn.conf.py", "hardship.wsgi:application"]
