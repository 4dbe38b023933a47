"""The email as an inbox shows it: preview line, sender, footer, links, layout.

Messages are composed the way a send composes them (``Composer``: one template per
disease mix, spliced per reader) and read back with the standard library's parser and
html5lib, as a mail client would.
"""

from __future__ import annotations

import email
import email.policy
from datetime import UTC, datetime
from email.message import EmailMessage
from email.utils import parseaddr

import html5lib
import pytest

from carnews.editions.render import EditionView, StoryView, TermView, build_view
from carnews.mail.message import Composer
from carnews.settings import MailSettings, SiteSettings

NOW = datetime(2026, 11, 21, 8, 0, tzinfo=UTC)
SITE = SiteSettings(
    base_url="https://news.example.org",
    title="CAR-T News",
    organisation="Patient Network",
    postal_address="1 High St, Leeds LS1 1AA",
)
HTML_NS = "{http://www.w3.org/1999/xhtml}"


def story(number: int, headline: str, diseases: tuple[str, ...]) -> StoryView:
    return StoryView(story_id=number, headline=headline, summary=f"Summary {number}.",
                     what_it_means="", link=f"https://doi.org/10.1/{number}", published_at=NOW,
                     diseases=diseases, evidence="case series", sources=("PubMed",),
                     terms=(TermView("CAR-T", "Retrained immune cells."),))  # fmt: skip


def view(*stories: StoryView, title: str = "CAR-T News — 21 November 2026") -> EditionView:
    return build_view(edition_id=7, title=title, intro="This week in brief.", date=NOW,
                      site_title=SITE.title, base_url=SITE.base_url, stories=stories)  # fmt: skip


STORIES = (story(1, "Lupus in remission after CAR-T", ("lupus",)),
           story(2, "Myositis trial opens", ("myositis",)),
           story(3, "Safety news for every CAR-T", ()))  # fmt: skip


def compose(
    edition: EditionView,
    diseases: tuple[str, ...] = (),
    token: str = "tok-ann",
    mail: MailSettings | None = None,
    site: SiteSettings = SITE,
) -> EmailMessage:
    composer = Composer(edition, mail or MailSettings(from_address="news@example.org"), site, "")
    data = composer.compose(
        unsubscribe_token=token,
        to="ann@example.org",
        diseases=diseases,
        message_id="<1@example.org>",
        date="Sat, 21 Nov 2026 08:00:00 +0000",
    )
    message = email.message_from_bytes(data, policy=email.policy.default)
    assert isinstance(message, EmailMessage)
    return message


def bodies(message: EmailMessage) -> tuple[str, str]:
    text = message.get_body(("plain",))
    html = message.get_body(("html",))
    assert text is not None and html is not None
    return str(text.get_content()), str(html.get_content())


def tree(html: str) -> object:
    return html5lib.parse(html)


def visible_text(element: object) -> str:
    return " ".join("".join(element.itertext()).split())  # type: ignore[attr-defined]


def test_the_preview_line_is_the_first_headline_not_the_title_again() -> None:
    message = compose(view(*STORIES))
    text, html = bodies(message)
    body = tree(html).find(f"{HTML_NS}body")  # type: ignore[attr-defined]
    preheader = body[0]
    assert "preheader" in preheader.get("class", "")
    assert "display:none" in preheader.get("style", "").replace(" ", "")
    assert visible_text(preheader).startswith("Lupus in remission after CAR-T (and 2 more stories)")
    assert text.splitlines()[0] == "Lupus in remission after CAR-T (and 2 more stories)"
    assert str(message["Subject"]) == "CAR-T News — 21 November 2026"


def test_a_reader_of_one_disease_previews_their_own_first_story() -> None:
    _, html = bodies(compose(view(*STORIES), diseases=("myositis",)))
    preheader = tree(html).find(f"{HTML_NS}body")[0]  # type: ignore[attr-defined]
    assert visible_text(preheader).startswith("Myositis trial opens (and 1 more story)")


def test_the_from_name_is_the_site_title_unless_set() -> None:
    assert parseaddr(str(compose(view(*STORIES))["From"])) == ("CAR-T News", "news@example.org")
    named = MailSettings(from_address="news@example.org", from_name="Dr Jane's desk")
    assert parseaddr(str(compose(view(*STORIES), mail=named)["From"]))[0] == "Dr Jane's desk"


def footer(html: str) -> object:
    cells = tree(html).iter(f"{HTML_NS}td")  # type: ignore[attr-defined]
    return next(cell for cell in cells if "foot" in cell.get("class", ""))


def test_the_footer_says_who_sends_it_why_and_how_to_change_or_stop_it() -> None:
    message = compose(view(*STORIES), diseases=("lupus", "myositis"), token="tok-ann")
    text, html = bodies(message)
    foot = footer(html)
    words = visible_text(foot)
    assert "Patient Network · 1 High St, Leeds LS1 1AA" in words
    assert ("You get this because you signed up at news.example.org for news about lupus, "
            "myositis.") in words  # fmt: skip
    links = {visible_text(a): a.get("href") for a in foot.iter(f"{HTML_NS}a")}  # type: ignore[attr-defined]
    assert links == {
        "Read this issue on the web": "https://news.example.org/editions/7.html",
        "Change your preferences": "https://news.example.org/preferences/tok-ann",
        "Unsubscribe": "https://news.example.org/unsubscribe/tok-ann",
    }
    assert "Change your preferences: https://news.example.org/preferences/tok-ann" in text
    assert "Unsubscribe: https://news.example.org/unsubscribe/tok-ann" in text
    assert "Patient Network, 1 High St, Leeds LS1 1AA" in text
    assert "for news about lupus, myositis." in " ".join(text.split())
    unsubscribe = str(message["List-Unsubscribe"])
    assert "<https://news.example.org/unsubscribe/tok-ann>" in unsubscribe
    assert str(message["List-Unsubscribe-Post"]) == "List-Unsubscribe=One-Click"


def test_each_reader_gets_their_own_preferences_link() -> None:
    edition = view(*STORIES)
    ann, bob = bodies(compose(edition, token="tok-ann")), bodies(compose(edition, token="tok-bob"))
    assert "/preferences/tok-ann" in ann[1] and "/preferences/tok-bob" in bob[1]
    assert "tok-ann" not in bob[0] + bob[1]


def test_a_reader_of_every_disease_is_told_so_and_no_address_line_when_none_is_set() -> None:
    bare = SiteSettings(base_url="https://news.example.org", title="CAR-T News")
    _, html = bodies(compose(view(*STORIES), site=bare))
    words = visible_text(footer(html))
    assert "for news about CAR-T cell therapy in every autoimmune disease we cover." in words
    assert words.endswith("CAR-T News"), "the organisation defaults to the site's title"


def test_the_layout_is_tables_outlook_keeps_to_width_with_a_color_scheme() -> None:
    _, html = bodies(compose(view(*STORIES)))
    document = tree(html)
    meta = {m.get("name"): m.get("content") for m in document.iter(f"{HTML_NS}meta")}  # type: ignore[attr-defined]
    assert meta["color-scheme"] == "light"
    tables = list(document.iter(f"{HTML_NS}table"))  # type: ignore[attr-defined]
    assert len(tables) >= 2 and all(t.get("role") == "presentation" for t in tables)
    assert "max-width: 640px" in tables[1].get("style", "")
    assert '<table role="presentation" width="640"' in html, "Outlook's fixed-width table"


HOSTILE = '<script>alert("x")</script> & "quotes" <img src=x onerror=alert(1)>'


def test_hostile_names_and_titles_stay_text_in_from_subject_preview_and_footer() -> None:
    site = SiteSettings(
        base_url="https://news.example.org",
        title=f"News {HOSTILE}",
        organisation=f"Org {HOSTILE}",
        postal_address=f"Street {HOSTILE}",
    )
    edition = build_view(edition_id=7, title=f"Issue {HOSTILE}\r\nBcc: victim@example.org",
                         intro="", date=NOW, site_title=site.title, base_url=site.base_url,
                         stories=[story(1, f"Headline {HOSTILE}", ())])  # fmt: skip
    message = compose(edition, site=site)
    assert message["Bcc"] is None
    assert parseaddr(str(message["From"]))[0] == f"News {HOSTILE}"
    assert str(message["Subject"]) == f"Issue {HOSTILE} Bcc: victim@example.org"
    text, html = bodies(message)
    document = tree(html)
    assert list(document.iter(f"{HTML_NS}script")) == []  # type: ignore[attr-defined]
    assert all(img.get("onerror") is None for img in document.iter(f"{HTML_NS}img"))  # type: ignore[attr-defined]
    preheader = document.find(f"{HTML_NS}body")[0]  # type: ignore[attr-defined]
    assert visible_text(preheader).startswith(f"Headline {HOSTILE}")
    assert f"Org {HOSTILE} · Street {HOSTILE}" in visible_text(footer(html))
    assert f"Headline {HOSTILE}" in " ".join(text.split()), "plain text, as written"


@pytest.mark.parametrize(
    ("stories", "expected"),
    [((), "This week in brief."), (STORIES[:1], "Lupus in remission after CAR-T")],
)
def test_the_preview_of_an_issue_with_one_or_no_story(
    stories: tuple[StoryView, ...], expected: str
) -> None:
    assert view(*stories).preheader == expected
