"""quality-monitor: watches a marketplace's order and review streams and protects customers from failing stores."""

__version__ = "0.1.0"
