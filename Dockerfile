# One image for every storywire worker and the CLI: `storywire worker clean|enrich|cluster`.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.lock ./
# Every file checked against its hash in the lock: a swapped package is refused.
RUN pip install --no-cache-dir --require-hashes -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY schemas ./schemas
COPY services ./services
RUN pip install --no-cache-dir --no-deps .
# Not root: the code and packages stay read-only to the process that reads hostile copy; it
# writes only its state (STORYWIRE_DATA_DIR, .run/faust under /app) in the directory it owns.
RUN useradd --system --uid 10001 --create-home --shell /usr/sbin/nologin storywire \
    && mkdir -p /app/.run \
    && chown storywire:storywire /app/.run
ENV STORYWIRE_METRICS_HOST=0.0.0.0
USER storywire
ENTRYPOINT ["storywire"]
CMD ["--help"]
