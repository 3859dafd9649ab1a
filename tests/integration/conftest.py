import pytest

from .stack import Stack


@pytest.fixture(scope="module")
def stack(tmp_path_factory):
    stack = Stack(tmp_path_factory.mktemp("stack"))
    try:
        yield stack.start()
    finally:
        stack.stop()
