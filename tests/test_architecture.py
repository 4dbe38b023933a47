"""docs/architecture.md stays true: the module map names what exists, and all of it."""

from __future__ import annotations

import importlib
import re
from pathlib import Path

import carnews

DOC = Path(__file__).parents[1] / "docs" / "architecture.md"
PACKAGE = Path(carnews.__file__).parent


def named_in_map() -> set[str]:
    table = DOC.read_text().split("## Module map", 1)[1].split("\n## ", 1)[0]
    packages = set(re.findall(r"`(carnews(?:\.\w+)*)`", table))
    for row in table.splitlines():
        found = re.match(r"\| `(carnews\.\w+)` \| (.*) \|$", row)
        if found and (PACKAGE / found[1].split(".")[1]).is_dir():
            # In a sub-package's row, "`name` (...)" names one of its modules.
            packages |= {f"{found[1]}.{m}" for m in re.findall(r"`(\w+)` \(", found[2])}
    return packages


def test_every_module_the_map_names_exists() -> None:
    names = named_in_map()
    assert len(names) > 40
    for name in sorted(names):
        importlib.import_module(name)


def test_every_sub_package_is_in_the_map() -> None:
    existing = {
        f"carnews.{init.parent.relative_to(PACKAGE).as_posix().replace('/', '.')}"
        for init in PACKAGE.glob("*/__init__.py")
    }
    assert existing <= named_in_map()


def test_no_module_holds_several_ideas_in_one_long_file() -> None:
    """House rule 2: modules stay small (mostly under ~400 lines); past 600 a file holds
    more than one idea and is split, as settings was (a package, one module per part)."""
    lengths = {
        str(path.relative_to(PACKAGE)): len(path.read_text().splitlines())
        for path in PACKAGE.rglob("*.py")
    }
    assert {name: n for name, n in lengths.items() if n > 600} == {}
