"""The bulk import stores exactly what a single sign-up stores, on both databases.

An import hands its rows to the driver itself (values converted once, not by the ORM
per row); these tests read the rows back through the ORM and compare them with rows
``add_subscriber`` wrote, so a conversion that drifted would show here.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from carnews.audience.subscriptions import add_subscriber, import_csv, list_subscribers
from carnews.clock import Clock
from carnews.curate.lexicon import Lexicon, load_lexicon
from carnews.storage import Database
from carnews.storage.models import SubscriberStatus

LEXICON = load_lexicon()
COLUMNS = ("name", "diseases", "status", "consent_at", "created_at", "confirmed_at",
           "unsubscribed_at", "frequency", "consent_ip")  # fmt: skip


@pytest.mark.both_databases
@pytest.mark.parametrize("confirmed", [True, False])
async def test_an_imported_row_reads_back_like_an_added_one(
    db: Database, clock: Clock, confirmed: bool
) -> None:
    await add_subscriber(db, clock, LEXICON, email="added@example.org", name="Ana",
                         diseases=["SLE", "myositis"], confirmed=confirmed,
                         consent_source="import", actor="t")  # fmt: skip
    text = "email,name,diseases\nImported@Example.org, Ana ,SLE;myositis\n"
    report = await import_csv(db, clock, LEXICON, text, confirmed=confirmed, actor="t")
    assert (report.added, report.unchanged, report.rejected_total) == (1, 0, 0)
    added, imported = sorted(await list_subscribers(db), key=lambda s: s.email)
    assert imported.email == "imported@example.org"
    assert [getattr(imported, c) for c in COLUMNS] == [getattr(added, c) for c in COLUMNS]
    assert imported.diseases == ["lupus", "myositis"]
    assert imported.created_at == clock() and imported.created_at.tzinfo is not None
    assert imported.status == (SubscriberStatus.ACTIVE if confirmed else SubscriberStatus.PENDING)
    assert imported.consent_source == "import"
    assert len(imported.unsubscribe_token) >= 40 != added.unsubscribe_token


@pytest.mark.both_databases
async def test_every_row_with_an_unknown_disease_is_refused_not_only_the_first(
    db: Database, clock: Clock
) -> None:
    """A disease cell is looked up once per import; its refusal still names every row."""
    rows = "".join(f"r{n}@example.org,R,{'influenza' if n % 2 else 'lupus'}\n" for n in range(6))
    report = await import_csv(db, clock, LEXICON, "email,name,diseases\n" + rows,
                              confirmed=True, actor="t")  # fmt: skip
    assert (report.added, report.rejected_total) == (3, 3)
    assert [line for line, _, _ in report.rejected] == [3, 5, 7]
    assert all("unknown disease 'influenza'" in why for _, _, why in report.rejected)
    assert {s.diseases[0] for s in await list_subscribers(db)} == {"lupus"}


def test_the_keyed_hash_of_an_erased_address_is_the_one_stored_before() -> None:
    """Hashes written by earlier versions still match, so an erased address stays refused."""
    import hashlib
    import hmac

    from carnews.audience.limits import keyed_hash

    before = hmac.new(b"site key", b"address:ana@example.org", hashlib.sha256).hexdigest()
    assert keyed_hash("site key", "address", "ana@example.org") == before


async def test_a_file_naming_catalogue_diseases_never_compiles_the_lexicon(
    db: Database, clock: Clock
) -> None:
    """Given the loader, an import compiles the lexicon only for a cell it must read.

    Compiling it costs most of a second of a 100,000-row import; cells that name catalogue
    diseases exactly ("Lupus;myositis") get the same answer from the names alone.
    """
    loads: list[int] = []

    def loader() -> Lexicon:
        loads.append(1)
        return LEXICON

    exact = "email,name,diseases\na@example.org,A,Lupus;myositis;lupus\nb@example.org,B,\n"
    report = await import_csv(db, clock, loader, exact, confirmed=True, actor="t")
    assert (report.added, loads) == (2, [])
    assert {s.email: s.diseases for s in await list_subscribers(db)} == {
        "a@example.org": ["lupus", "myositis"],
        "b@example.org": [],
    }
    typed = "email,name,diseases\nc@example.org,C,SLE;scleroderma\nd@example.org,D,flu\n"
    report = await import_csv(db, clock, loader, typed, confirmed=True, actor="t")
    assert (report.added, report.rejected_total, loads) == (1, 1, [1])
    chosen = {s.email: s.diseases for s in await list_subscribers(db)}
    assert chosen["c@example.org"] == ["lupus", "systemic sclerosis"]


def test_the_names_read_without_compiling_are_the_lexicons_own(tmp_path: Path) -> None:
    """Imports and the per-disease pages list diseases from the file's names alone; they
    must be exactly the names, in the order, that the compiled lexicon gives."""
    from carnews.curate.lexicon import lexicon_disease_names

    extra = tmp_path / "lexicon.toml"
    extra.write_text("[diseases]\nlupus = ['SLE nephritis']\n'fake disease x' = ['fdx']\n")
    for file in (None, extra):
        compiled = [term.name for term in load_lexicon(file).diseases]
        assert list(lexicon_disease_names(file)) == compiled
    assert lexicon_disease_names(extra)[-1] == "fake disease x"
