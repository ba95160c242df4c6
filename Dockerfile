# syntax=docker/dockerfile:1
# The serving image: `braintumor serve` (gunicorn, ONNX Runtime, Flask) with the shipped model inside
# the package. No torch, no training code paths used, no dataset. See docs/DEPLOY.md.
#
#   docker build --build-arg REVISION=$(git rev-parse HEAD) -t braintumor:0.1.0 .   # the tag: pyproject.toml's version
#   docker run --rm -p 127.0.0.1:8000:8000 --cpus 2 --memory 1g --stop-timeout 35 braintumor:0.1.0   # http://localhost:8000/

# Stage 1: build the wheel (pyproject.toml force-includes models/ as braintumor/models/).
FROM python:3.11.7-slim-bookworm AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /src
COPY pyproject.toml README.md LICENSE ./
COPY src ./src
COPY models ./models
RUN pip wheel --no-deps --wheel-dir /wheels .

# Stage 2: install the wheel with its core dependencies only (no [train] extra, so no torch), at the versions the
# tests passed with (deploy/constraints.txt), not whatever PyPI has newest on the day of the build.
FROM python:3.11.7-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
COPY --from=build /wheels /wheels
COPY deploy/constraints.txt /wheels/
RUN pip install --constraint /wheels/constraints.txt /wheels/*.whl \
    && rm -rf /wheels \
    && useradd --create-home --uid 10001 --shell /usr/sbin/nologin app
# Nothing is written at run time except gunicorn's heartbeat files and the metrics files, both in
# /dev/shm, so the container also runs with a read-only root file system (compose.yaml does).
USER 10001
WORKDIR /home/app
EXPOSE 8000
# The Host names answered (besides IP addresses, always answered): on 0.0.0.0 serve answered every Host, so a page of
# another site could read the server through a desktop browser by DNS rebinding. The browser on the Docker host uses
# localhost; a proxy sending the public name needs it here, without editing the image:
# `docker run -e BRAINTUMOR_ALLOWED_HOSTS=localhost,braintumor.example.org ...` (docs/DEPLOY.md).
ENV BRAINTUMOR_ALLOWED_HOSTS=localhost,127.0.0.1
# python, not curl (slim has no curl): exit 0 only when /healthz answers 200. No proxy: Docker passes its
# proxy settings (HTTP_PROXY) into containers, and urllib sent 127.0.0.1 to that proxy. https where GUNICORN_CMD_ARGS
# gives gunicorn --certfile/--keyfile (serve_settings.gunicorn_scheme, as serve prints it; plain http was refused and
# the container marked unhealthy), its certificate unverified: it asks 127.0.0.1 alone, whose certificate names the
# public host.
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import ssl, sys, urllib.request as u; from braintumor.serve_settings import gunicorn_scheme as s; sys.exit(u.build_opener(u.ProxyHandler({}), u.HTTPSHandler(context=ssl._create_unverified_context())).open(s() + '://127.0.0.1:8000/healthz', timeout=4).status != 200)"]
# What this image serves, for `docker image inspect` (docs/DEPLOY.md): the package version (pyproject.toml), the commit
# when the build was given one, and the sha256 of each shipped model file (tests/test_deploy.py checks them all against
# the repository; the model's own version and fingerprint are in /healthz and /api/v1/model). Last, so that a new
# REVISION rebuilds no layer.
ARG REVISION=unknown
LABEL org.opencontainers.image.title="braintumor" \
      org.opencontainers.image.description="Brain MRI slice classifier (research use only, not a medical device)" \
      org.opencontainers.image.version="0.1.0" \
      org.opencontainers.image.revision="${REVISION}" \
      org.opencontainers.image.licenses="MIT" \
      braintumor.model.sha256="68331f1eb8abca5008ad4591dfb70b9077586f98f57b6f3f72d2af09f6842984" \
      braintumor.model-int8.sha256="c05307532a32be676382df1e539323579c793a888ec8923b5773549b9d9dfbbd"
# Exec form: braintumor becomes the gunicorn master as PID 1 and gets SIGTERM from `docker stop`.
# Keep --workers at the container's CPU limit (one ONNX Runtime session per worker).
CMD ["braintumor", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
