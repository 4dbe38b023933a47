"""The data model: the vocabulary of design.md as tables.

Source → Entry (raw + clean, per source) → Story (curated, merged across
sources) → Edition (stories in order, intro, review state) → Delivery (one per
edition and subscriber: the ledger that makes sending exactly-once). Every
decision a person makes (approval, edits, sends) is written to the audit log.
"""

from __future__ import annotations

import enum
import secrets
from datetime import datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    DateTime,
    Enum,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    false,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator


class UTCDateTime(TypeDecorator[datetime]):
    """Timezone-aware UTC datetimes on both SQLite (which drops tzinfo) and PostgreSQL."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Any) -> datetime | None:
        if value is not None and value.tzinfo is None:
            raise ValueError("naive datetime given to the database; pass an aware UTC datetime")
        return value

    def process_result_value(self, value: datetime | None, dialect: Any) -> datetime | None:
        from datetime import UTC

        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        datetime: UTCDateTime,
        dict[str, Any]: JSON,
        list[Any]: JSON,
    }


class EditionState(enum.StrEnum):
    DRAFT = "draft"
    IN_REVIEW = "in_review"
    APPROVED = "approved"
    SENDING = "sending"
    PAUSED = "paused"  # too many errors in a row: an operator resumes it
    SENT = "sent"
    DISCARDED = "discarded"  # an editor threw the draft away; it is kept for the record


class SubscriberStatus(enum.StrEnum):
    PENDING = "pending"
    ACTIVE = "active"
    UNSUBSCRIBED = "unsubscribed"
    BOUNCED = "bounced"
    COMPLAINED = "complained"


class SourceHealth(enum.StrEnum):
    OK = "ok"
    FAILING = "failing"  # too many errors in a row: left alone until an operator enables it
    GONE = "gone"  # answered 410 Gone


class DeliveryState(enum.StrEnum):
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    FAILED_TEMPORARY = "failed_temporary"
    FAILED_PERMANENT = "failed_permanent"
    UNKNOWN = "unknown"  # claimed by a sender that died: maybe sent; an operator decides


class BounceKind(enum.StrEnum):
    HARD = "hard"  # the address does not exist or never will take mail (5.x.x)
    SOFT = "soft"  # full mailbox, delay, greylisting (4.x.x, Action: delayed)
    COMPLAINT = "complaint"  # the reader pressed "this is spam" (RFC 5965 feedback report)


class BounceSource(enum.StrEnum):
    WEBHOOK = "webhook"
    DSN = "dsn"
    SMTP = "smtp"


def _enum(kind: type[enum.StrEnum], name: str) -> Enum:
    # Stored as plain strings with a CHECK constraint, so adding a state is a small migration.
    return Enum(kind, name=name, native_enum=False, values_callable=lambda e: [m.value for m in e])


class Source(Base):
    __tablename__ = "sources"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    # What readers see ("from PubMed"): the config's display_name, or the name tidied.
    display_name: Mapped[str | None] = mapped_column(String(200))
    # ``url`` is where the source lives now (it follows permanent redirects);
    # ``config_url`` is what carnews.toml says, so a config change is noticed.
    url: Mapped[str] = mapped_column(Text)
    config_url: Mapped[str | None] = mapped_column(Text)
    kind: Mapped[str] = mapped_column(String(40), default="feed")
    query: Mapped[str] = mapped_column(Text, default="")
    health: Mapped[SourceHealth] = mapped_column(
        _enum(SourceHealth, "source_health"), default=SourceHealth.OK
    )
    interval_minutes: Mapped[int] = mapped_column(Integer, default=60)
    weight: Mapped[float] = mapped_column(Float, default=1.0)
    enabled: Mapped[bool] = mapped_column(default=True)
    etag: Mapped[str | None] = mapped_column(Text)
    last_modified: Mapped[str | None] = mapped_column(Text)
    last_status: Mapped[int | None] = mapped_column(Integer)
    last_error: Mapped[str | None] = mapped_column(Text)
    consecutive_errors: Mapped[int] = mapped_column(Integer, default=0)
    last_checked_at: Mapped[datetime | None]
    last_success_at: Mapped[datetime | None]
    next_check_at: Mapped[datetime | None]
    first_fetched_at: Mapped[datetime | None]
    entries_seen: Mapped[int] = mapped_column(Integer, default=0)
    # Polls by outcome since the source was added, for /metrics (counters: they only grow).
    fetches_ok: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    fetches_not_modified: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    fetches_failed: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    created_at: Mapped[datetime]

    entries: Mapped[list[Entry]] = relationship(back_populates="source")


class Entry(Base):
    """One item exactly as a source published it, plus its cleaned forms."""

    __tablename__ = "entries"
    __table_args__ = (UniqueConstraint("source_id", "guid", name="uq_entries_source_guid"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    source_id: Mapped[int] = mapped_column(ForeignKey("sources.id", ondelete="CASCADE"))
    story_id: Mapped[int | None] = mapped_column(
        ForeignKey("stories.id", ondelete="SET NULL"), index=True
    )
    guid: Mapped[str] = mapped_column(String(1000))
    canonical_key: Mapped[str] = mapped_column(String(1000), index=True)
    # Every identifier the entry carries: two entries sharing any one are one story.
    doi: Mapped[str | None] = mapped_column(String(300), index=True)
    pmid: Mapped[str | None] = mapped_column(String(20), index=True)
    nct: Mapped[str | None] = mapped_column(String(20), index=True)
    link: Mapped[str | None] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text)
    author: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    raw_html: Mapped[str] = mapped_column(Text, default="")
    clean_html: Mapped[str] = mapped_column(Text, default="")
    text: Mapped[str] = mapped_column(Text, default="")
    content_hash: Mapped[str] = mapped_column(String(64))
    fetched_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]
    update_count: Mapped[int] = mapped_column(Integer, default=0)
    # Published before the source's first poll window: stored, but not news.
    historic: Mapped[bool] = mapped_column(default=False)
    # What a thin entry's landing page says about it (gather.enrich): the abstract or
    # description, the field it was read from (citation_abstract, og:description, …) and
    # the page it was on after redirects. ``landing_checked_at`` set: never fetched again.
    landing_text: Mapped[str] = mapped_column(Text, default="")
    landing_source: Mapped[str | None] = mapped_column(String(40))
    landing_url: Mapped[str | None] = mapped_column(Text)
    # The source's own labels, kept at ingest because they beat text rules for the study
    # type: {"publication_types": [...PubMed...], "phases": [...CT.gov...], "overall_status": ...}
    source_labels: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    landing_checked_at: Mapped[datetime | None]

    source: Mapped[Source] = relationship(back_populates="entries")
    story: Mapped[Story | None] = relationship(back_populates="entries")


class Story(Base):
    """The curated unit: one or more entries about the same thing."""

    __tablename__ = "stories"

    id: Mapped[int] = mapped_column(primary_key=True)
    canonical_key: Mapped[str] = mapped_column(String(1000), unique=True)
    title: Mapped[str] = mapped_column(Text)
    link: Mapped[str | None] = mapped_column(Text)
    published_at: Mapped[datetime | None]
    relevant: Mapped[bool] = mapped_column(default=False, index=True)
    score: Mapped[float] = mapped_column(Float, default=0.0)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    diseases: Mapped[list[Any]] = mapped_column(default=list)
    therapy: Mapped[str | None] = mapped_column(String(80))
    target: Mapped[str | None] = mapped_column(String(80))
    evidence: Mapped[str] = mapped_column(String(80), default="unknown")
    patients: Mapped[int | None] = mapped_column(Integer)
    summary: Mapped[str] = mapped_column(Text, default="")
    what_it_means: Mapped[str] = mapped_column(Text, default="")
    terms_explained: Mapped[list[Any]] = mapped_column(default=list)
    unexplained_terms: Mapped[list[Any]] = mapped_column(default=list)
    fk_grade: Mapped[float | None] = mapped_column(Float)
    smog_grade: Mapped[float | None] = mapped_column(Float)
    rank_score: Mapped[float] = mapped_column(Float, default=0.0)
    # The story card as carnews wrote it (explain.card.Card.to_dict); {} until explained.
    card: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")
    source_kind: Mapped[str | None] = mapped_column(String(40))
    # Kept, but its summary is not written yet: curation judges and explains in separate
    # transactions (an LLM may take a minute a story), and a draft leaves such a story out.
    awaiting_explanation: Mapped[bool] = mapped_column(
        default=False, server_default=false(), index=True
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime | None]

    entries: Mapped[list[Entry]] = relationship(back_populates="story")


class EditionKind(enum.StrEnum):
    EDITION = "edition"  # the stories of a period, for readers of every edition
    DIGEST = "digest"  # a month's sent stories again, for readers who chose the digest


class Edition(Base):
    __tablename__ = "editions"
    __table_args__ = (UniqueConstraint("digest_month", name="uq_editions_digest_month"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EditionKind] = mapped_column(
        _enum(EditionKind, "edition_kind"), default=EditionKind.EDITION,
        server_default=EditionKind.EDITION.value,
    )  # fmt: skip
    # 'YYYY-MM' for a digest: unique, so a month has at most one.
    digest_month: Mapped[str | None] = mapped_column(String(7))
    title: Mapped[str] = mapped_column(Text)
    intro: Mapped[str] = mapped_column(Text, default="")
    state: Mapped[EditionState] = mapped_column(
        _enum(EditionState, "edition_state"), default=EditionState.DRAFT, index=True
    )
    period_start: Mapped[datetime]
    period_end: Mapped[datetime]
    created_at: Mapped[datetime]
    approved_by: Mapped[str | None] = mapped_column(String(200))
    approved_at: Mapped[datetime | None]
    approved_hash: Mapped[str | None] = mapped_column(String(64))
    sent_at: Mapped[datetime | None]
    # When an approved edition may go out; None: as soon as it is approved.
    send_at: Mapped[datetime | None]

    items: Mapped[list[EditionStory]] = relationship(
        back_populates="edition", order_by="EditionStory.position", cascade="all, delete-orphan"
    )


class EditionStory(Base):
    """A story's place in an edition, with the editor's wording where they changed it."""

    __tablename__ = "edition_stories"
    __table_args__ = (UniqueConstraint("edition_id", "story_id", name="uq_edition_story"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    story_id: Mapped[int] = mapped_column(ForeignKey("stories.id", ondelete="RESTRICT"))
    position: Mapped[int] = mapped_column(Integer)
    headline: Mapped[str] = mapped_column(Text)
    summary: Mapped[str] = mapped_column(Text)
    what_it_means: Mapped[str] = mapped_column(Text, default="")
    # This edition's copy of the story card (Card.to_dict), the one an editor edits.
    card: Mapped[dict[str, Any]] = mapped_column(default=dict, server_default="{}")

    edition: Mapped[Edition] = relationship(back_populates="items")
    story: Mapped[Story] = relationship()


def new_unsubscribe_token() -> str:
    """32 random bytes: a link that names nobody until the database says whose it is."""
    return secrets.token_urlsafe(32)


class Subscriber(Base):
    __tablename__ = "subscribers"
    __table_args__ = (
        UniqueConstraint("unsubscribe_token", name="uq_subscribers_unsubscribe_token"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200), default="")
    status: Mapped[SubscriberStatus] = mapped_column(
        _enum(SubscriberStatus, "subscriber_status"), default=SubscriberStatus.PENDING, index=True
    )
    # Empty list means "every disease": nobody is left out by forgetting to choose.
    diseases: Mapped[list[Any]] = mapped_column(default=list)
    consent_source: Mapped[str] = mapped_column(String(200), default="")
    consent_at: Mapped[datetime | None]
    # "edition": every approved edition; "monthly": one digest of the month's stories.
    frequency: Mapped[str] = mapped_column(String(20), default="edition", server_default="edition")
    created_at: Mapped[datetime]
    confirmed_at: Mapped[datetime | None]
    unsubscribed_at: Mapped[datetime | None]
    # The unsubscribe link's key: random, so it reveals neither the id nor the list's size.
    unsubscribe_token: Mapped[str] = mapped_column(String(64), default=new_unsubscribe_token)
    # The sign-up's IP address, only when ``web.record_consent_ip`` is on.
    consent_ip: Mapped[str | None] = mapped_column(String(45))


class Confirmation(Base):
    """One double opt-in link: the SHA-256 of its token, what it confirms, until when.

    ``choices`` (name, diseases, frequency) are what the form asked for; they apply only
    when the address's owner confirms, so a stranger's sign-up changes nothing.
    """

    __tablename__ = "confirmations"
    __table_args__ = (UniqueConstraint("token_hash", name="uq_confirmations_token_hash"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    subscriber_id: Mapped[int] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64))
    choices: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class SignupAttempt(Base):
    """One counted sign-up (kind "ip") or mail to an address ("address", "export"), keyed
    by an HMAC of the IP or address, so the rate limits keep no plain personal data."""

    __tablename__ = "signup_attempts"
    __table_args__ = (Index("ix_signup_attempts_kind_key_at", "kind", "key_hash", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    key_hash: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime]


class SuppressedAddress(Base):
    """An erased ("erased") or blocked ("blocked") address, as an HMAC with the site key:
    an import cannot re-add it, and nobody can read the address back."""

    __tablename__ = "suppressed_addresses"

    address_hash: Mapped[str] = mapped_column(String(64), primary_key=True)
    reason: Mapped[str] = mapped_column(String(20))
    at: Mapped[datetime]


class Delivery(Base):
    __tablename__ = "deliveries"
    __table_args__ = (
        UniqueConstraint("edition_id", "subscriber_id", name="uq_delivery_edition_subscriber"),
        Index("ix_deliveries_edition_state", "edition_id", "state"),
        # /metrics: the last send is a seek, the count by state an index scan.
        Index("ix_deliveries_state_sent_at", "state", "sent_at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    edition_id: Mapped[int] = mapped_column(ForeignKey("editions.id", ondelete="CASCADE"))
    subscriber_id: Mapped[int] = mapped_column(ForeignKey("subscribers.id", ondelete="CASCADE"))
    state: Mapped[DeliveryState] = mapped_column(
        _enum(DeliveryState, "delivery_state"), default=DeliveryState.QUEUED
    )
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    last_error: Mapped[str | None] = mapped_column(Text)
    message_id: Mapped[str | None] = mapped_column(String(300))
    queued_at: Mapped[datetime]
    claimed_at: Mapped[datetime | None]
    # Who holds a claim, so a restart on the same host sees at once that the holder is
    # dead; the heartbeat tells a live holder elsewhere from one gone for a lease.
    claimed_host: Mapped[str | None] = mapped_column(String(255))
    claimed_pid: Mapped[int | None] = mapped_column(Integer)
    heartbeat_at: Mapped[datetime | None]
    sent_at: Mapped[datetime | None]
    # A temporary failure is tried again from here, later after each attempt.
    retry_at: Mapped[datetime | None]

    subscriber: Mapped[Subscriber] = relationship()


class AuditEvent(Base):
    """Who did what, when: approvals, edits, sends, imports."""

    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[datetime] = mapped_column(index=True)
    actor: Mapped[str] = mapped_column(String(200))
    action: Mapped[str] = mapped_column(String(80))
    object_type: Mapped[str] = mapped_column(String(40))
    object_id: Mapped[str] = mapped_column(String(80))
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class BounceEvent(Base):
    """One bounce or complaint as it reached carnews; thresholds over these move a subscriber.

    ``reference`` (the notification's Message-ID, or a hash of it) makes feeding the same
    report twice harmless; it is empty where the sender gave nothing to tell repeats apart.
    """

    __tablename__ = "bounce_events"
    __table_args__ = (
        UniqueConstraint("address", "kind", "reference", name="uq_bounce_events_reference"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    # Erasing a subscriber erases their bounces; addresses nobody subscribed stay unlinked.
    subscriber_id: Mapped[int | None] = mapped_column(
        ForeignKey("subscribers.id", ondelete="CASCADE"), index=True
    )
    address: Mapped[str] = mapped_column(String(320))
    kind: Mapped[BounceKind] = mapped_column(_enum(BounceKind, "bounce_kind"))
    at: Mapped[datetime]
    source: Mapped[BounceSource] = mapped_column(_enum(BounceSource, "bounce_source"))
    reference: Mapped[str | None] = mapped_column(String(300))
    diagnostic: Mapped[str] = mapped_column(Text, default="")
    detail: Mapped[dict[str, Any]] = mapped_column(default=dict)


class Lease(Base):
    """Who runs something that only one process may run, until when (the scheduler)."""

    __tablename__ = "leases"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    holder: Mapped[str] = mapped_column(String(200))
    expires_at: Mapped[datetime]
    # When the holder last took or renewed it: the scheduler's heartbeat, judged by /healthz.
    renewed_at: Mapped[datetime | None]


class RobotsFile(Base):
    """A site's robots.txt as last read, so landing pages are checked without asking again.

    ``status`` is the HTTP status it came with: 2xx holds rules, 4xx means no rules.
    """

    __tablename__ = "robots_files"

    origin: Mapped[str] = mapped_column(String(300), primary_key=True)  # scheme://host:port
    status: Mapped[int] = mapped_column(Integer)
    body: Mapped[str] = mapped_column(Text, default="")
    fetched_at: Mapped[datetime]


class SiteKey(Base):
    """A key made once per installation and kept, so what is derived from it (the bounce
    webhook's token) survives restarts and is the same for every process."""

    __tablename__ = "site_keys"

    name: Mapped[str] = mapped_column(String(40), primary_key=True)
    value: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime]
