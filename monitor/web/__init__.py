"""The operator surface served by the worker: HTTP API, Prometheus metrics and the dashboard."""
