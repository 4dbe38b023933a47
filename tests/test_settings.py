"""Settings: precedence of the four layers, and errors that name key, value and expectation."""

from __future__ import annotations

from pathlib import Path

import pytest

from carnews.cli.starter import starter_config
from carnews.errors import ConfigError
from carnews.settings import Secret, all_specs, effective_values, load_settings


def write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def test_defaults_need_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    settings = load_settings(None, environ={})
    assert settings.smtp.port == 25
    assert settings.database.url.startswith("sqlite+aiosqlite:///subscribers/")
    assert settings.sources == ()


def test_file_then_environment_then_flags(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", "[smtp]\nport = 2525\nhost = 'relay.file'\n")
    from_file = load_settings(config, environ={})
    assert (from_file.smtp.host, from_file.smtp.port) == ("relay.file", 2525)

    env = {"CARNEWS_SMTP_PORT": "587"}
    from_env = load_settings(config, environ=env)
    assert (from_env.smtp.host, from_env.smtp.port) == ("relay.file", 587)

    from_flag = load_settings(config, environ=env, overrides={"smtp.port": "465"})
    assert from_flag.smtp.port == 465


def test_config_path_from_environment(tmp_path: Path) -> None:
    config = write(tmp_path / "other.toml", "[site]\ntitle = 'Lupus CAR-T Weekly'\n")
    settings = load_settings(None, environ={"CARNEWS_CONFIG": str(config)})
    assert settings.site.title == "Lupus CAR-T Weekly"


@pytest.mark.parametrize(
    ("toml", "fragments"),
    [
        ("[smtp]\nport = 'many'\n", ["smtp.port", "'many'", "a whole number"]),
        ("[smtp]\nport = 0\n", ["smtp.port", "at least 1"]),
        ("[smtp]\nport = 70000\n", ["smtp.port", "70000", "at most 65535"]),
        (
            '[mail]\nreply_to = "desk@example.org\\nBcc: all@example.org"\n',
            ["mail.reply_to", "one line"],
        ),
        (
            "[smtp]\nhost = 'relay.example.org'\nusername = 'news'\n",
            ["smtp.username", "smtp.security = 'none'", "in clear"],
        ),
        (
            "[smtp]\nsecurity = 'ssl'\n",
            ["smtp.security", "'ssl'", "one of 'none', 'starttls', 'tls'"],
        ),
        ("[smtp]\nhots = 'x'\n", ["unknown setting smtp.hots"]),
        ("[smpt]\nhost = 'x'\n", ["unknown section [smpt]"]),
        ("[fetch]\nconcurrency = true\n", ["fetch.concurrency", "True", "a whole number"]),
        ("[smtp]\npassword = 'hunter2'\n", ["smtp.password is a secret"]),
        ("[smtp\nport = 1\n", ["not valid TOML"]),
        ("[[sources]]\nname = 'a'\n", ["sources[0]", "no url"]),
        ("[[sources]]\nname = 'a'\nurl = 'ftp://x'\n", ["sources[0].url", "http"]),
        (
            "[site]\nbase_url = 'javascript:alert(1)//'\n",
            ["site.base_url", "'javascript:alert(1)//'", "http:// or https:// URL"],
        ),
        ("[site]\nbase_url = 'news.example.org'\n", ["site.base_url", "https:// URL"]),
        ("[[sources]]\nname = 'a'\nurl = 'http://x'\ncolour = 1\n", ["unknown keys: colour"]),
        (
            "[[sources]]\nname = 'a'\nurl = 'http://x'\n[[sources]]\nname = 'a'\nurl = 'http://y'\n",
            ["unique", "a"],
        ),
    ],
)
def test_bad_file_values_name_key_value_and_expectation(
    tmp_path: Path, toml: str, fragments: list[str]
) -> None:
    config = write(tmp_path / "bad.toml", toml)
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    for fragment in fragments:
        assert fragment in caught.value.message


@pytest.mark.parametrize(
    ("overrides", "fragments"),
    [
        ({"smtp.port": "70000"}, ["smtp.port", "'70000'", "at most 65535"]),
        ({"web.port": "65536"}, ["web.port", "at most 65535"]),
        ({"smtp.max_per_second": "nan"}, ["smtp.max_per_second", "'nan'", "finite"]),
        ({"fetch.timeout_seconds": "inf"}, ["fetch.timeout_seconds", "finite"]),
        ({"curate.threshold": "-inf"}, ["curate.threshold", "finite"]),
        ({"mail.reply_to": "a@example.org\r\nBcc: b@example.org"}, ["mail.reply_to", "line break"]),
        ({"mail.list_id": "news.example\nX-Evil: 1"}, ["mail.list_id", "line break"]),
        ({"mail.from_address": "a@example.org\n"}, ["mail.from_address", "line break"]),
        ({"mail.from_name": "News\u2028Bcc: x"}, ["mail.from_name", "line break"]),
        ({"fetch.blocked_domains": "a.example,b\x00.example"}, ["fetch.blocked_domains"]),
    ],
)
def test_values_out_of_range_or_over_several_lines_are_refused(
    overrides: dict[str, str], fragments: list[str]
) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, environ={}, overrides=overrides)
    for fragment in fragments:
        assert fragment in caught.value.message


def test_nan_and_a_line_break_in_the_file_are_refused_too(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", "[smtp]\nmax_per_second = nan\n")
    with pytest.raises(ConfigError, match="finite"):
        load_settings(config, environ={})
    config = write(tmp_path / "c.toml", '[mail]\nreply_to = """a@example.org\nBcc: b"""\n')
    with pytest.raises(ConfigError, match="line break"):
        load_settings(config, environ={})


def test_a_secret_given_with_set_is_refused_and_points_at_the_environment() -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, environ={}, overrides={"site.secret_key": "k"})
    assert "secret" in caught.value.message
    assert "CARNEWS_SITE_SECRET_KEY" in caught.value.hint


def test_a_byte_order_mark_is_accepted(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_bytes(b"\xef\xbb\xbf[smtp]\nport = 2525\n")
    assert load_settings(config, environ={}).smtp.port == 2525


def test_a_latin1_file_or_a_folder_is_a_clear_error_naming_it(tmp_path: Path) -> None:
    config = tmp_path / "c.toml"
    config.write_bytes("[site]\n\ntitle = 'Caf\u00e9 CAR-T'\n".encode("latin-1"))
    with pytest.raises(ConfigError) as caught:
        load_settings(config, environ={})
    assert str(config) in caught.value.message and "line 3" in caught.value.message
    assert "save it as UTF-8" in caught.value.hint
    with pytest.raises(ConfigError) as caught:
        load_settings(tmp_path, environ={})
    assert str(tmp_path) in caught.value.message and "cannot be read" in caught.value.message


def test_bad_environment_value_says_where_it_came_from(tmp_path: Path) -> None:
    with pytest.raises(ConfigError) as caught:
        load_settings(None, environ={"CARNEWS_FETCH_TIMEOUT_SECONDS": "soon"})
    assert "fetch.timeout_seconds = 'soon' (from environment CARNEWS_FETCH_TIMEOUT_SECONDS)" in (
        caught.value.message
    )


@pytest.mark.parametrize("host", ["localhost", "127.0.0.1", "::1", "[::1]"])
def test_a_login_without_tls_is_allowed_only_to_a_relay_on_this_machine(host: str) -> None:
    settings = load_settings(
        None, environ={"CARNEWS_SMTP_HOST": host, "CARNEWS_SMTP_USERNAME": "news"}
    )
    assert settings.smtp.username == "news"
    with pytest.raises(ConfigError, match="in clear") as caught:
        load_settings(None, environ={"CARNEWS_SMTP_HOST": "10.0.0.5",
                                     "CARNEWS_SMTP_USERNAME": "news"})  # fmt: skip
    assert "starttls" in caught.value.hint


def test_a_long_search_query_may_span_lines(tmp_path: Path) -> None:
    config = write(tmp_path / "c.toml", "[[sources]]\nname = 'p'\nurl = 'https://x.test/'\n"
                   "kind = 'pubmed'\nquery = \"\"\"lupus\nAND CAR-T\"\"\"\n")  # fmt: skip
    assert load_settings(config, environ={}).sources[0].query == "lupus\nAND CAR-T"


def test_unknown_flag_setting_is_refused() -> None:
    with pytest.raises(ConfigError, match=r"unknown setting smtp\.prot"):
        load_settings(None, environ={}, overrides={"smtp.prot": "1"})


def test_missing_config_file_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError, match="does not exist"):
        load_settings(tmp_path / "nope.toml", environ={})


def test_secrets_from_environment_or_file_and_never_printed(tmp_path: Path) -> None:
    secret_file = write(tmp_path / "pw", "s3cret-from-file\n")
    settings = load_settings(None, environ={"CARNEWS_SMTP_PASSWORD_FILE": str(secret_file),
                                            "CARNEWS_SITE_SECRET_KEY": "signing"})  # fmt: skip
    assert settings.smtp.password.reveal() == "s3cret-from-file"
    assert settings.site.secret_key == Secret("signing")
    printed = " ".join(value for _, value in effective_values(settings))
    assert "s3cret" not in printed and "signing" not in printed
    assert "********" in printed
    assert "s3cret" not in repr(settings)


def test_sources_are_read_with_defaults(tmp_path: Path) -> None:
    config = write(
        tmp_path / "c.toml",
        "[[sources]]\nname = 'pubmed'\nurl = 'https://x.test/rss'\nweight = 1.5\n",
    )
    (source,) = load_settings(config, environ={}).sources
    assert (source.name, source.kind, source.interval_minutes, source.weight) == (
        "pubmed", "feed", 60, 1.5,
    )  # fmt: skip


def test_starter_file_loads_and_mentions_every_setting(tmp_path: Path) -> None:
    text = starter_config()
    settings = load_settings(write(tmp_path / "carnews.toml", text), environ={})
    assert len(settings.sources) >= 8
    for spec in all_specs():
        assert spec.name in text, spec.key


def test_every_setting_is_documented() -> None:
    documented = (Path(__file__).parents[1] / "docs" / "settings.md").read_text()
    for spec in all_specs():
        assert f"`{spec.key}`" in documented, f"{spec.key} missing from docs/settings.md"
        assert spec.env in documented


def test_settings_doc_is_generated_from_the_table() -> None:
    from carnews.cli.starter import settings_markdown

    documented = (Path(__file__).parents[1] / "docs" / "settings.md").read_text()
    assert documented == settings_markdown(), "run: carnews config docs > docs/settings.md"
