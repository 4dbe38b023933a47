"""``python -m carnews`` is the same as the ``carnews`` command."""

from carnews.cli import main

main()
