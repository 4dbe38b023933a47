"""The settings as a table of specs (docs, ``carnews init``, ``config show``), and a raw
value turned into a setting's type and checked against its bounds."""

from __future__ import annotations

import dataclasses
import math
import re
import typing
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from carnews.errors import ConfigError
from carnews.settings.base import (
    ENV_PREFIX,
    Secret,
    redact,
)
from carnews.settings.model import Settings, SourceSettings


@dataclass(frozen=True)
class SettingSpec:
    """One row of the settings table: used for docs, ``init`` and ``config show``."""

    key: str
    type: Any
    default: Any
    help: str
    minimum: float | None
    maximum: float | None = None

    @property
    def section(self) -> str:
        return self.key.split(".", 1)[0]

    @property
    def name(self) -> str:
        return self.key.split(".", 1)[1]

    @property
    def env(self) -> str:
        return ENV_PREFIX + self.key.replace(".", "_").upper()

    @property
    def secret(self) -> bool:
        return self.type is Secret

    def describe_type(self) -> str:
        return _describe(self.type)


def _section_types() -> dict[str, type]:
    hints = typing.get_type_hints(Settings)
    return {name: hint for name, hint in hints.items() if name != "sources"}


def _specs_of(cls: type, prefix: str) -> list[SettingSpec]:
    hints = typing.get_type_hints(cls)
    return [
        SettingSpec(
            key=f"{prefix}.{f.name}",
            type=hints[f.name],
            default=f.default,
            help=f.metadata["help"],
            minimum=f.metadata["minimum"],
            maximum=f.metadata["maximum"],
        )
        for f in dataclasses.fields(cls)
    ]


def all_specs() -> list[SettingSpec]:
    """Every scalar setting, in declaration order."""
    specs: list[SettingSpec] = []
    for section, cls in _section_types().items():
        specs.extend(_specs_of(cls, section))
    return specs


def source_specs() -> list[SettingSpec]:
    return _specs_of(SourceSettings, "sources[]")


def _describe(kind: Any) -> str:
    if typing.get_origin(kind) is Literal:
        return "one of " + ", ".join(repr(c) for c in typing.get_args(kind))
    if kind == tuple[str, ...]:
        return "a list of text (comma-separated in the environment)"
    names = {str: "text", int: "a whole number", float: "a number", bool: "true or false"}
    names.update({Path: "a path", Secret: "a secret (environment only)"})
    return names.get(kind, str(kind))


# Every email and page links to these: http(s) with a host, or start-up stops.
WEB_URL_SETTINGS = frozenset({"site.base_url"})

_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}


def _coerce(spec: SettingSpec, raw: object, origin: str) -> Any:
    """Turn a raw TOML or environment value into the spec's type, or say why not."""

    def bad() -> ConfigError:
        return ConfigError(
            f"{spec.key} = {raw!r} (from {origin}) is not valid: expected {spec.describe_type()}",
            hint=f"{spec.key}: {spec.help}",
            context={"key": spec.key, "value": raw, "origin": origin},
        )

    kind = spec.type
    value: Any
    if typing.get_origin(kind) is Literal:
        if raw not in typing.get_args(kind):
            raise bad()
        value = raw
    elif kind is bool:
        if isinstance(raw, bool):
            value = raw
        elif isinstance(raw, str) and raw.strip().lower() in _TRUE | _FALSE:
            value = raw.strip().lower() in _TRUE
        else:
            raise bad()
    elif kind is int:
        if isinstance(raw, bool):
            raise bad()
        try:
            value = int(raw) if isinstance(raw, int | str) else _fail()
        except ValueError:
            raise bad() from None
    elif kind is float:
        if isinstance(raw, bool):
            raise bad()
        try:
            value = float(raw) if isinstance(raw, int | float | str) else _fail()
        except ValueError:
            raise bad() from None
    elif kind in (str, Path, Secret):
        if not isinstance(raw, str):
            raise bad()
        value = kind(raw)
    elif kind == tuple[str, ...]:
        if isinstance(raw, str):
            raw = [part.strip() for part in raw.split(",") if part.strip()]
        if not isinstance(raw, list) or not all(isinstance(item, str) for item in raw):
            raise bad()
        value = tuple(raw)
    else:  # pragma: no cover - a new setting type needs a branch here
        raise TypeError(f"no coercion for {kind}")
    problem = _problem(spec, value)
    if problem is not None:
        raise ConfigError(
            f"{spec.key} = {redact(str(raw))!r} (from {origin}) {problem}",
            hint=f"{spec.key}: {spec.help}",
            context={"key": spec.key, "value": redact(str(raw)), "origin": origin},
        )
    return value


def _problem(spec: SettingSpec, value: Any) -> str | None:
    """What is wrong with a value of the right type, or None."""
    # NaN compares false with every bound, so it would slip past both range checks.
    if isinstance(value, float) and not math.isfinite(value):
        return "is not valid: expected a finite number"
    if isinstance(value, int | float) and not isinstance(value, bool):
        if spec.minimum is not None and value < spec.minimum:
            return f"is too small: expected at least {spec.minimum:g}"
        if spec.maximum is not None and value > spec.maximum:
            return f"is too large: expected at most {spec.maximum:g}"
    # A setting is one line: a line break in an address or a name would start a header
    # of its own in every message, or fail half-way through a send. A search query is
    # sent URL-encoded, and a long one may be written over several TOML lines.
    texts = value if isinstance(value, tuple) else (value,)
    if spec.key != "sources[].query" and any(
        isinstance(text, str | Path) and _LINE_BREAK.search(str(text)) for text in texts
    ):
        return "is not valid: expected one line, without a line break"
    return None


# Line breaks (what str.splitlines splits at) and NUL: in a header value (From, Reply-To,
# List-Id) a line break starts a new header; in a URL or path it is never meant.


_LINE_BREAK = re.compile("[\x00\n\r\x0b\x0c\x1c-\x1e\x85\u2028\u2029]")


def _fail() -> typing.NoReturn:
    raise ValueError
