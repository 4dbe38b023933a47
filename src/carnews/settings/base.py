"""What every settings module builds on: secrets, the ``setting`` declaration, the
environment's names, and ``redact`` for anything shown."""

from __future__ import annotations

import re
from dataclasses import field
from pathlib import Path
from typing import Any

ENV_PREFIX = "CARNEWS_"
CONFIG_ENV = "CARNEWS_CONFIG"
DEFAULT_CONFIG_FILE = Path("carnews.toml")


class Secret:
    """A value that prints as ``********`` so it cannot leak into logs or output."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __bool__(self) -> bool:
        return bool(self._value)

    def __repr__(self) -> str:
        return "Secret('********')" if self._value else "Secret('')"

    def __str__(self) -> str:
        return "********" if self._value else ""

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


def setting(
    default: Any, help: str, *, minimum: float | None = None, maximum: float | None = None
) -> Any:
    """Declare one setting: its default, its help line and optional bounds."""
    return field(default=default, metadata={"help": help, "minimum": minimum, "maximum": maximum})


_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s]*@", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``********``.

    ``postgresql+asyncpg://carnews:hunter2@db/carnews`` prints as
    ``postgresql+asyncpg://carnews:********@db/carnews``, in settings and in errors.
    """
    return _URL_PASSWORD.sub(r"\g<head>********@", text)
