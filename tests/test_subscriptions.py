"""Subscribers: odd addresses, disease choices, CSV import/export, unsubscribe links."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from sqlalchemy.ext.asyncio import AsyncSession

from carnews.audience.subscriptions import (
    IMPORT_CHUNK,
    MAX_REJECTS_KEPT,
    Added,
    add_subscriber,
    export_csv,
    import_csv,
    list_subscribers,
    normalise_address,
    subscriber_for_token,
    unsubscribe,
)
from carnews.clock import Clock
from carnews.curate.lexicon import load_lexicon
from carnews.errors import NotFoundError, SubscriberError
from carnews.storage import Database
from carnews.storage.models import SubscriberStatus

LEXICON = load_lexicon()


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("Ana@Example.ORG", "ana@example.org"),
        ("  ben@example.net \n", "ben@example.net"),
        ("o'brien+news@example.co.uk", "o'brien+news@example.co.uk"),
        ("josé@exämple.de", "josé@exämple.de"),
    ],
)
def test_addresses_are_normalised(raw: str, expected: str) -> None:
    assert normalise_address(raw) == expected


@pytest.mark.parametrize(
    "raw", ["", "no-at-sign", "two@@example.org", "spaces in@example.org", "a@b", "a@example..org",
            "<script>@example.org", "a@example.org\r\nBcc: x@example.org"],
)  # fmt: skip
def test_odd_addresses_are_refused_with_the_address_named(raw: str) -> None:
    with pytest.raises(SubscriberError) as caught:
        normalise_address(raw)
    assert "is not a usable email address" in caught.value.message


async def test_add_and_refuse_duplicate_in_any_case(db: Database, clock: Clock) -> None:
    added = await add_subscriber(db, clock, LEXICON, email="ana@example.org",
                                 diseases=["SLE", "scleroderma"], confirmed=True,
                                 consent_source="test", actor="t")  # fmt: skip
    assert added.diseases == ["lupus", "systemic sclerosis"]
    assert added.status == SubscriberStatus.ACTIVE and added.consent_at == clock()
    with pytest.raises(SubscriberError, match="already on the list"):
        await add_subscriber(db, clock, LEXICON, email="ANA@EXAMPLE.ORG", consent_source="t",
                             actor="t")  # fmt: skip


async def test_unknown_disease_lists_the_choices(db: Database, clock: Clock) -> None:
    with pytest.raises(SubscriberError) as caught:
        await add_subscriber(db, clock, LEXICON, email="a@example.org", diseases=["flu"],
                             consent_source="t", actor="t")  # fmt: skip
    assert "unknown disease 'flu'" in caught.value.message and "lupus" in caught.value.hint


async def test_import_keeps_good_rows_and_reports_bad_ones(db: Database, clock: Clock) -> None:
    csv_text = (
        "Email,Name,Diseases\n"
        "ana@example.org,Ana,lupus\n"
        "not-an-address,Bad,\n"
        "ben@example.org,Ben,lupus;myositis\n"
        "cy@example.org,Cy,influenza\n"
        "ANA@example.org,Ana again,\n"
    )
    report = await import_csv(db, clock, LEXICON, csv_text, confirmed=False, actor="t")
    assert (report.added, report.unchanged) == (2, 1)
    assert [(line, address) for line, address, _ in report.rejected] == [
        (3, "not-an-address"), (5, "cy@example.org"),
    ]  # fmt: skip
    people = await list_subscribers(db)
    assert [(p.email, p.status) for p in people] == [
        ("ana@example.org", SubscriberStatus.PENDING),
        ("ben@example.org", SubscriberStatus.PENDING),
    ]
    again = await import_csv(db, clock, LEXICON, csv_text, confirmed=False, actor="t")
    assert again.added == 0


async def test_import_without_email_column_is_refused(db: Database, clock: Clock) -> None:
    with pytest.raises(SubscriberError, match="no 'email' column"):
        await import_csv(db, clock, LEXICON, "name\nAna\n", confirmed=True, actor="t")


@pytest.mark.both_databases
async def test_import_reads_a_stream_in_chunks_and_finds_duplicates_across_them(
    db: Database, clock: Clock
) -> None:
    count = IMPORT_CHUNK * 2 + 500
    lines = iter(
        ["email,name\n", *(f"r{n}@example.org,R{n}\n" for n in range(count)),
         "R5@Example.org,again\n", "late@example.org,Late,extra,cells\n",
         f"long@example.org,{'n' * 201}\n"]
    )  # fmt: skip
    report = await import_csv(db, clock, LEXICON, lines, confirmed=True, actor="t")
    assert (report.added, report.unchanged, report.rejected_total) == (count + 1, 1, 1)
    assert "longer than 200" in report.rejected[0][2]
    exported = await export_csv(db)
    assert len(exported.splitlines()) == count + 2 and "late@example.org,Late," in exported


async def test_an_unreadable_line_stops_the_import_and_says_what_went_in(
    db: Database, clock: Clock
) -> None:
    huge = '"' + "x" * 140_000 + '"'  # over csv.field_size_limit(): e.g. a stray quote
    text = f"email,name\na@example.org,A\nb@example.org,{huge}\nc@example.org,C\n"
    with pytest.raises(SubscriberError) as caught:
        await import_csv(db, clock, LEXICON, text, confirmed=True, actor="t")
    assert "line 3" in caught.value.message and "field larger" in caught.value.message
    assert "1 added" in caught.value.hint
    assert [p.email for p in await list_subscribers(db)] == ["a@example.org"]


async def test_a_file_of_bad_rows_keeps_a_bounded_list_of_reasons(
    db: Database, clock: Clock
) -> None:
    text = "email\n" + "not-an-address\n" * (MAX_REJECTS_KEPT + 10)
    report = await import_csv(db, clock, LEXICON, text, confirmed=True, actor="t")
    assert report.rejected_total == MAX_REJECTS_KEPT + 10
    assert len(report.rejected) == MAX_REJECTS_KEPT


async def test_export_round_trips(db: Database, clock: Clock, tmp_path: object) -> None:
    await import_csv(db, clock, LEXICON, "email,name,diseases\na@example.org,A,lupus;myositis\n",
                     confirmed=True, actor="t")  # fmt: skip
    exported = await export_csv(db)
    assert exported.splitlines()[0] == "email,name,diseases,status,consent_source,created_at"
    assert "a@example.org,A,lupus;myositis,active,import," in exported


async def test_each_subscriber_has_a_random_unsubscribe_token_looked_up_in_the_database(
    db: Database, clock: Clock
) -> None:
    person = await add_subscriber(db, clock, LEXICON, email="a@example.org", confirmed=True,
                                  consent_source="t", actor="t")  # fmt: skip
    await import_csv(db, clock, LEXICON, "email\nb@example.org\nc@example.org\n",
                     confirmed=True, actor="t")  # fmt: skip
    tokens = [s.unsubscribe_token for s in await list_subscribers(db)]
    assert len(set(tokens)) == 3 and all(len(token) >= 43 for token in tokens)
    assert await subscriber_for_token(db, person.unsubscribe_token) == person.id
    never_issued = "A" * 43
    for bad in (never_issued, person.unsubscribe_token[:-1], "../1", "x" * 500):
        with pytest.raises(NotFoundError, match=r"^this unsubscribe link is not valid$"):
            await subscriber_for_token(db, bad)
    await unsubscribe(db, clock, person.id, via="test")
    again = await unsubscribe(db, clock, person.id, via="test")
    assert again.status == SubscriberStatus.UNSUBSCRIBED and again.unsubscribed_at == clock()


@pytest.mark.both_databases
async def test_import_counts_duplicates_in_the_file_and_on_the_list_and_leaves_them_alone(
    db: Database, clock: Clock
) -> None:
    kept = await add_subscriber(db, clock, LEXICON, email="old@example.org", name="Old",
                                diseases=["lupus"], consent_source="form", actor="t")  # fmt: skip
    rows = [f"r{n}@example.org,R{n}," for n in range(IMPORT_CHUNK + 10)]
    rows[5] = "OLD@example.org,Overwritten?,myositis"  # on the list already, in another case
    rows[IMPORT_CHUNK + 3] = "R7@EXAMPLE.org,again,"  # a duplicate from the chunk before
    rows[IMPORT_CHUNK + 4] = "twice@example.org,first,"  # twice within one chunk
    rows[IMPORT_CHUNK + 5] = "Twice@example.org,second,"
    rows[20] = "bad address,Bad,"
    rows[21] = "ok@example.org,Flu,influenza"
    text = "email,name,diseases\n" + "\n".join(rows) + "\n"
    report = await import_csv(db, clock, LEXICON, text, confirmed=True, actor="t")
    assert (report.added, report.unchanged, report.rejected_total) == (IMPORT_CHUNK + 10 - 5, 3, 2)
    assert [(line, address) for line, address, _ in report.rejected] == [
        (22, "bad address"), (23, "ok@example.org")
    ]  # fmt: skip
    everyone = {s.email: s for s in await list_subscribers(db)}
    old = everyone["old@example.org"]
    assert (old.id, old.name, old.diseases, old.status) == (
        kept.id, "Old", ["lupus"], SubscriberStatus.PENDING
    )  # fmt: skip
    assert everyone["r7@example.org"].name == "R7" and everyone["twice@example.org"].name == "first"
    again = await import_csv(db, clock, LEXICON, text, confirmed=True, actor="t")
    assert (again.added, again.unchanged, again.rejected_total) == (0, IMPORT_CHUNK + 10 - 2, 2)


@pytest.mark.both_databases
async def test_each_chunk_hands_what_it_added_to_a_step_in_the_same_transaction(
    db: Database, clock: Clock
) -> None:
    seen: list[list[str]] = []

    async def step(session: AsyncSession, added: Sequence[Added]) -> None:
        seen.append([row.email for row in added])
        assert all(row.status == SubscriberStatus.PENDING for row in added)
        if len(seen) == 2:
            raise SubscriberError("the step failed")

    await add_subscriber(db, clock, LEXICON, email="r3@example.org", consent_source="t",
                         actor="t")  # fmt: skip
    text = "email\n" + "".join(f"r{n}@example.org\n" for n in range(IMPORT_CHUNK + 2))
    with pytest.raises(SubscriberError, match="the step failed"):
        await import_csv(db, clock, LEXICON, text, confirmed=False, actor="t", on_added=step)
    assert len(seen[0]) == IMPORT_CHUNK - 1 and "r3@example.org" not in seen[0]
    assert seen[1] == [f"r{IMPORT_CHUNK}@example.org", f"r{IMPORT_CHUNK + 1}@example.org"]
    # The failed step took its chunk's rows with it; the chunk before stays.
    assert len(await list_subscribers(db)) == IMPORT_CHUNK
