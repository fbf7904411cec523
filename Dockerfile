# syntax=docker/dockerfile:1
# One image per role, both from this file:
#   docker build --target web  -t picsort-web  .   # gunicorn, batch workers, sweeper; no TensorFlow
#   docker build --target full -t picsort      .   # model/training worker, setup; web too
ARG PYTHON_VERSION=3.12

FROM python:${PYTHON_VERSION}-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    PYTHONDONTWRITEBYTECODE=1
RUN python -m venv /opt/venv
ENV PATH=/opt/venv/bin:$PATH
WORKDIR /src
COPY requirements/production.txt requirements/
RUN pip install --require-hashes -r requirements/production.txt

FROM build AS build-ml
COPY requirements/ml.txt requirements/
RUN pip install --require-hashes -r requirements/ml.txt

FROM python:${PYTHON_VERSION}-slim-bookworm AS runtime
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/venv/bin:$PATH \
    DJANGO_SETTINGS_MODULE=config.settings.production \
    DJANGO_STATIC_ROOT=/app/staticfiles \
    DJANGO_MEDIA_ROOT=/data/media \
    HOME=/home/app
# The code in /app belongs to root and is read-only for the app; the app
# writes only to its home (e.g. ~/.keras), /tmp and the media folder.
RUN groupadd --system --gid 10001 app \
 && useradd --system --uid 10001 --gid app --home-dir /home/app --create-home \
    --shell /usr/sbin/nologin app \
 && mkdir -p /data/media \
 && chown app:app /data/media
WORKDIR /app

FROM runtime AS web
COPY --from=build /opt/venv /opt/venv
COPY . .
# Translations and static files are built into the image; the values below
# exist only for this build step (production settings refuse to start without them).
RUN DJANGO_SECRET_KEY=build-only DJANGO_ALLOWED_HOSTS=build DATABASE_URL=sqlite:////tmp/build.db \
    DJANGO_EMAIL_URL=consolemail:// sh -c \
    "python manage.py compiletranslations && python manage.py collectstatic --noinput -v 0" \
 && rm -f /tmp/build.db
USER 10001:10001
EXPOSE 8000
# /healthz is answered for any Host (core/probes.py). Compose's worker and
# sweeper, which run this image without a server, turn it off.
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=4)"]
# Workers, threads and timeouts: config/gunicorn.py (GUNICORN_* override them).
CMD ["gunicorn", "-c", "config/gunicorn.py"]

FROM web AS full
USER 0
COPY --from=build-ml /opt/venv /opt/venv
USER 10001:10001
# Default role: a task worker on every queue; compose/Kubernetes choose queues.
HEALTHCHECK NONE
CMD ["python", "manage.py", "db_worker", "--queue-name", "*"]
