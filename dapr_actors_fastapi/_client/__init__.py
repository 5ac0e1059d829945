"""Layer 4, the client: the app's transport to its own sidecar (app → daprd).

``SidecarClient`` sends each request over a small keep-alive HTTP/1.1 pool and carries the
current turn's headers. It knows HTTP and daprd's error shape, not actors. Not to be confused
with ``dapr_actors_fastapi.sidecar``, the dev sidecar *server*. See docs/architecture.md.
"""
