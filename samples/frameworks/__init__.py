"""The same actors behind four ASGI frameworks, through ``runtime.front_door(app)``."""
