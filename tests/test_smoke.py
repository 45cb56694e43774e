import httpx
import pytest

from tests.conftest import WorkspaceKeys

pytestmark = pytest.mark.anyio


async def test_track_lands_on_a_profile(api: httpx.AsyncClient, workspace: WorkspaceKeys, app_services) -> None:
    response = await api.post(
        "/v1/track", json={"userId": "u1", "event": "Signed Up"}, auth=(workspace.write_key, "")
    )
    assert response.status_code == 200, response.text
    services = app_services[1]
    view = await services.customers.get(workspace_id=workspace.id, ref="u1")
    assert view.profile.external_id == "u1"
