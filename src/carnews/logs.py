"""Logs: plain lines for a person at a terminal, or one JSON object a line for a collector.

``ops.log_json`` (or ``carnews serve --log-json``) picks JSON. The fields a caller puts
in ``extra=`` (the scheduler's ``job``, ``outcome`` and counts) become keys of the JSON
object, so a log collector can count outcomes without parsing sentences. JSON escapes
every control character, so a feed's text in a message cannot forge a second line.
"""

from __future__ import annotations

import json
import logging
import sys
from datetime import UTC, datetime
from typing import Any, TextIO

# What every LogRecord carries; anything else on a record came from ``extra=``.
_STANDARD = frozenset(logging.makeLogRecord({}).__dict__) | {"message", "asctime"}
_MARK = "_carnews_handler"


def extra_fields(record: logging.LogRecord) -> dict[str, Any]:
    """The ``extra=`` fields a record was logged with."""
    return {k: v for k, v in record.__dict__.items() if k not in _STANDARD and k != _MARK}


class JsonFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        data: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": record.getMessage(),
        }
        data.update(extra_fields(record))
        if record.exc_info:
            data["exception"] = self.formatException(record.exc_info)
        return json.dumps(data, ensure_ascii=False, default=str)


def configure_logging(
    *, json_lines: bool, level: int = logging.INFO, stream: TextIO | None = None
) -> logging.Handler:
    """Send the ``carnews`` loggers' records to ``stream`` (stderr), replacing an earlier
    handler of ours, so calling it twice does not print every line twice."""
    logger = logging.getLogger("carnews")
    for old in [h for h in logger.handlers if getattr(h, _MARK, False)]:
        logger.removeHandler(old)
    handler = logging.StreamHandler(stream or sys.stderr)
    setattr(handler, _MARK, True)
    handler.setFormatter(
        JsonFormatter()
        if json_lines
        else logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    )
    logger.addHandler(handler)
    logger.setLevel(level)
    return handler
