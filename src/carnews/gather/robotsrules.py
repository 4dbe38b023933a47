"""robots.txt rules as RFC 9309 reads them: the longest matching rule decides.

``urllib.robotparser`` lets the first matching line decide and knows neither ``*`` nor
``$`` in paths, so "Allow: /" above "Disallow: /private" let carnews read private pages,
and "Disallow: /*.pdf$" was never applied. Here (RFC 9309 §2.2):

- the groups whose user-agent names carnews (case-insensitively) apply, all of them
  combined; only when none does, the ``*`` groups;
- of the rules whose path pattern matches the URL's path and query, the longest
  pattern wins; on a tie between allow and disallow, allow (the least restrictive);
- ``*`` matches any run of characters and a final ``$`` anchors the end;
- an empty ``Disallow:`` is no rule, and /robots.txt itself is always allowed.

Pure: text in, a verdict function out.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from urllib.parse import unquote, urlsplit

__all__ = ["parse_rules"]


@dataclass(frozen=True)
class Rule:
    allow: bool
    pattern: str
    regex: re.Pattern[str]


@dataclass
class _Group:
    agents: list[str] = field(default_factory=list)
    rules: list[Rule] = field(default_factory=list)


def _compile(pattern: str) -> re.Pattern[str]:
    anchored = pattern.endswith("$")
    body = pattern[:-1] if anchored else pattern
    regex = ".*".join(re.escape(part) for part in body.split("*"))
    return re.compile(regex + ("$" if anchored else ""), re.DOTALL)


def _normalise(path: str) -> str:
    # Compare decoded paths so "/a%20b" and "/a b" in a rule or URL mean the same page.
    return unquote(path)


def _groups(text: str) -> list[_Group]:
    groups: list[_Group] = []
    current: _Group | None = None
    for raw in text.splitlines():
        line = raw.split("#", 1)[0].strip()
        key, colon, value = line.partition(":")
        if not colon:
            continue
        key, value = key.strip().lower(), value.strip()
        if key == "user-agent":
            if current is None or current.rules:  # an agent line after rules: a new group
                current = _Group()
                groups.append(current)
            current.agents.append(value.lower())
        elif key in ("allow", "disallow") and current is not None and value:
            pattern = _normalise(value)
            current.rules.append(Rule(key == "allow", pattern, _compile(pattern)))
    return groups


def parse_rules(text: str, agent: str) -> Callable[[str], bool]:
    """URL -> whether ``agent`` may fetch it, under the robots.txt ``text``."""
    groups = _groups(text)
    token = agent.lower()
    chosen = [g for g in groups if token in g.agents] or [g for g in groups if "*" in g.agents]
    rules = [rule for group in chosen for rule in group.rules]

    def allowed(url: str) -> bool:
        parts = urlsplit(url)
        path = _normalise(parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        if path == "/robots.txt":
            return True
        best: Rule | None = None
        for rule in rules:
            if not rule.regex.match(path):
                continue
            longer = best is None or len(rule.pattern) > len(best.pattern)
            tie_allows = best is not None and len(rule.pattern) == len(best.pattern) and rule.allow
            if longer or tie_allows:
                best = rule
        return best is None or best.allow

    return allowed
