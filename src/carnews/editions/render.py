"""Render: one context object → HTML email, text email, archive page, feed item.

Templates live in the top-level ``templates/`` folder (a deployer restyles
them there, or points ``templates.dir`` at a copy); autoescape is on and
undefined names are errors. An email is rendered once per set of stories and
then personalised by replacing a placeholder with each subscriber's links, so a
large list costs one render per disease mix, not one per subscriber.

Every template prints an href through the ``safe_url`` filter: a link that is
not http(s) renders as "" (templates test it and leave the link out), whatever
the database or a template override holds.
"""

from __future__ import annotations

import dataclasses
import functools
import logging
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import datetime
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

import css_inline
from jinja2 import (
    ChoiceLoader,
    Environment,
    FileSystemLoader,
    StrictUndefined,
    select_autoescape,
)
from jinja2 import TemplateError as JinjaTemplateError

from carnews.editions.cardview import CardSection, card_sections, source_kind_label
from carnews.errors import TemplateError
from carnews.explain.card import Card
from carnews.text.urls import safe_url

# https URLs themselves, so they pass the safe_url filter untouched and are then spliced.
UNSUBSCRIBE_PLACEHOLDER = "https://unsubscribe.invalid/__CARNEWS_UNSUBSCRIBE_URL__"
PREFERENCES_PLACEHOLDER = "https://preferences.invalid/__CARNEWS_PREFERENCES_URL__"
log = logging.getLogger("carnews.render")

EVIDENCE_LABELS = {
    "lab study": "Laboratory study",
    "case report": "Case report (one person)",
    "case series": "Case series (a few people)",
    "phase 1": "Early trial (phase 1)",
    "phase 1/2": "Early trial (phase 1/2)",
    "phase 2": "Trial (phase 2)",
    "phase 3": "Large trial (phase 3)",
    "review": "Review",
    "regulatory": "Regulator news",
    "trial registration": "New trial",
    "conference abstract": "Conference report",
    "patient story": "Patient story",
    "news": "News",
}


@dataclass(frozen=True)
class TermView:
    term: str
    plain: str


@dataclass(frozen=True)
class StoryView:
    story_id: int
    headline: str
    summary: str
    what_it_means: str
    link: str | None
    published_at: datetime | None
    diseases: tuple[str, ...]
    evidence: str
    sources: tuple[str, ...]
    terms: tuple[TermView, ...] = ()  # a glossary, for stories explained before cards
    unexplained: tuple[str, ...] = ()  # jargon with no glossary entry, for the editor
    # The story card (the edition's copy, else the story's); None: an older story, shown
    # from its summary. A card explains its terms inline, so it brings no glossary.
    card: Card | None = None
    source_kind: str | None = None  # "preprint", "press release", … for its badge
    source_title: str = ""  # the source's own title: the text of the link to it

    @property
    def sections(self) -> tuple[CardSection, ...]:
        return card_sections(self.card) if self.card else ()


@dataclass(frozen=True)
class EditionView:
    """Everything any artefact of one edition shows."""

    edition_id: int
    title: str
    intro: str
    date: datetime
    site_title: str
    base_url: str
    stories: tuple[StoryView, ...]
    glossary: tuple[TermView, ...] = field(default=())
    # The diseases of the reader this view is for (``for_diseases``); empty: every disease.
    reader_diseases: tuple[str, ...] = ()
    # Whether the archive has a page for it: a monthly digest repeats stories it has.
    on_web: bool = True

    @property
    def url(self) -> str:
        return f"{self.base_url.rstrip('/')}/editions/{self.edition_id}.html"

    @property
    def preheader(self) -> str:
        """The inbox preview line: the first headline (and how many follow), so the preview
        says what is new instead of repeating the subject."""
        if not self.stories:
            return first_sentence(self.intro) or self.title
        more = len(self.stories) - 1
        tail = f" (and {more} more {'story' if more == 1 else 'stories'})" if more else ""
        return self.stories[0].headline + tail

    @functools.cached_property
    def diseases(self) -> frozenset[str]:
        """Every disease some story of the edition is about."""
        return frozenset(disease for story in self.stories for disease in story.diseases)

    @functools.cached_property
    def for_everyone(self) -> bool:
        """Whether a story is for every reader: tagged with no disease, as curation tags
        class-wide safety news about CAR-T."""
        return any(not story.diseases for story in self.stories)

    def for_diseases(self, diseases: Sequence[str]) -> EditionView:
        """The edition as a subscriber who chose ``diseases`` sees it (empty: everything);
        a story tagged with no disease is for every reader."""
        if not diseases:
            return self
        wanted = set(diseases)
        kept = tuple(s for s in self.stories if not s.diseases or wanted & set(s.diseases))
        return dataclasses.replace(self, stories=kept, glossary=_glossary(kept),
                                   reader_diseases=tuple(sorted(wanted)))  # fmt: skip


def first_sentence(text: str) -> str:
    """The first sentence of ``text`` on one line (all of its first line if it has no stop)."""
    line = " ".join(text.split())
    stop = line.find(". ")
    return line[: stop + 1] if stop >= 0 else line


def _glossary(stories: Sequence[StoryView]) -> tuple[TermView, ...]:
    """Each explained term once, in order of first use across the edition."""
    seen: dict[str, TermView] = {}
    for story in stories:
        for term in story.terms:
            seen.setdefault(term.term.lower(), term)
    return tuple(seen.values())


def build_view(
    *, edition_id: int, title: str, intro: str, date: datetime, site_title: str,
    base_url: str, stories: Sequence[StoryView],
) -> EditionView:  # fmt: skip
    return EditionView(
        edition_id, title, intro, date, site_title, base_url, tuple(stories), _glossary(stories)
    )


def builtin_templates() -> Path:
    """The built-in templates, as package data (in a checkout, a link to the top-level folder)."""
    return Path(str(resources.files("carnews") / "templates"))


def format_date(value: datetime | None) -> str:
    return f"{value:%-d %B %Y}" if value else ""


def evidence_label(value: str) -> str:
    return EVIDENCE_LABELS.get(value, value.capitalize())


def paragraphs(value: str) -> list[str]:
    return [block.strip() for block in value.split("\n\n") if block.strip()]


def wrap(value: str, width: int = 72) -> str:
    """Lines of at most ``width`` characters for the text email, broken between words only:
    "T-cell" and a link stay whole, so a reader (or a search) finds them as written."""
    return textwrap.fill(" ".join(value.split()), width, break_long_words=False,
                         break_on_hyphens=False)  # fmt: skip


def web_link(value: str | None) -> str:
    """The ``safe_url`` filter: ``value`` if it is an http(s) link, else "" (and a log line)."""
    url = safe_url(value)
    if url is None and value:
        log.warning("a link that is not http or https was left out: %r", value[:120])
    return url or ""


@functools.lru_cache(maxsize=8)
def environment(override_dir: str = "") -> Environment:
    loaders = [FileSystemLoader(override_dir)] if override_dir else []
    loaders.append(FileSystemLoader(builtin_templates()))
    env = Environment(
        loader=ChoiceLoader(loaders),
        autoescape=select_autoescape(enabled_extensions=("html", "xml"), default=False),
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
        keep_trailing_newline=True,
    )
    env.filters.update(date=format_date, evidence=evidence_label, paragraphs=paragraphs,
                       safe_url=web_link, source_kind=source_kind_label, wrap=wrap)  # fmt: skip
    return env


def render(template: str, override_dir: str = "", **context: object) -> str:
    try:
        return environment(override_dir).get_template(template).render(**context)
    except JinjaTemplateError as exc:
        raise TemplateError(
            f"template {template} failed: {exc}", context={"template": template}
        ) from exc


@dataclass(frozen=True)
class Footer:
    """Who sends the mail, for its footer: the organisation's name and postal address.

    ``organisation`` empty means the site's title; ``postal_address`` empty leaves the
    address line out.
    """

    organisation: str = ""
    postal_address: str = ""


@dataclass(frozen=True)
class RenderedEmail:
    subject: str
    html: str
    text: str

    def personalise(self, unsubscribe_url: str, preferences_url: str) -> RenderedEmail:
        links = {UNSUBSCRIBE_PLACEHOLDER: unsubscribe_url, PREFERENCES_PLACEHOLDER: preferences_url}

        def splice(body: str) -> str:
            for placeholder, url in links.items():
                body = body.replace(placeholder, url)
            return body

        return RenderedEmail(self.subject, splice(self.html), splice(self.text))


def _site_name(base_url: str) -> str:
    """``https://news.example.org/`` as a reader would say it: ``news.example.org``."""
    parts = urlsplit(base_url)
    return (parts.netloc + parts.path.rstrip("/")) or base_url


def render_email(
    view: EditionView, override_dir: str = "", footer: Footer = Footer()
) -> RenderedEmail:
    """Both parts from the same context; CSS inlined because mail clients drop <style>.

    Each reader's links are placeholders here, spliced in per reader (``mail.message``).
    """
    context = {
        "edition": view,
        "unsubscribe_url": UNSUBSCRIBE_PLACEHOLDER,
        "preferences_url": PREFERENCES_PLACEHOLDER,
        "organisation": footer.organisation or view.site_title,
        "postal_address": footer.postal_address,
        "signup_site": _site_name(view.base_url),
    }
    html = render("email/newsletter.html", override_dir, **context)
    text = render("email/newsletter.txt", override_dir, **context)
    return RenderedEmail(view.title, css_inline.inline(html), text)
