import pytest
from rest_framework.test import APIClient


@pytest.fixture(autouse=True)
def export_dir(tmp_path, settings):
    settings.EXPORT_DIR = tmp_path / "exports"
    return settings.EXPORT_DIR


def client_for(user) -> APIClient:
    client = APIClient()
    client.force_authenticate(user)
    return client
