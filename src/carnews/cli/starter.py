"""The starter carnews.toml that ``carnews init`` writes, generated from the settings table."""

from __future__ import annotations

import json
from collections.abc import Mapping

from carnews.settings import SettingSpec, all_specs

# Real sources for a deployed instance (URL formats in shared/domain.md); the demo uses
# bundled copies. Each row: name, kind, url, query, interval in minutes, weight.
CAR_T_TERMS = (
    '("CAR T"[tiab] OR "CAR-T"[tiab] OR "chimeric antigen receptor"[tiab] OR "CAR-NK"[tiab] '
    'OR "T-cell engager"[tiab] OR teclistamab[tiab] OR blinatumomab[tiab])'
)
DISEASE_TERMS = (
    '(lupus[tiab] OR "systemic sclerosis"[tiab] OR scleroderma[tiab] OR myositis[tiab] '
    'OR dermatomyositis[tiab] OR antisynthetase[tiab] OR "rheumatoid arthritis"[tiab] '
    'OR "myasthenia gravis"[tiab] OR "multiple sclerosis"[tiab] OR NMOSD[tiab] '
    "OR vasculitis[tiab] OR ANCA[tiab] OR autoimmun*[tiab])"
)
EUROPE_PMC_QUERY = (
    '("CAR T" OR "CAR-T" OR "chimeric antigen receptor") AND (lupus OR "systemic sclerosis" '
    'OR myositis OR "rheumatoid arthritis" OR "myasthenia gravis" OR "multiple sclerosis" '
    "OR vasculitis OR autoimmune)"
)
CT_GOV = "https://clinicaltrials.gov/api/v2/studies?query.intr=CAR-T&query.cond="
TRIAL_CONDITIONS = [
    ("lupus", "Systemic+Lupus+Erythematosus"),
    ("systemic-sclerosis", "Systemic+Sclerosis"),
    ("myositis", "Myositis"),
    ("rheumatoid-arthritis", "Rheumatoid+Arthritis"),
    ("myasthenia-gravis", "Myasthenia+Gravis"),
    ("multiple-sclerosis", "Multiple+Sclerosis"),
    ("vasculitis", "ANCA+Associated+Vasculitis"),
    ("nmosd", "Neuromyelitis+Optica"),
]
STARTER_SOURCES = [
    ("pubmed-car-t-autoimmune", "pubmed", "https://eutils.ncbi.nlm.nih.gov/entrez/eutils/", f"{CAR_T_TERMS} AND {DISEASE_TERMS}", 360, 1.5),
    ("europepmc-car-t-autoimmune", "europepmc", "https://www.ebi.ac.uk/europepmc/webservices/rest/search", EUROPE_PMC_QUERY, 720, 1.2),
    *[(f"trials-{name}", "clinicaltrials", CT_GOV + condition, "", 720, 1.2) for name, condition in TRIAL_CONDITIONS],
    ("medrxiv-all", "feed", "https://connect.medrxiv.org/medrxiv_xml.php?subject=all", "", 720, 0.8),
    ("biorxiv-immunology", "feed", "https://connect.biorxiv.org/biorxiv_xml.php?subject=immunology", "", 720, 0.6),
    ("frontiers-immunology", "feed", "https://www.frontiersin.org/journals/immunology/rss", "", 720, 1.0),
    ("lancet-rheumatology", "feed", "https://www.thelancet.com/rssfeed/lanrhe_online.xml", "", 720, 1.3),
    ("nature-medicine", "feed", "https://www.nature.com/nm.rss", "", 720, 1.3),
    ("nejm-original-articles", "feed", "https://www.nejm.org/action/showFeed?jc=nejmoa&type=etoc&feed=rss", "", 720, 1.3),
    ("annals-rheumatic-diseases", "feed", "https://ard.bmj.com/rss/ahead.xml", "", 720, 1.2),
    ("arthritis-rheumatology", "feed", "https://onlinelibrary.wiley.com/feed/23265205/most-recent", "", 720, 1.2),
    ("fda-press", "feed", "https://www.fda.gov/about-fda/contact-fda/stay-informed/rss-feeds/press-releases/rss.xml", "", 720, 1.0),
    ("ema-news", "feed", "https://www.ema.europa.eu/en/news.xml", "", 720, 1.0),
    ("google-news-car-t-autoimmune", "feed", "https://news.google.com/rss/search?q=(%22CAR-T%22+OR+%22CAR+T%22)+(lupus+OR+scleroderma+OR+myositis+OR+%22myasthenia+gravis%22+OR+%22multiple+sclerosis%22+OR+vasculitis)+-lymphoma+-myeloma+when:7d&hl=en-US&gl=US&ceid=US:en", "", 180, 0.6),
]  # fmt: skip


def _toml_value(spec: SettingSpec) -> str:
    value = spec.default
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, tuple):
        return json.dumps(list(value))
    return json.dumps(str(value))


def starter_config(values: Mapping[str, str] | None = None) -> str:
    """The starter file; ``values`` (by setting key) are written out, the rest commented."""
    given = values or {}
    lines = [
        "# carnews settings. Every line is optional: a commented line shows the default.",
        "# Precedence: defaults < this file < CARNEWS_* environment < --set KEY=VALUE.",
        "# Secrets (smtp.password, site.secret_key) are read only from the environment,",
        "# e.g. CARNEWS_SMTP_PASSWORD or CARNEWS_SMTP_PASSWORD_FILE=/run/secrets/smtp.",
    ]
    section = ""
    for spec in all_specs():
        if spec.section != section:
            section = spec.section
            lines += ["", f"[{section}]"]
        lines.append(f"# {spec.help}")
        if spec.key in given:
            lines.append(f"{spec.name} = {json.dumps(given[spec.key])}")
        elif spec.secret:
            lines.append(f"# {spec.name}: set {spec.env} in the environment")
        else:
            lines.append(f"# {spec.name} = {_toml_value(spec)}")
    lines += [
        "",
        "# Sources: one [[sources]] table each. kind: feed (RSS, Atom, RDF, JSON Feed),",
        "# pubmed and europepmc (url = API endpoint, query = search), clinicaltrials (API v2 URL).",
        "# Entries linking to fetch.blocked_domains (content farms) are dropped. A site about",
        '# one disease can say so: topic_diseases = ["lupus"] (see docs/relevance.md).',
    ]
    for name, kind, url, query, minutes, weight in STARTER_SOURCES:
        lines += ["", "[[sources]]", f"name = {json.dumps(name)}", f"kind = {json.dumps(kind)}"]
        lines.append(f"url = {json.dumps(url)}")
        if query:
            lines.append(f"query = {json.dumps(query)}")
        lines += [f"interval_minutes = {minutes}", f"weight = {weight}"]
    return "\n".join(lines) + "\n"


def settings_markdown() -> str:
    """docs/settings.md, generated from the settings table so it cannot drift."""
    from carnews.settings import source_specs

    lines = [
        "# Settings",
        "",
        "Generated by `carnews config docs > docs/settings.md`; do not edit by hand.",
        "",
        "Precedence, lowest first: defaults → `carnews.toml` (path from `--config` or",
        "`CARNEWS_CONFIG`) → `CARNEWS_*` environment → `--set KEY=VALUE`. Secrets are read",
        "only from the environment, or from a file named by the variable plus `_FILE`.",
        "",
        "| setting | environment | type | default | meaning |",
        "|---|---|---|---|---|",
    ]
    for spec in all_specs():
        default = "(secret)" if spec.secret else f"`{_toml_value(spec)}`"
        lines.append(
            f"| `{spec.key}` | `{spec.env}` | {spec.describe_type()} | {default} | {spec.help} |"
        )
    lines += [
        "",
        "## Schedule",
        "",
        "`carnews serve --scheduler` runs its jobs at the `schedule.*_cron` times: crontab",
        "expressions of five fields (minute hour day-of-month month day-of-week) in",
        "`schedule.timezone`. Day-of-week 0 or 7 is Sunday, 1 Monday (names such as `mon-fri`",
        "work too). Unlike crontab, when both day-of-month and day-of-week are restricted a",
        "job runs only on days that match both. A bad expression stops start-up and names",
        "the setting. See docs/operations.md for what the jobs log and how health is judged.",
        "",
        "## Sources",
        "",
        "Each source is a `[[sources]]` table in carnews.toml:",
        "",
        "| key | type | default | meaning |",
        "|---|---|---|---|",
    ]
    for spec in source_specs():
        lines.append(
            f"| `{spec.name}` | {spec.describe_type()} | `{_toml_value(spec)}` | {spec.help} |"
        )
    return "\n".join(lines) + "\n"
