"""The whole settings object: every section, and the ``[[sources]]`` tables."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

from carnews.settings.base import (
    setting,
)
from carnews.settings.sections import (
    CurateSettings,
    DatabaseSettings,
    EditionSettings,
    ExplainSettings,
    FetchSettings,
    MailSettings,
    OpsSettings,
    PublishSettings,
    ReviewSettings,
    ScheduleSettings,
    SiteSettings,
    SmtpSettings,
    TemplateSettings,
    WebSettings,
)

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
