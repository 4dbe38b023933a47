"""What reaches the operator's terminal: our styling obeyed, everybody else's text shown as is.

Feed titles, links, subscriber and approver names, CSV cells and error messages that
quote them are untrusted. Printed with Rich markup on, ``[/x]`` in a title crashes the
command and ``[link=…]`` makes a clickable link; printed raw, an ESC byte lets a feed
recolour, move the cursor or retitle the operator's terminal. So:

- ``SafeConsole`` never reads markup or emoji codes in a plain string (table cells
  included) and shows control characters as escapes (``\\x1b``) instead of sending them;
- the only way to style output is ``styled(template, *values)``: the template is our
  own markup, the values are escaped and neutralised before they are put in.
"""

from __future__ import annotations

import re

from rich.console import Console, HighlighterType, JustifyMethod, OverflowMethod
from rich.markup import escape
from rich.style import Style
from rich.table import Column, Table
from rich.text import Text

# C0 controls except tab and newline, DEL, C1 controls (0x9b is CSI on some terminals)
# and the bidirectional overrides that make a terminal show text in another order.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")


def _shown(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def printable(text: str) -> str:
    """``text`` with every terminal control character written out (``\\x1b``), not obeyed."""
    return _CONTROL.sub(_shown, text)


def plain(value: object) -> Text:
    """Untrusted ``value`` as a Rich ``Text`` that prints literally (e.g. a table cell)."""
    return Text(printable(str(value)))


def cells(*values: object) -> list[Text]:
    """A table row of untrusted values: ``table.add_row(*cells(name, url))``."""
    return [plain(value) for value in values]


def _fill(value: object) -> object:
    if isinstance(value, int | float):  # numbers keep format specs such as {:.1f}
        return value
    return escape(printable(str(value)))


def styled(template: str, *values: object) -> Text:
    """Our own Rich markup ``template`` with its ``{}`` fields filled by untrusted ``values``.

    Example: ``styled("[bold]{}[/]  ({})", edition.title, state)``. The template must be
    a literal we wrote; the values may hold anything and are shown exactly as they are.
    """
    return Text.from_markup(template.format(*(_fill(value) for value in values)), emoji=False)


def counted(count: int, noun: str, plural: str | None = None) -> str:
    """``1 edition``, ``2 editions``, ``0 stories``: a count with its noun in the right number."""
    if count == 1:
        return f"{count} {noun}"
    if plural is None:
        plural = (
            noun[:-1] + "ies" if noun.endswith("y") and noun[-2:-1] not in "aeiou" else noun + "s"
        )
    return f"{count} {plural}"


def text_table(*headers: str, title: str | None = None) -> Table:
    """A table whose cells wrap, and fold a long word (a URL, a path) rather than cut it off:
    at 80 columns the values an operator checks must still be all there."""
    return Table(*(Column(header, overflow="fold") for header in headers), title=title)


class SafeConsole(Console):
    """A console on which a plain string is always data: no markup, no emoji, no controls."""

    def __init__(self, *, stderr: bool = False, width: int | None = None) -> None:
        super().__init__(stderr=stderr, width=width, markup=False, emoji=False, highlight=False)

    def render_str(
        self,
        text: str,
        *,
        style: str | Style = "",
        justify: JustifyMethod | None = None,
        overflow: OverflowMethod | None = None,
        emoji: bool | None = None,
        markup: bool | None = None,
        highlight: bool | None = None,
        highlighter: HighlighterType | None = None,
    ) -> Text:
        # Every str Rich prints passes here (print arguments and table cells alike), so
        # nothing can switch markup back on for text that did not go through styled().
        return super().render_str(
            printable(text), style=style, justify=justify, overflow=overflow, emoji=False,
            markup=False, highlight=highlight, highlighter=highlighter,
        )  # fmt: skip
