"""Builders for catalog tests: a category, items with every field type, one per approval mode,
and people with a manager (rita reports to max)."""

import pytest

from accounts.services import update_user
from catalog import services
from itsm.testing import make_persona, make_team

LAPTOP_FORM = [
    {
        "name": "model",
        "label": "Model",
        "type": "choice",
        "required": True,
        "choices": [
            {"value": "standard", "label": "Standard 14-inch", "translations": {"fr": "Standard"}},
            {"value": "power", "label": "Performance 16-inch"},
        ],
        "translations": {"fr": {"label": "Modèle"}},
    },
    {"name": "needed_by", "label": "Needed by", "type": "date", "required": True},
    {"name": "quantity", "label": "Quantity", "type": "number", "min": 1, "max": 5},
    {"name": "dock", "label": "Docking station", "type": "boolean"},
    {"name": "reason", "label": "Why", "type": "textarea", "help_text": "A few words."},
    {"name": "site", "label": "Office", "type": "text"},
]
GOOD_ANSWERS = {"model": "standard", "needed_by": "2026-12-01", "quantity": 1}


def make_category(name="Hardware", **fields):
    from catalog.models import Category

    existing = Category.objects.filter(name=name).first()
    return existing or services.save_category(None, {"name": name, **fields}, actor=None)


def make_item(name="Laptop", *, category=None, **fields):
    fields.setdefault("fulfillment_team", make_team("Service Desk"))
    fields.setdefault("form", LAPTOP_FORM)
    fields.setdefault("approval", "none")
    values = {"category": category or make_category(), "name": name, **fields}
    return services.save_item(None, values, actor=None)


def order(item, *, by, answers=None, **fields):
    return services.order(
        actor=by, item=item, answers=GOOD_ANSWERS if answers is None else answers, **fields
    )


@pytest.fixture
def desk(alice):
    return alice.teams.get(name="Service Desk")


@pytest.fixture
def managed_rita(rita, max_):
    """rita, whose manager is max."""
    update_user(rita, {"manager": max_}, actor=None)
    rita.refresh_from_db()
    return rita


@pytest.fixture
def laptop(desk):
    return make_item("Laptop", approval="manager", fulfillment_team=desk)


@pytest.fixture
def headset(desk):
    return make_item("Headset", approval="none", fulfillment_team=desk, form=[])


@pytest.fixture
def approvers(db):
    """A team whose members approve software licences: carol (an end user here) and paula."""
    return make_team("Licence approvers", members=[make_persona("carol"), make_persona("paula")])


@pytest.fixture
def licence(desk, approvers):
    return make_item(
        "Software licence",
        approval="team",
        approval_team=approvers,
        fulfillment_team=desk,
        form=[{"name": "software", "label": "Software", "type": "text", "required": True}],
    )


@pytest.fixture
def onboarding(desk, bob):
    network = bob.teams.get(name="Network")
    return make_item(
        "New starter",
        approval="manager",
        fulfillment_team=desk,
        form=[{"name": "who", "label": "Who", "type": "text", "required": True}],
        tasks=[
            {"title": "Create the accounts"},
            {"title": "Prepare the laptop", "description": "Image it."},
            {"title": "Grant VPN access", "team": network.pk},
        ],
    )
