"""Review pages: the editions, one draft with its cards, and the preview exactly as sent.

Server-rendered and script-free (the CSP forbids inline script, and no page needs any):
every action is a plain form that posts to ``review_actions`` and comes back here.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, PlainTextResponse, Response

from carnews.editions import workflow
from carnews.editions.render import RenderedEmail, render, render_email
from carnews.editions.review import load_edition
from carnews.editions.views import edition_view
from carnews.web.context import site
from carnews.web.login import signed_in
from carnews.web.review_view import draft_page, edition_rows

router = APIRouter()

# What the page says after an action; a fixed set, so the query string is never echoed.
DONE = {
    "saved": "Saved.",
    "withdrawn": "Saved. The approval was withdrawn: the edition needs approving again, "
    "and the editors have been told.",
    "unchanged": "Nothing changed.",
    "approved": "Approved. It goes out at its send time (or on the next send pass).",
    "withdrew": "The approval is withdrawn.",
    "discarded": "The draft is discarded.",
    "scheduled": "The send time is set.",
    "tested": "The test is on its way to you.",
}
CARD_FIELDS = {
    "what_was_tested": "What was tested",
    "who_took_part": "Who took part",
    "what_happened": "What happened",
    "side_effects": "Side effects (empty: the source says nothing about safety)",
    "unknowns": "What we don't know (one per line)",
    "what_it_means": "What it means",
    "quote_intro": "Before the quote",
    "quote": "Quote (the source's own words)",
}


@router.get("/review/", response_class=HTMLResponse)
async def editions(request: Request) -> HTMLResponse:
    editor = await signed_in(request)
    current = site(request)
    rows = await edition_rows(current.database)
    return current.page("review/editions.html", request=request, editor=editor, rows=rows)


@router.get("/review/review.css")
async def stylesheet(request: Request) -> Response:
    await signed_in(request)
    css = render("review/review.css", site(request).settings.templates.dir)
    return Response(css, media_type="text/css", headers={"Cache-Control": "private, max-age=600"})


@router.get("/review/editions/{edition_id}", response_class=HTMLResponse)
async def draft(request: Request, edition_id: int, done: str = "") -> HTMLResponse:
    editor = await signed_in(request)
    current = site(request)
    page = await draft_page(current.database, current.settings, edition_id, current.clock())
    return current.page("review/draft.html", request=request, editor=editor, page=page,
                        done=DONE.get(done, ""), checklist=workflow.CHECKLIST,
                        card_fields=CARD_FIELDS,
                        editable=page.state in ("draft", "in_review", "approved"))  # fmt: skip


# An email is styled inline (mail clients drop stylesheets), which the site's policy
# forbids: the preview alone allows inline styles, so the editor sees the mail as a reader
# will. Still no script, and ``sandbox`` makes the page an origin of its own with no forms.
PREVIEW_POLICY = (
    "default-src 'none'; style-src 'unsafe-inline'; img-src 'self'; frame-ancestors 'none'; "
    "base-uri 'none'; form-action 'none'; sandbox"
)


@router.get("/review/editions/{edition_id}/preview.html", response_class=HTMLResponse)
async def preview_html(request: Request, edition_id: int, disease: str = "") -> HTMLResponse:
    """The email's HTML part exactly as a subscriber of ``disease`` (or of every one) gets it."""
    return HTMLResponse((await _preview(request, edition_id, disease)).html,
                        headers={"Content-Security-Policy": PREVIEW_POLICY})  # fmt: skip


@router.get("/review/editions/{edition_id}/preview.txt", response_class=PlainTextResponse)
async def preview_text(request: Request, edition_id: int, disease: str = "") -> PlainTextResponse:
    rendered = await _preview(request, edition_id, disease)
    return PlainTextResponse(f"Subject: {rendered.subject}\n\n{rendered.text}")


async def _preview(request: Request, edition_id: int, disease: str) -> RenderedEmail:
    await signed_in(request)
    current = site(request)
    settings = current.settings
    async with current.database.read() as session:
        edition = await load_edition(session, edition_id)
        view = await edition_view(session, edition, base_url=settings.site.base_url,
                                  site_title=settings.site.title)  # fmt: skip
    return render_email(view.for_diseases([disease] if disease else []), settings.templates.dir)
