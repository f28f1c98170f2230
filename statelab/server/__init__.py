"""Serving the state API: the ASGI adapter, the sidecar (thread or process), and an in-process
httpx transport."""
