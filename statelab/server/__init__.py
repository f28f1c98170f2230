"""Serving the state API: the ASGI adapter, the sidecar (thread or process), in-process transport."""
