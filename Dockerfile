# The monitor worker image (used by docker-compose.yml).
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    MONITOR_DATA_DIR=/var/lib/monitor MONITOR_LOG_FORMAT=json MONITOR_WEB_HOST=0.0.0.0
WORKDIR /app
COPY pyproject.toml README.md ./
COPY monitor ./monitor
COPY schemas ./schemas
COPY scripts ./scripts
RUN pip install --no-cache-dir .
VOLUME /var/lib/monitor
EXPOSE 6066
ENTRYPOINT ["monitor"]
CMD ["worker"]
