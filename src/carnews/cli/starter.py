"""The starter carnews.toml that ``carnews init`` writes, generated from the settings table."""

from __future__ import annotations

import json

from carnews.settings import SettingSpec, all_specs

# Real feeds for a deployed instance (see docs/sources.md); the demo uses bundled copies.
STARTER_SOURCES = [
    ("pubmed-car-t-autoimmune", "https://pubmed.ncbi.nlm.nih.gov/rss/search/REPLACE-WITH-YOUR-SAVED-SEARCH-KEY/?limit=50", 360, 1.5),
    ("ctgov-lupus-car-t", "https://clinicaltrials.gov/api/rss?cond=Systemic+Lupus+Erythematosus&intr=CAR-T&dateField=StudyFirstPostDate", 720, 1.2),
    ("ctgov-sclerosis-car-t", "https://clinicaltrials.gov/api/rss?cond=Systemic+Sclerosis&intr=CAR-T&dateField=StudyFirstPostDate", 720, 1.2),
    ("ctgov-myositis-car-t", "https://clinicaltrials.gov/api/rss?cond=Myositis&intr=CAR-T&dateField=StudyFirstPostDate", 720, 1.2),
    ("medrxiv-all", "https://connect.medrxiv.org/medrxiv_xml.php?subject=all", 720, 0.8),
    ("frontiers-immunology", "https://www.frontiersin.org/journals/immunology/rss", 720, 1.0),
    ("lancet-rheumatology", "https://www.thelancet.com/rssfeed/lanrhe_online.xml", 720, 1.3),
    ("nature-medicine", "https://www.nature.com/nm.rss", 720, 1.3),
    ("fda-press", "https://www.fda.gov/about-fda/contact-fda/stay-informed/rss-feeds/press-releases/rss.xml", 720, 1.0),
    ("ema-news", "https://www.ema.europa.eu/en/news.xml", 720, 1.0),
    ("google-news-car-t-autoimmune", "https://news.google.com/rss/search?q=%22CAR-T%22+(lupus+OR+scleroderma+OR+myositis+OR+%22myasthenia+gravis%22)+-lymphoma+-myeloma+when:7d&hl=en-US&gl=US&ceid=US:en", 180, 0.6),
]  # fmt: skip


def _toml_value(spec: SettingSpec) -> str:
    value = spec.default
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value))


def starter_config() -> str:
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
        if spec.secret:
            lines.append(f"# {spec.name}: set {spec.env} in the environment")
        else:
            lines.append(f"# {spec.name} = {_toml_value(spec)}")
    lines += [
        "",
        '# Sources: one [[sources]] table each. kind = "feed" reads RSS, Atom, RDF, JSON Feed.',
    ]
    for name, url, minutes, weight in STARTER_SOURCES:
        lines += [
            "",
            "[[sources]]",
            f"name = {json.dumps(name)}",
            f"url = {json.dumps(url)}",
            f"interval_minutes = {minutes}",
            f"weight = {weight}",
        ]
    return "\n".join(lines) + "\n"
