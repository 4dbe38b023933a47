"""Settings, declared once as data and loaded in layers.

Precedence, lowest first: the defaults below → ``carnews.toml`` (path from
``--config`` or ``CARNEWS_CONFIG``) → ``CARNEWS_*`` environment variables →
command-line flags (``--set key=value``). Every field of the section
dataclasses is one setting: its name, type, default and help live in one place,
and the docs, ``carnews init`` and ``carnews config show`` are generated from it.

Secrets (type ``Secret``) come only from the environment (``CARNEWS_SMTP_PASSWORD``)
or a file named by ``CARNEWS_SMTP_PASSWORD_FILE``; a secret written into
carnews.toml is refused, and a secret is never printed.

One module per part: ``base`` (secrets, the declaration), ``sections`` and ``model`` (the
dataclasses), ``specs`` (the table and coercion), ``checks`` (start-up checks, safe display) and
``loader`` (the layers); every name is imported from ``carnews.settings``.
"""

from __future__ import annotations

from carnews.settings.base import (
    CONFIG_ENV,
    DEFAULT_CONFIG_FILE,
    ENV_PREFIX,
    Secret,
    redact,
    setting,
)
from carnews.settings.checks import (
    CRON_SETTINGS,
    LOOPBACK_NAMES,
    effective_values,
    is_loopback,
    replace,
    validate,
)
from carnews.settings.loader import config_path, load_settings
from carnews.settings.model import Settings, SourceKind, SourceSettings
from carnews.settings.sections import (
    CurateSettings,
    DatabaseSettings,
    EditionSettings,
    ExplainSettings,
    FetchSettings,
    MailSettings,
    OpsSettings,
    PublishSettings,
    ReviewSettings,
    ScheduleSettings,
    SiteSettings,
    SmtpSettings,
    TemplateSettings,
    WebSettings,
)
from carnews.settings.specs import WEB_URL_SETTINGS, SettingSpec, all_specs, source_specs

__all__ = [
    "CONFIG_ENV",
    "CRON_SETTINGS",
    "DEFAULT_CONFIG_FILE",
    "ENV_PREFIX",
    "LOOPBACK_NAMES",
    "WEB_URL_SETTINGS",
    "_URL_PASSWORD",
    "CurateSettings",
    "DatabaseSettings",
    "EditionSettings",
    "ExplainSettings",
    "FetchSettings",
    "MailSettings",
    "OpsSettings",
    "PublishSettings",
    "ReviewSettings",
    "ScheduleSettings",
    "Secret",
    "SettingSpec",
    "Settings",
    "SiteSettings",
    "SmtpSettings",
    "SourceKind",
    "SourceSettings",
    "TemplateSettings",
    "WebSettings",
    "all_specs",
    "config_path",
    "effective_values",
    "is_loopback",
    "load_settings",
    "redact",
    "replace",
    "setting",
    "source_specs",
    "validate",
]
