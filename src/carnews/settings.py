"""Settings, declared once as data and loaded in layers.

Precedence, lowest first: the defaults below → ``carnews.toml`` (path from
``--config`` or ``CARNEWS_CONFIG``) → ``CARNEWS_*`` environment variables →
command-line flags (``--set key=value``). Every field of the section
dataclasses is one setting: its name, type, default and help live in one place,
and the docs, ``carnews init`` and ``carnews config show`` are generated from it.

Secrets (type ``Secret``) come only from the environment (``CARNEWS_SMTP_PASSWORD``)
or a file named by ``CARNEWS_SMTP_PASSWORD_FILE``; a secret written into
carnews.toml is refused, and a secret is never printed.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import math
import os
import re
import tomllib
import typing
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from carnews.errors import ConfigError
from carnews.text.urls import safe_url

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


@dataclass(frozen=True)
class SiteSettings:
    title: str = setting("CAR-T & Autoimmunity News", "Name of the newsletter, shown everywhere.")
    base_url: str = setting(
        "http://localhost:8000",
        "Public http(s) URL of the web app; links in emails and feeds start here.",
    )
    secret_key: Secret = setting(
        Secret(""),
        "Key the bounce webhook's token derives from (environment only); empty: one made "
        "on first use and kept in the database.",
    )
    organisation: str = setting(
        "",
        "Name of the organisation that sends the newsletter, in every email's footer; "
        "empty: site.title.",
    )
    postal_address: str = setting(
        "",
        "The organisation's postal address on one line, in every email's footer (anti-spam "
        "laws ask bulk senders for one; 'carnews init' asks for it).",
    )


@dataclass(frozen=True)
class DatabaseSettings:
    url: str = setting(
        "sqlite+aiosqlite:///subscribers/carnews.db",
        "SQLAlchemy URL: sqlite+aiosqlite:///PATH or postgresql+asyncpg://USER@HOST/DB.",
    )


@dataclass(frozen=True)
class FetchSettings:
    contact_url: str = setting(
        "http://localhost:8000", "URL in the User-Agent, so feed owners can reach you: set it."
    )
    timeout_seconds: float = setting(20.0, "Total time one fetch may take.", minimum=0.1)
    connect_timeout_seconds: float = setting(5.0, "Time to open a connection.", minimum=0.1)
    max_bytes: int = setting(10_000_000, "Largest feed body accepted, in bytes.", minimum=1024)
    parse_timeout_seconds: float = setting(
        60.0,
        "Time parsing and cleaning one source's download may take; past it, an error.",
        minimum=0.01,
    )
    concurrency: int = setting(8, "Sources fetched at the same time.", minimum=1)
    per_host: int = setting(2, "Sources fetched at the same time from one host.", minimum=1)
    max_consecutive_errors: int = setting(
        10,
        "Failures in a row after which a failing source is no longer polled, until "
        "'carnews sources enable NAME'.",
        minimum=1,
    )
    first_fetch_window_days: int = setting(
        30, "On a source's first poll, older entries are kept as history, not news.", minimum=1
    )
    blocked_domains: tuple[str, ...] = setting(
        ("visualfoodie.com", "winenfood.com", "eatsip365.com", "noahai.co", "miraitalk.com"),
        "Entries linking to these domains (content farms) are dropped.",
    )
    enrich_thin_entries: bool = setting(
        True,
        "Read the abstract or description from the page a thin, relevant-looking entry "
        "links to (robots.txt respected, each page once).",
    )
    enrich_max_pages: int = setting(40, "Most landing pages read in one fetch run.", minimum=0)
    enrich_min_chars: int = setting(
        200, "An entry with less text than this beyond its title is thin.", minimum=0
    )
    enrich_min_score: float = setting(
        0.5,
        "Relevance score a thin entry's title and teaser need before its page is read "
        "(below curate.threshold on purpose: a teaser says little).",
    )
    enrich_max_bytes: int = setting(
        2_000_000, "Largest landing page accepted, in bytes.", minimum=1024
    )
    enrich_window_days: int = setting(
        14, "Entries gathered this many days back may still have their page read.", minimum=1
    )


@dataclass(frozen=True)
class CurateSettings:
    threshold: float = setting(
        2.0,
        "Relevance score from which a story is kept; 'carnews fetch' shows the reasons.",
        minimum=0,
    )
    lexicon_file: str = setting(
        "", "An editor's lexicon (TOML) that extends the built-in one; see docs/relevance.md."
    )


@dataclass(frozen=True)
class ExplainSettings:
    backend: Literal["extractive", "llm"] = setting(
        "extractive",
        "extractive (offline: the story card written by carnews's templates from the facts "
        "extracted from the source) or llm (an OpenAI-compatible API rewrites the card, "
        "which must pass the same checks).",
    )
    llm_url: str = setting(
        "", "Base URL of an OpenAI-compatible API, e.g. http://localhost:11434/v1."
    )
    llm_model: str = setting("", "Model name sent to the API.")
    llm_api_key: Secret = setting(Secret(""), "API key for the LLM backend (environment only).")
    llm_timeout_seconds: float = setting(60.0, "Time one LLM answer may take.", minimum=1)
    glossary_file: str = setting(
        "", "An editor's glossary (TOML) that adds or rewords terms of the built-in one."
    )


@dataclass(frozen=True)
class EditionSettings:
    lookback_days: int = setting(
        14, "A draft takes stories published this many days back.", minimum=1
    )
    max_stories: int = setting(12, "Most stories in one edition.", minimum=1)


@dataclass(frozen=True)
class MailSettings:
    from_address: str = setting("newsletter@localhost", "Sender address of every newsletter.")
    from_name: str = setting("", "Sender display name; empty: site.title.")
    reply_to: str = setting("", "Reply-To address; empty means the sender address.")
    list_id: str = setting("news.carnews.localhost", "List-Id header value (a domain-like name).")
    dkim_domain: str = setting("", "DKIM signing domain (d=); empty: messages are not signed.")
    dkim_selector: str = setting("", "DKIM selector (s=), whose public key is in DNS.")
    dkim_key_file: str = setting("", "Path to the DKIM PEM private key.")
    test_mode_address: str = setting(
        "", "When set, every send goes to this one address instead; no ledger is written."
    )


@dataclass(frozen=True)
class SmtpSettings:
    host: str = setting("localhost", "SMTP relay host.")
    port: int = setting(25, "SMTP relay port.", minimum=1, maximum=65535)
    security: Literal["none", "starttls", "tls"] = setting(
        "none", "none, starttls (port 587) or tls (port 465)."
    )
    ca_file: str = setting(
        "",
        "PEM file of the CA certificates the relay's certificate is checked against; "
        "empty: the system's.",
    )
    username: str = setting("", "SMTP login name; empty means no AUTH.")
    password: Secret = setting(Secret(""), "SMTP password (environment only).")
    timeout_seconds: float = setting(30.0, "Time allowed for one SMTP exchange.", minimum=0.1)
    concurrency: int = setting(4, "SMTP connections used at once.", minimum=1)
    max_per_second: float = setting(0.0, "Most messages a second; 0: no limit.", minimum=0)
    max_per_hour: int = setting(0, "Most messages in any hour; 0: no limit.", minimum=0)
    claim_lease_seconds: float = setting(
        900.0,
        "A claim whose sender sent no heartbeat for this long is 'unknown' (a sender on "
        "this host that has exited is seen at once).",
        minimum=1,
    )
    max_attempts: int = setting(
        5,
        "Tries per message before a temporary failure (4xx, lost connection) is final.",
        minimum=1,
    )
    retry_base_seconds: float = setting(
        30.0,
        "Wait before the first retry of a temporary failure; doubled after each try.",
        minimum=0,
    )
    pause_after_errors: int = setting(
        50,
        "Failed messages in a row after which sending pauses ('carnews send ID --resume').",
        minimum=1,
    )


@dataclass(frozen=True)
class PublishSettings:
    dir: Path = setting(Path("public"), "Where feed.xml, atom.xml and the archive are written.")


@dataclass(frozen=True)
class WebSettings:
    host: str = setting("127.0.0.1", "Address 'carnews serve' listens on.")
    port: int = setting(8000, "Port 'carnews serve' listens on.", minimum=1, maximum=65535)
    api_docs: bool = setting(
        False, "Serve the API docs at /docs, /redoc and /openapi.json (public when on)."
    )
    signups_per_ip_per_hour: int = setting(
        10, "Sign-ups one IP address may send through /subscribe in an hour.", minimum=1
    )
    mails_per_address_per_day: int = setting(
        3,
        "Confirmation (or data export) mails one address gets in a day, however many "
        "sign-ups name it: nobody can mail-bomb a stranger through the form.",
        minimum=1,
    )
    record_consent_ip: bool = setting(
        False, "Keep the IP address a sign-up came from with the subscriber's consent."
    )

    api_token: Secret = setting(
        Secret(""),
        "Bearer token of the admin API under /api/ (environment only); empty: no API (404).",
    )

    cache_check_seconds: float = setting(
        1.0,
        "How often a web process asks the database whether an edition was sent since it "
        "cached its pages and feeds (0: on every request).",
        minimum=0.0,
    )


@dataclass(frozen=True)
class ReviewSettings:
    max_failed_logins: int = setting(
        5, "Failed logins to one editor account before it is locked for a while.", minimum=1
    )
    max_failed_logins_per_ip: int = setting(
        20, "Failed logins from one IP address before it is locked for a while.", minimum=1
    )
    lockout_minutes: float = setting(
        15.0, "How long a locked account or address must wait.", minimum=0.1
    )
    session_hours: float = setting(12.0, "How long an editor stays logged in.", minimum=0.1)


@dataclass(frozen=True)
class ScheduleSettings:
    timezone: str = setting("UTC", "Time zone of the cron expressions below (an IANA name).")
    fetch_cron: str = setting(
        "*/15 * * * *", "When 'carnews serve --scheduler' polls the due sources (cron)."
    )
    draft_cron: str = setting(
        "0 6 * * mon",
        "When it drafts an edition from new stories (cron: minute hour day month weekday; "
        "weekday 0 or 7 is Sunday).",
    )
    digest_cron: str = setting(
        "30 6 * * *",
        "When it drafts last month's digest if it is not drafted yet (cron; daily, so a "
        "scheduler that was down on the 1st still drafts it).",
    )
    send_cron: str = setting("*/5 * * * *", "When it sends the editions an editor approved (cron).")


@dataclass(frozen=True)
class OpsSettings:
    scheduler_stale_seconds: float = setting(
        120.0,
        "/healthz answers 503 when the scheduler lease's last heartbeat (every 30 s) is "
        "older than this; 0: the scheduler is not judged. A cleanly stopped scheduler gives "
        "its lease up and is not judged either.",
        minimum=0,
    )
    metrics_token: Secret = setting(
        Secret(""),
        "Bearer token /metrics asks for (environment only); empty: /metrics is open, "
        "for deployments that listen on loopback only.",
    )
    log_json: bool = setting(
        False,
        "Log one JSON object a line (also 'carnews serve --log-json' and "
        "'carnews worker --log-json'), not plain text.",
    )


@dataclass(frozen=True)
class TemplateSettings:
    dir: str = setting("", "Folder of templates that override the built-in ones; empty: built-in.")


SourceKind = Literal["feed", "pubmed", "clinicaltrials", "europepmc"]


@dataclass(frozen=True)
class SourceSettings:
    """One ``[[sources]]`` table of carnews.toml."""

    name: str = setting("", "Short unique name of the source.")
    display_name: str = setting(
        "",
        "The name readers see ('from PubMed'); empty: the service's name for pubmed, "
        "clinicaltrials and europepmc sources, else the name tidied.",
    )
    url: str = setting("", "Feed URL (http or https).")
    kind: SourceKind = setting(
        "feed",
        "feed (RSS, Atom, RDF, JSON Feed), pubmed (E-utilities), clinicaltrials (API v2) "
        "or europepmc (REST search).",
    )
    query: str = setting(
        "", "Search term for pubmed and europepmc sources (their url is the API endpoint)."
    )
    interval_minutes: int = setting(60, "Least time between two polls.", minimum=1)
    weight: float = setting(1.0, "How much stories from this source count when ranking.", minimum=0)
    enabled: bool = setting(True, "A disabled source is kept but not polled.")
    topic_diseases: tuple[str, ...] = setting(
        (),
        "The source's own topic, e.g. lupus for a lupus news site: a title that names no "
        "disease counts as naming these (see docs/relevance.md).",
    )


@dataclass(frozen=True)
class Settings:
    site: SiteSettings = field(default_factory=SiteSettings)
    database: DatabaseSettings = field(default_factory=DatabaseSettings)
    fetch: FetchSettings = field(default_factory=FetchSettings)
    curate: CurateSettings = field(default_factory=CurateSettings)
    explain: ExplainSettings = field(default_factory=ExplainSettings)
    edition: EditionSettings = field(default_factory=EditionSettings)
    mail: MailSettings = field(default_factory=MailSettings)
    smtp: SmtpSettings = field(default_factory=SmtpSettings)
    publish: PublishSettings = field(default_factory=PublishSettings)
    web: WebSettings = field(default_factory=WebSettings)
    review: ReviewSettings = field(default_factory=ReviewSettings)
    schedule: ScheduleSettings = field(default_factory=ScheduleSettings)
    ops: OpsSettings = field(default_factory=OpsSettings)
    templates: TemplateSettings = field(default_factory=TemplateSettings)
    sources: tuple[SourceSettings, ...] = ()


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


LOOPBACK_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def is_loopback(host: str) -> bool:
    """Whether a host name or address is this machine, without asking DNS."""
    name = host.strip().strip("[]").lower()
    if name in LOOPBACK_NAMES:
        return True
    try:
        return ipaddress.ip_address(name).is_loopback
    except ValueError:
        return False


def validate(settings: Settings) -> None:
    """Check settings however they were built (a file, the environment or code).

    ``load_settings`` already refuses a bad value with where it came from; sending
    calls this too, before it claims anything, so settings built in code are held to
    the same rules.
    """
    for spec in all_specs():
        value = getattr(getattr(settings, spec.section), spec.name)
        problem = None if isinstance(value, Secret) else _problem(spec, value)
        if problem is not None:
            raise ConfigError(
                f"{spec.key} = {redact(str(value))!r} {problem}",
                hint=f"{spec.key}: {spec.help}",
                context={"key": spec.key, "value": redact(str(value))},
            )
    _validate_schedule(settings.schedule)
    smtp = settings.smtp
    if smtp.username and smtp.security == "none" and not is_loopback(smtp.host):
        raise ConfigError(
            f"smtp.username is set but smtp.security = 'none': the SMTP password would "
            f"cross the network to {smtp.host} in clear",
            hint="Set smtp.security = 'starttls' (port 587) or 'tls' (port 465); "
            "'none' with a login is only allowed for a relay on this machine (localhost).",
            context={"key": "smtp.security", "value": smtp.security, "host": smtp.host},
        )


CRON_SETTINGS = ("fetch_cron", "draft_cron", "send_cron")


def _validate_schedule(schedule: ScheduleSettings) -> None:
    """Every cron expression is read now, so a typo stops start-up, not the first run."""
    from carnews.crontab import checked_cron  # APScheduler is loaded only where needed

    for name in CRON_SETTINGS:
        checked_cron(f"schedule.{name}", getattr(schedule, name), schedule.timezone)


_URL_PASSWORD = re.compile(r"(?P<head>\b[a-z][a-z0-9+.-]*://[^/\s:@]*:)[^/\s]*@", re.IGNORECASE)


def redact(text: str) -> str:
    """``text`` with the password of every URL in it replaced by ``********``.

    ``postgresql+asyncpg://carnews:hunter2@db/carnews`` prints as
    ``postgresql+asyncpg://carnews:********@db/carnews``, in settings and in errors.
    """
    return _URL_PASSWORD.sub(r"\g<head>********@", text)


def replace(settings: Settings, **changes: Any) -> Settings:
    """Copy settings with whole sections swapped: ``replace(s, smtp=SmtpSettings(port=2525))``."""
    return dataclasses.replace(settings, **changes)


def effective_values(settings: Settings) -> list[tuple[SettingSpec, str]]:
    """Each setting with its printable value; secrets and passwords in URLs masked."""
    rows = []
    for spec in all_specs():
        value = getattr(getattr(settings, spec.section), spec.name)
        rows.append((spec, ", ".join(value) if isinstance(value, tuple) else redact(str(value))))
    return rows
