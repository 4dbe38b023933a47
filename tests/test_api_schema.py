"""schemathesis against the admin API's OpenAPI schema, in process against the ASGI app.

Every operation gets generated requests, valid and hostile (long strings, control
characters, odd numbers): no answer may be a 5xx or differ from what the schema documents.
The examples per operation are bounded so the run stays well under a minute.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from carnews.settings import Secret, Settings, WebSettings, replace
from carnews.web.app import create_app

TOKEN = "schemathesis-token"
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance,
          response_headers_conformance, response_schema_conformance]  # fmt: skip


def app_schema(folder: Path) -> Any:
    base = Settings()
    on = replace(
        base,
        database=replace(base.database, url=f"sqlite+aiosqlite:///{folder / 'carnews.db'}"),
        site=replace(base.site, base_url="http://news.test", secret_key=Secret("k")),
        web=WebSettings(api_docs=True, api_token=Secret(TOKEN)),
    )
    # The app opens its own database in schemathesis's event loop (its lifespan runs there).
    return schemathesis.openapi.from_asgi("/openapi.json", create_app(on))


def api_operations(schema: Any) -> list[Any]:
    found = [result.ok() for result in schema.get_all_operations()]
    return [op for op in found if op.path.startswith("/api/")]


def test_the_api_answers_as_its_schema_says(tmp_path: Path) -> None:
    operations = api_operations(app_schema(tmp_path))
    assert {f"{op.method.upper()} {op.path}" for op in operations} == {
        "GET /api/subscribers", "POST /api/subscribers", "GET /api/subscribers/{subscriber_id}",
        "PATCH /api/subscribers/{subscriber_id}", "DELETE /api/subscribers/{subscriber_id}",
        "GET /api/imports",
    }  # fmt: skip
    for operation in operations:

        @given(case=operation.as_strategy())
        @settings(max_examples=10, deadline=None, database=None,
                  suppress_health_check=list(HealthCheck))  # fmt: skip
        def answers_as_documented(case: Any) -> None:
            case.call_and_validate(headers={"Authorization": f"Bearer {TOKEN}"}, checks=CHECKS)

        answers_as_documented()
