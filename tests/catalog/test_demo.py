"""The demo catalog follows the issue: laptop, software licence, VPN access, new-starter
onboarding with several tasks, access to a shared folder; requests in every resting state;
Emma (the demo end user) reports to Marie (the demo manager), who approves; French names."""

import pytest
from django.utils import translation

from catalog import demo
from catalog.models import CatalogItem, Request
from itsm.management.commands.seed_demo import Command as SeedDemo

pytestmark = pytest.mark.django_db


@pytest.fixture
def seeded(db):
    seed = SeedDemo()
    seed.seed_teams(seed.seed_people())
    from sla.demo import seed_demo as sla_demo

    sla_demo()
    demo.seed_demo()
    demo.seed_demo()  # idempotent


def test_the_demo_catalog_holds_the_items_of_the_issue(seeded):
    names = set(CatalogItem.objects.values_list("name", flat=True))
    assert {
        "Laptop",
        "Software licence",
        "VPN access",
        "New starter onboarding",
        "Access to a shared folder",
    } <= names
    onboarding = CatalogItem.objects.get(name="New starter onboarding")
    assert len(onboarding.tasks) == 4
    assert len({task["team"] for task in onboarding.tasks}) == 3
    assert CatalogItem.objects.get(name="Software licence").approval == "team"
    assert CatalogItem.objects.filter(approval="none").exists()


def test_every_item_and_question_reads_in_french(seeded):
    with translation.override("fr"):
        for item in CatalogItem.objects.all():
            assert item.display_name != item.name, item.name
            assert item.category.display_name != item.category.name
            for field in item.form:
                assert field["translations"]["fr"]["label"]
        assert CatalogItem.objects.get(name="Laptop").display_name == "Ordinateur portable"


def test_requests_rest_in_every_state(seeded):
    assert set(demo.requests_by_state()) == {
        "awaiting_approval",
        "approved",
        "in_fulfillment",
        "fulfilled",
        "rejected",
        "canceled",
    }
    # "submitted" is the instant of ordering: every history starts there
    assert all(r.events.filter(field="created").exists() for r in Request.objects.all()[:5])


def test_emma_reports_to_marie_who_has_her_laptop_to_approve(seeded):
    emma = Request.objects.filter(requested_for__username="enduser")
    assert emma.first().requested_for.manager.username == "manager"
    laptop = emma.get(item__name="Laptop", state="awaiting_approval")
    assert laptop.approvals.get().approver.username == "manager"
