"""What the gateway reports: Prometheus metrics of the request path, and ``gateway report`` over the spend log.

The spend log's totals in SQL (:mod:`~satisfice.gateway.observability.spend_totals`) are shared with the dashboard.
"""
