"""The one error tree of carnews.

Every failure a user can cause or meet (bad config, a dead feed, an unknown
edition, an odd address, a refused SMTP login) is a ``CarnewsError``. Each
carries a one-line message, a hint that says how to fix it, and the context it
happened in. The CLI prints message and hint, never a traceback; anything that
is *not* a ``CarnewsError`` is a bug and keeps its traceback.

    CarnewsError
    ├── ConfigError          bad or missing setting (key, value, expected)
    ├── StorageError         database unreachable or migration failed
    ├── FetchError           a source could not be fetched or parsed
    ├── NotFoundError        no such edition / subscriber / source
    ├── EditionStateError    the review gate said no (e.g. send before approval)
    ├── SubscriberError      an address or import row that cannot be accepted
    ├── WebhookError         a webhook request whose body cannot be read
    ├── FormError            a refused web form (4xx): Csrf, Access, RateLimit, LinkError
    ├── TemplateError        a template that fails to load or render
    └── DeliveryError        the SMTP relay refused or could not be reached
"""

from __future__ import annotations

from collections.abc import Mapping


class CarnewsError(Exception):
    """Base of every expected failure; ``str()`` gives the message."""

    default_hint = "See 'carnews --help'."

    def __init__(
        self, message: str, *, hint: str | None = None, context: Mapping[str, object] | None = None
    ) -> None:
        super().__init__(message)
        self.message = message
        self.hint = hint or self.default_hint
        self.context: dict[str, object] = dict(context or {})


class ConfigError(CarnewsError):
    default_hint = "Check carnews.toml and CARNEWS_* variables; 'carnews config show' prints them."


class StorageError(CarnewsError):
    default_hint = "Check database.url; 'carnews config show' prints the one in use."


class FetchError(CarnewsError):
    default_hint = "The source's other entries and the other sources are unaffected."


class NotFoundError(CarnewsError):
    default_hint = "List what exists with 'carnews edition list' or 'carnews subscribers list'."


class EditionStateError(CarnewsError):
    default_hint = (
        "An edition is sent only after an editor approves it: 'carnews edition approve ID "
        "--by NAME --confirm-checklist' (or on the review page)."
    )


class SubscriberError(CarnewsError):
    default_hint = "Addresses look like name@example.org; diseases are listed in 'carnews --help'."


class WebhookError(CarnewsError):
    default_hint = (
        'Send {"address": "a@example.org", "type": "hard"|"soft"|"complaint", '
        '"diagnostic"?: "...", "id"?: "..."} or a list of those.'
    )


class FormError(CarnewsError):
    """A form the web app refused (bad or missing CSRF token, input too long, ...): a 4xx."""

    default_hint = "Go back, reload the page and send the form again."
    status = 400


class CsrfError(FormError):
    default_hint = (
        "The form had expired or came from another site. Reload the page and send it again."
    )
    status = 403


class AccessError(FormError):
    """An editor's login failed or was locked out, or their role may not do that."""

    default_hint = "Ask an editor (role 'editor') to do it, or to change your role."
    status = 403


class RateLimitError(FormError):
    default_hint = "Please wait an hour and try again."
    status = 429


class LinkError(FormError):
    """A confirmation link that has expired or was already used."""

    default_hint = "Sign up again at /subscribe: a fresh link is mailed to you."
    status = 410


class TemplateError(CarnewsError):
    default_hint = "Fix the template (or remove your override in templates.dir)."


class DeliveryError(CarnewsError):
    default_hint = "Check smtp.host, smtp.port and smtp.security; nothing was marked sent."
