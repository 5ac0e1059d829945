"""Logs as JSON lines with the standard library alone, each record of an actor turn carrying
that turn (``ActorLogContext``): its actor type and id, the kind and name of the turn, and its
trace. Call ``use_json_lines()`` at startup, or give uvicorn the same setup as a file:

    uvicorn samples.quickstart:app --port 3000 --log-config samples/log_config.json

which also shows the package's DEBUG lines (activations, deactivations).
"""

from __future__ import annotations

import json
import logging

from dapr_actors_fastapi import ActorLogContext

TURN_FIELDS = ("actor_type", "actor_id", "turn", "turn_name", "trace_id", "span_id")


class JsonLines(logging.Formatter):
    """One JSON object per record, with the turn's fields when the record has them."""

    def format(self, record: logging.LogRecord) -> str:
        line = {
            "time": self.formatTime(record),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        line |= {f: v for f in TURN_FIELDS if (v := getattr(record, f, None)) is not None}
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line)


def use_json_lines(level: int = logging.INFO) -> None:
    """Send every logger's records to stderr as JSON lines."""
    handler = logging.StreamHandler()
    handler.addFilter(ActorLogContext())  # on the handler: it sees every logger's records
    handler.setFormatter(JsonLines())
    logging.basicConfig(level=level, handlers=[handler], force=True)
