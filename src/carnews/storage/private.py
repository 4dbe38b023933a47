"""Files that hold subscribers' addresses and diseases: readable by their owner only.

The SQLite database (and the ``-wal`` and ``-shm`` files SQLite gives the same
mode), exported CSVs and the folder the database lives in are created 0600 and
0700 whatever the umask, so another local user reads none of it. A file made
before this rule is tightened when carnews opens it.
"""

from __future__ import annotations

import contextlib
import os
import stat
from pathlib import Path

FILE_MODE = 0o600
FOLDER_MODE = 0o700


def private_folder(folder: Path) -> None:
    """Create ``folder`` 0700 when it is missing; an existing folder is the owner's choice."""
    if folder.exists():
        return
    folder.parent.mkdir(parents=True, exist_ok=True)
    with contextlib.suppress(FileExistsError):  # made by another process meanwhile
        folder.mkdir(mode=FOLDER_MODE)
    tighten(folder, FOLDER_MODE)


def private_file(path: Path) -> None:
    """Make sure ``path`` exists and only its owner may read or write it."""
    with contextlib.suppress(FileExistsError):
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, FILE_MODE))
    tighten(path, FILE_MODE)


def write_private(path: Path, text: str) -> None:
    """Write ``text`` to ``path`` (UTF-8), readable by its owner only, even if it existed."""
    descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, FILE_MODE)
    with os.fdopen(descriptor, "w", encoding="utf-8") as out:
        os.fchmod(out.fileno(), FILE_MODE)
        out.write(text)


def tighten(path: Path, mode: int) -> None:
    """Take group and other bits away from ``path``; a file owned by someone else is left."""
    try:
        current = stat.S_IMODE(path.stat().st_mode)
        if current & ~mode:
            os.chmod(path, current & mode)
    except (FileNotFoundError, PermissionError):
        return
