import pytest

from itsm.testing import make_persona

from .builders import cab_members, make_cab


@pytest.fixture
def chris(db):
    return make_persona("chris")  # change manager


@pytest.fixture
def cab(db):
    """The CAB team: carol, dina and omar (policy ``all``)."""
    return make_cab()


@pytest.fixture
def members(cab):
    return cab_members()
