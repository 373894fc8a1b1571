"""The reports in a real browser: a manager reads the charts on a phone, and the service
review prints on A4 (Chromium's own PDF printer, as a person printing it would get)."""

import re
from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone
from playwright.sync_api import expect

from cmdb.models import CI, CIClass
from incidents import services as incidents
from itsm.testing import make_incident
from tests.browser import DESKTOP, PHONE, SCREENSHOTS

pytestmark = pytest.mark.e2e


def fits(page) -> bool:
    """The report itself (the main region) needs no sideways scrolling."""
    return page.evaluate(
        "(() => { const m = document.getElementById('main');"
        " return m.scrollWidth <= m.clientWidth && m.getBoundingClientRect().right"
        " <= window.innerWidth; })()"
    )


@pytest.fixture
def month(demo_users):
    """A month of the E-mail service: incidents opened and resolved over four weeks, two
    overlapping major incidents, ratings."""
    agent, rita = demo_users["agent"], demo_users["enduser"]
    service_class, _ = CIClass.objects.get_or_create(
        name="business_service", defaults={"label": "Business service"}
    )
    service = CI.objects.create(name="E-mail", ci_class=service_class)
    now = timezone.now().replace(minute=0, second=0, microsecond=0)
    for day in range(1, 26):
        opened = now - timedelta(days=day, hours=3)
        with time_machine.travel(opened, tick=False):
            incident = make_incident(
                actor=agent,
                requester=rita,
                service=service,
                major=day in (3, 4),
                impact=1 + day % 3,
                urgency=1 + day % 2,
                title=f"Mail delayed, day {day}",
            )
        if day % 4:
            with time_machine.travel(opened + timedelta(hours=day % 7 + 1), tick=False):
                incidents.resolve(incident, actor=agent, code="fixed", notes="Queue flushed.")
                incidents.rate(incident, actor=rita, score=1 + day % 5)
    return service


@pytest.mark.parametrize(("device", "viewport"), [("desktop", DESKTOP), ("phone", PHONE)])
def test_a_manager_reads_the_reports_charts(month, new_page, login, screenshot, device, viewport):
    page = new_page(viewport=viewport)
    login(page, "manager")
    page.goto("/reports/")
    expect(page.get_by_role("heading", name="Reports", exact=True)).to_be_visible()
    expect(page.get_by_test_id("resolved")).to_have_text(re.compile(r"^\d+$"))
    for chart in ("trend", "backlog", "csat"):
        expect(page.locator(f"canvas[data-chart={chart}]")).to_be_visible()
    assert fits(page), "the report scrolls sideways"
    screenshot(page, f"reports-{device}")


def test_the_service_review_prints_on_a4(month, new_page, login, screenshot):
    page = new_page()
    login(page, "manager")
    page.goto(f"/reports/services/{month.pk}/")
    expect(page.get_by_test_id("availability")).to_have_text(re.compile(r"^\d+\.\d{3} %$"))
    screenshot(page, "reports-service-review")
    page.emulate_media(media="print")
    page.evaluate("window.dispatchEvent(new Event('beforeprint'))")  # as the browser's Print
    expect(page.locator(".app-header")).to_be_hidden()
    expect(page.locator(".report-filters")).to_be_hidden()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    pdf = page.pdf(
        format="A4", print_background=True, path=SCREENSHOTS / "reports-service-review.pdf"
    )
    pages = len(re.findall(rb"/Type\s*/Page[^s]", pdf))
    assert 1 <= pages <= 2, f"the review prints on {pages} A4 pages"
