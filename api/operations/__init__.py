"""The service as its operator watches it: its metrics (``GET /metrics``) and the queues' figures."""
