"""Layer 5, the actor API: what users subclass and what ``self.*`` reaches (settings,
decorators, body rules, definitions, state, reminders and timers, proxies, ``Actor``).

It builds on the client and the wire; what it needs from the layers above (turn tracking,
proxy making) comes in through the small protocols in ``actor_type.py``. See
docs/architecture.md.
"""
