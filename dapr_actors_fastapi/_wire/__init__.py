"""Layer 2, the wire: facts and mechanics of daprd's protocol that both directions of traffic
share (names, headers, paths, strict JSON, schedule times, the per-actor turn queue).

It imports only the leaves (``exceptions``, ``durations``, ``_turn``), so the app side and the
dev sidecar can both build on it. See docs/architecture.md.
"""
