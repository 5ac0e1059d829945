"""Layer 6, hosting: daprd → app. The raw-ASGI endpoints daprd calls, the generated router and
its documentation routes, the per-type host that runs turns, the ``/dapr/config`` document,
and the runtime's outbound calls. See docs/architecture.md.
"""
