# One image for every storywire worker and the CLI: `storywire worker clean|enrich|cluster`.
FROM python:3.11-slim
WORKDIR /app
COPY requirements.lock ./
RUN pip install --no-cache-dir -r requirements.lock
COPY pyproject.toml README.md LICENSE ./
COPY schemas ./schemas
COPY services ./services
RUN pip install --no-cache-dir --no-deps .
ENV STORYWIRE_METRICS_HOST=0.0.0.0
ENTRYPOINT ["storywire"]
CMD ["--help"]
