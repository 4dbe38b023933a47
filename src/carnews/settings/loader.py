"""Loading in layers: defaults, then carnews.toml, then ``CARNEWS_*`` environment, then
``--set`` flags; each value coerced and checked by ``specs``, the whole by ``checks``."""

from __future__ import annotations

import os
import tomllib
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from carnews.errors import ConfigError
from carnews.settings.base import (
    CONFIG_ENV,
    DEFAULT_CONFIG_FILE,
)
from carnews.settings.checks import (
    validate,
)
from carnews.settings.model import Settings, SourceSettings
from carnews.settings.specs import (
    WEB_URL_SETTINGS,
    _coerce,
    _section_types,
    all_specs,
    source_specs,
)
from carnews.text.urls import safe_url


def _read_toml(path: Path) -> dict[str, Any]:
    where = {"path": str(path)}
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise ConfigError(
            f"config file {path} does not exist",
            hint="Create one with 'carnews init', or drop --config / CARNEWS_CONFIG.",
            context=where,
        ) from None
    except OSError as exc:  # a folder, no permission, an unreadable disk
        raise ConfigError(
            f"config file {path} cannot be read: {exc.strerror}",
            hint="Point --config (or CARNEWS_CONFIG) at a carnews.toml file you may read.",
            context=where,
        ) from None
    try:
        # Windows editors save a byte-order mark that TOML does not allow: it is harmless.
        text = raw.removeprefix(b"\xef\xbb\xbf").decode("utf-8")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        raise ConfigError(
            f"config file {path} is not UTF-8 text (line {line})",
            hint="Open it in your editor and save it as UTF-8.",
            context=where,
        ) from None
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(
            f"config file {path} is not valid TOML: {exc}",
            hint="Fix the line named above; 'carnews init --force' writes a fresh starter file.",
            context=where,
        ) from None


def _flatten_file(data: Mapping[str, Any], path: Path) -> tuple[dict[str, Any], list[Any]]:
    known = {spec.key: spec for spec in all_specs()}
    flat: dict[str, Any] = {}
    for section, body in data.items():
        if section == "sources":
            continue
        if section not in _section_types() or not isinstance(body, dict):
            raise ConfigError(
                f"unknown section [{section}] in {path}",
                hint="Sections: " + ", ".join(sorted([*_section_types(), "sources"])),
                context={"key": section, "path": str(path)},
            )
        for name, value in body.items():
            key = f"{section}.{name}"
            if key not in known:
                raise ConfigError(
                    f"unknown setting {key} in {path}",
                    hint="Known settings are listed in docs/settings.md.",
                    context={"key": key, "path": str(path)},
                )
            if known[key].secret:
                raise ConfigError(
                    f"{key} is a secret and may not be written in {path}",
                    hint=f"Set {known[key].env} or {known[key].env}_FILE instead.",
                    context={"key": key, "path": str(path)},
                )
            flat[key] = value
    sources = data.get("sources", [])
    if not isinstance(sources, list):
        raise ConfigError(
            f"'sources' in {path} must be a list of [[sources]] tables",
            hint="Write each source as a [[sources]] table with name and url.",
            context={"key": "sources", "path": str(path)},
        )
    return flat, sources


def _from_environment(environ: Mapping[str, str]) -> dict[str, tuple[str, str]]:
    """Environment values keyed by setting, with where each came from."""
    found: dict[str, tuple[str, str]] = {}
    for spec in all_specs():
        if spec.env in environ:
            found[spec.key] = (environ[spec.env], f"environment {spec.env}")
        file_var = spec.env + "_FILE"
        if spec.secret and file_var in environ:
            secret_path = Path(environ[file_var])
            try:
                secret = secret_path.read_text(encoding="utf-8").strip()
                found[spec.key] = (secret, f"file {secret_path}")
            except (OSError, UnicodeDecodeError) as exc:
                why = exc.strerror if isinstance(exc, OSError) else "it is not UTF-8 text"
                raise ConfigError(
                    f"{file_var} names {secret_path}, which cannot be read: {why}",
                    hint="Point it at a readable file that holds only the secret.",
                    context={"key": spec.key, "path": str(secret_path)},
                ) from None
    return found


def _build_source(index: int, raw: object, path: Path) -> SourceSettings:
    where = f"sources[{index}] in {path}"
    if not isinstance(raw, dict):
        raise ConfigError(f"{where} is not a table", context={"key": f"sources[{index}]"})
    specs = {spec.name: spec for spec in source_specs()}
    unknown = set(raw) - set(specs)
    if unknown:
        raise ConfigError(
            f"{where} has unknown keys: {', '.join(sorted(unknown))}",
            hint="A source has: " + ", ".join(specs),
            context={"key": f"sources[{index}]"},
        )
    values = {name: _coerce(specs[name], value, where) for name, value in raw.items()}
    for required in ("name", "url"):
        if not values.get(required):
            raise ConfigError(
                f"{where} has no {required}",
                hint="Every [[sources]] table needs a name and a url.",
                context={"key": f"sources[{index}].{required}"},
            )
    if not str(values["url"]).startswith(("http://", "https://")):
        raise ConfigError(
            f"sources[{index}].url = {values['url']!r} (from {path}) is not valid: "
            "expected an http:// or https:// URL",
            context={"key": f"sources[{index}].url", "value": values["url"]},
        )
    return SourceSettings(**values)


def config_path(explicit: Path | None, environ: Mapping[str, str]) -> Path | None:
    """The config file to read: --config, then CARNEWS_CONFIG, then ./carnews.toml if present."""
    if explicit is not None:
        return explicit
    if environ.get(CONFIG_ENV):
        return Path(environ[CONFIG_ENV])
    return DEFAULT_CONFIG_FILE if DEFAULT_CONFIG_FILE.exists() else None


def load_settings(
    config_file: Path | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    overrides: Mapping[str, str] | None = None,
) -> Settings:
    """Build the effective settings from all four layers; raise ConfigError on a bad value."""
    environ = os.environ if environ is None else environ
    path = config_path(config_file, environ)
    layered: dict[str, tuple[object, str]] = {}
    raw_sources: list[Any] = []
    if path is not None:
        flat, raw_sources = _flatten_file(_read_toml(path), path)
        layered.update({key: (value, str(path)) for key, value in flat.items()})
    layered.update(_from_environment(environ))
    known = {spec.key: spec for spec in all_specs()}
    for key, value in (overrides or {}).items():
        if key not in known:
            raise ConfigError(
                f"unknown setting {key} given with --set",
                hint="Known settings are listed in docs/settings.md.",
                context={"key": key},
            )
        if known[key].secret:
            raise ConfigError(
                f"{key} is a secret and may not be given with --set",
                hint=f"Set {known[key].env} or {known[key].env}_FILE instead: a --set value "
                "shows in the process list and the shell's history.",
                context={"key": key},
            )
        layered[key] = (value, "--set")
    sections: dict[str, dict[str, Any]] = {name: {} for name in _section_types()}
    for key, (raw, origin) in layered.items():
        spec = known[key]
        value = _coerce(spec, raw, origin)
        if key in WEB_URL_SETTINGS and safe_url(value) is None:
            raise ConfigError(
                f"{key} = {raw!r} (from {origin}) is not valid: "
                "expected an http:// or https:// URL with a host",
                hint=f"{key}: {spec.help}",
                context={"key": key, "value": raw, "origin": origin},
            )
        sections[spec.section][spec.name] = value
    built = {name: cls(**sections[name]) for name, cls in _section_types().items()}
    sources = tuple(_build_source(i, raw, path or Path("?")) for i, raw in enumerate(raw_sources))
    names = [source.name for source in sources]
    duplicates = sorted({name for name in names if names.count(name) > 1})
    if duplicates:
        raise ConfigError(
            f"source names must be unique; repeated: {', '.join(duplicates)}",
            context={"key": "sources"},
        )
    settings = Settings(**built, sources=sources)
    validate(settings)
    return settings
