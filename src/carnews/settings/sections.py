"""The settings sections, one frozen dataclass each: every field is one setting, with its
default, help and bounds declared where it lives (``base.setting``)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from carnews.settings.base import (
    Secret,
    setting,
)


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
