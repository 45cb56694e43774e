"""The tracking API's description in ``/openapi.json`` is valid and tells the truth.

Every documented example is sent to the real app and must be accepted, every
answer it gets must match the documented schema, and every field a schema
requires must be one whose absence the server refuses.
"""

from __future__ import annotations

import copy
from typing import Any

import httpx
import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate

from patron.surfaces.segment.app import ENDPOINTS
from patron.surfaces.segment.openapi import SECURITY_SCHEME
from tests.conftest import WorkspaceKeys
from tests.surfaces.segment.support import assert_invalid, post

pytestmark = pytest.mark.anyio


@pytest.fixture
async def document(api: httpx.AsyncClient) -> dict[str, Any]:
    response = await api.get("/openapi.json")
    assert response.status_code == 200
    body: dict[str, Any] = response.json()
    return body


def schema_of(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    """A validator of ``schema``, whose references point into the document's components."""
    return Draft202012Validator({**schema, "components": document["components"]})


def fresh_example(operation: dict[str, Any]) -> dict[str, Any]:
    example: dict[str, Any] = operation["requestBody"]["content"]["application/json"]["example"]
    return copy.deepcopy(example)


def answer_schema(operation: dict[str, Any], status: int) -> dict[str, Any]:
    schema: dict[str, Any] = operation["responses"][str(status)]["content"]["application/json"][
        "schema"
    ]
    return schema


async def test_the_document_is_valid_openapi(document: dict[str, Any]) -> None:
    validate(document)


async def test_every_tracking_path_is_listed_with_its_authentication(
    document: dict[str, Any],
) -> None:
    assert document["components"]["securitySchemes"][SECURITY_SCHEME]["scheme"] == "basic"
    for name in ENDPOINTS:
        operation = document["paths"][f"/v1/{name}"]["post"]
        assert operation["security"] == [{SECURITY_SCHEME: []}]
        assert set(operation["responses"]) >= {"200", "400", "401", "429", "500", "503"}


@pytest.mark.parametrize("name", ENDPOINTS)
async def test_each_example_is_valid_and_accepted_as_documented(
    document: dict[str, Any], api: httpx.AsyncClient, workspace: WorkspaceKeys, name: str
) -> None:
    operation = document["paths"][f"/v1/{name}"]["post"]
    example = fresh_example(operation)
    schema_of(document, operation["requestBody"]["content"]["application/json"]["schema"]).validate(
        example
    )
    response = await post(api, workspace.write_key, f"/v1/{name}", example)
    assert response.status_code == 200, response.text
    schema_of(document, answer_schema(operation, 200)).validate(response.json())
    # The other documented way to authenticate: the write key in the body.
    with_key = await api.post(f"/v1/{name}", json={**example, "writeKey": workspace.write_key})
    assert with_key.status_code == 200, with_key.text


@pytest.mark.parametrize("name", [name for name, type_ in ENDPOINTS.items() if type_ is not None])
async def test_each_required_field_is_one_the_server_requires(
    document: dict[str, Any], api: httpx.AsyncClient, workspace: WorkspaceKeys, name: str
) -> None:
    operation = document["paths"][f"/v1/{name}"]["post"]
    schema = document["components"]["schemas"][
        operation["requestBody"]["content"]["application/json"]["schema"]["$ref"].split("/")[-1]
    ]
    alternatives = [set(option["required"]) for option in schema.get("anyOf", [])]
    required = [{field} for field in schema.get("required", [])]
    for missing in [*required, set().union(*alternatives)] if alternatives else required:
        example = {k: v for k, v in fresh_example(operation).items() if k not in missing}
        assert not schema_of(document, schema).is_valid(example)
        response = await post(api, workspace.write_key, f"/v1/{name}", example)
        errors = assert_invalid(response)
        assert {error["field"] for error in errors} & missing, (missing, errors)
        schema_of(document, answer_schema(operation, 400)).validate(response.json())


async def test_errors_match_the_documented_schema(
    document: dict[str, Any], api: httpx.AsyncClient, workspace: WorkspaceKeys
) -> None:
    operation = document["paths"]["/v1/batch"]["post"]
    bad_batch = {"batch": [{"type": "track", "userId": "u1"}, {"type": "nope"}]}
    answers = {
        400: await post(api, workspace.write_key, "/v1/batch", bad_batch),
        401: await post(api, "not-a-key", "/v1/batch", fresh_example(operation)),
    }
    for status, response in answers.items():
        assert response.status_code == status
        schema_of(document, answer_schema(operation, status)).validate(response.json())
    assert [error["index"] for error in answers[400].json()["errors"]] == [0, 1]
