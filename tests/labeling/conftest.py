import pytest
from django.core.cache import cache


@pytest.fixture(autouse=True)
def _empty_cache():
    """Progress totals are cached per project; ids repeat between tests."""
    cache.clear()
    yield
    cache.clear()
