"""``carnews subscribers remove|block|set|unsubscribe-replies``: an operator acting for a
reader. Registered on the ``subscribers`` command group (``cli.subscribers``)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from sqlalchemy import select

from carnews.cli.common import console, now, print_json, with_database
from carnews.cli.subscribers import JsonFlag, app
from carnews.errors import NotFoundError
from carnews.settings import Settings
from carnews.storage import Database


@app.command("remove")
def remove(ctx: typer.Context, email: str) -> None:
    """Erase a subscriber's data; only a keyed hash stays, so an import cannot re-add them.

    They may sign up again through the form (with a fresh confirmation).

    Example: carnews subscribers remove ana@example.org
    """

    from carnews.audience.privacy import erase
    from carnews.audience.subscriptions import normalise_address
    from carnews.storage.models import Subscriber
    from carnews.storage.sitekey import site_key

    address = normalise_address(email)

    async def work(db: Database, settings: Settings) -> None:
        async with db.read() as session:
            found = await session.scalar(select(Subscriber.id).where(Subscriber.email == address))
        if found is None:
            raise NotFoundError(f"{address} is not a subscriber", context={"address": address})
        await erase(db, now, await site_key(db, settings, now), found, actor="cli")
        console.print(f"Erased {address}: its data is gone.", highlight=False)

    with_database(ctx, work)


@app.command("block")
def block(ctx: typer.Context, email: str) -> None:
    """Never mail an address again, not even a confirmation; its data, if any, is erased.

    Example: carnews subscribers block troll@example.org
    """

    from carnews.audience.privacy import block_address
    from carnews.audience.subscriptions import normalise_address
    from carnews.storage.sitekey import site_key

    address = normalise_address(email)

    async def work(db: Database, settings: Settings) -> None:
        key = await site_key(db, settings, now)
        erased = await block_address(db, now, key, address, actor="cli")
        extra = " and erased its data" if erased else ""
        console.print(f"Blocked {address}{extra}.", highlight=False)

    with_database(ctx, work)


@app.command("set")
def set_command(
    ctx: typer.Context,
    email: str,
    diseases: Annotated[
        str | None, typer.Option(help="Diseases, separated by ';' or ','; 'all' for every one.")
    ] = None,
    frequency: Annotated[str | None, typer.Option(help="edition or monthly.")] = None,
    name: Annotated[str | None, typer.Option(help="Display name ('' to clear).")] = None,
) -> None:
    """Change a subscriber's diseases, frequency or name; what is not given stays.

    Example: carnews subscribers set ana@example.org --diseases "lupus;myositis" --frequency monthly
    """

    from carnews.audience.preferences import set_by_address
    from carnews.audience.subscriptions import split_diseases
    from carnews.curate.lexicon import load_lexicon

    chosen = (
        None if diseases is None else [] if diseases.strip() == "all" else split_diseases(diseases)
    )

    async def work(db: Database, settings: Settings) -> None:
        subscriber = await set_by_address(db, now, load_lexicon(), email, name=name,
                                          diseases=chosen, frequency=frequency)  # fmt: skip
        chosen_text = ", ".join(subscriber.diseases) or "all diseases"
        console.print(
            f"{subscriber.email}: {chosen_text}, {subscriber.frequency}, name {subscriber.name!r}.",
            highlight=False,
            markup=False,
        )

    with_database(ctx, work)


@app.command("unsubscribe-replies")
def unsubscribe_replies(
    ctx: typer.Context,
    maildir: Annotated[Path, typer.Argument(help="Maildir that mail.from_address delivers to.")],
    json_: JsonFlag = False,
) -> None:
    """Unsubscribe the senders of mailto: unsubscribe requests in a maildir's new/ and cur/.

    A request has the subject (or first line) "unsubscribe"; auto-replies and bounces are
    skipped. Running it again is harmless; mail is left in place.

    Example: carnews subscribers unsubscribe-replies /var/mail/newsletter --json
    """

    from carnews.audience.subscriptions import unsubscribe_address
    from carnews.mail.replies import read_replies

    replies = list(read_replies(maildir))

    async def work(db: Database, settings: Settings) -> None:
        rows = []
        for reply in replies:
            outcome = reply.why
            if reply.address is not None:
                known = await unsubscribe_address(db, now, reply.address, via="mailto")
                outcome = "unsubscribed" if known else "not a subscriber"
            rows.append({"file": str(reply.file), "address": reply.address, "outcome": outcome})
        if json_:
            print_json(rows)
            return
        for row in rows:
            console.print(f"{row['file']}: {row['address'] or '-'}: {row['outcome']}",
                          highlight=False, markup=False)  # fmt: skip
        done = sum(row["outcome"] == "unsubscribed" for row in rows)
        console.print(f"Unsubscribed {done} of {len(rows)} mails' senders.")

    with_database(ctx, work)
