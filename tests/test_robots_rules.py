"""robots.txt read as RFC 9309 reads it: longest match wins, wildcards, agent groups."""

from __future__ import annotations

import pytest

from carnews.gather.robotsrules import parse_rules

SITE = "https://news.example"


def may(text: str, path: str, agent: str = "carnews") -> bool:
    return parse_rules(text, agent)(SITE + path)


def test_the_longest_rule_wins_not_the_first() -> None:
    text = "User-agent: *\nAllow: /\nDisallow: /private\n"
    assert may(text, "/news/1")
    assert not may(text, "/private/page")  # first-match readers allowed this


def test_on_a_tie_allow_wins() -> None:
    text = "User-agent: *\nDisallow: /page\nAllow: /page\n"
    assert may(text, "/page")


@pytest.mark.parametrize(
    ("path", "allowed"),
    [("/paper.pdf", False), ("/paper.pdf?x=1", True), ("/a/b/paper.pdf", False), ("/p", True)],
)
def test_wildcards_and_end_anchors(path: str, allowed: bool) -> None:
    assert may("User-agent: *\nDisallow: /*.pdf$\n", path) is allowed


def test_a_group_naming_carnews_replaces_the_star_group() -> None:
    text = (
        "User-agent: *\nDisallow: /\n\n"
        "User-agent: Googlebot\nUser-agent: CarNews\nDisallow: /drafts\n"
    )
    assert may(text, "/article")
    assert not may(text, "/drafts/1")
    assert not may(text, "/article", agent="otherbot")


def test_empty_disallow_comments_and_robots_txt_itself() -> None:
    text = "# house rules\nUser-agent: * # everyone\nDisallow:\n"
    assert may(text, "/anything")
    assert may("User-agent: *\nDisallow: /\n", "/robots.txt")


def test_percent_encoding_is_compared_decoded() -> None:
    assert not may("User-agent: *\nDisallow: /a%20b\n", "/a b/c")
    assert not may("User-agent: *\nDisallow: /a b\n", "/a%20b/c")
