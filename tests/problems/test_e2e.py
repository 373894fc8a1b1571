"""Problem management in a real browser, in English and French, on a desktop and a phone:

- an end user starts typing "VPN" in the portal's report form and reads the published
  workaround before submitting anything;
- a problem manager turns the recurring cluster of incidents into a problem in a few clicks,
  and resolves it with its incidents at once.

Screenshots land in ``test-results/screenshots/problems-*.png``.
"""

import re

import pytest
from playwright.sync_api import expect

from cmdb.models import CI, CIClass
from incidents import services as incident_services
from incidents.models import Incident
from problems import services
from problems.models import Problem
from tests.browser import DESKTOP, PHONE

pytestmark = pytest.mark.e2e

WORKAROUND = "Choose the **Corporate (TCP 443)** connection in FortiClient, then connect again."
DRAFT = "Draft: re-enrol the hardware token."
DEVICES = [
    ("en-US", "desktop", DESKTOP),
    ("en-US", "phone", PHONE),
    ("fr-FR", "desktop", DESKTOP),
    ("fr-FR", "phone", PHONE),
]


def fits(page) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= page.viewport_size["width"]


@pytest.fixture
def known_errors(demo_users):
    manager = demo_users["problemmgr"]
    service_class, _ = CIClass.objects.get_or_create(
        name="business_service", defaults={"label": "Business service"}
    )
    vpn = CI.objects.create(name="VPN & remote access", ci_class=service_class)
    services.open_problem(
        actor=manager,
        title="VPN tunnel drops every few minutes",
        workaround=WORKAROUND,
        known_error=True,
        publish_workaround=True,
        services=[vpn],
    )
    services.open_problem(
        actor=manager,
        title="VPN refuses new hardware tokens",
        workaround=DRAFT,
        known_error=True,
    )


@pytest.mark.parametrize(("locale", "device", "viewport"), DEVICES)
def test_an_end_user_typing_vpn_sees_the_published_workaround_before_submitting(
    new_page, login, known_errors, screenshot, locale, device, viewport
):
    page = new_page(viewport=viewport, locale=locale)
    login(page, "enduser")
    page.goto("/portal/report/")
    title = page.locator("#id_title")
    title.press_sequentially("VPN", delay=80)

    suggestions = page.locator("#report-suggestions")
    expect(suggestions).to_contain_text("Corporate (TCP 443)")
    expect(suggestions).to_contain_text("VPN tunnel drops every few minutes")
    expect(suggestions.locator("strong", has_text="Corporate (TCP 443)")).to_be_visible()
    assert "hardware token" not in suggestions.inner_text()
    heading = "Avant d’envoyer" if locale.startswith("fr") else "Before you send it"
    expect(suggestions.locator("h2")).to_contain_text(heading)
    assert fits(page)
    suggestions.scroll_into_view_if_needed()
    screenshot(page, f"problems-report-vpn-{locale[:2]}-{device}")
    assert Incident.objects.count() == 0  # nothing was submitted

    # the known issue opens on its own page, in the portal
    suggestions.locator("a", has_text=re.compile("known issue|problème connu")).click()
    expect(page.locator("h1")).to_have_text("VPN tunnel drops every few minutes")
    assert fits(page)
    screenshot(page, f"problems-known-issue-{locale[:2]}-{device}")


@pytest.fixture
def recurring_cluster(demo_users):
    """Five reports of the same Outlook prompt, worded differently, two of them taken."""
    agent = demo_users["agent"]
    titles = [
        "Outlook keeps asking for my password",
        "Outlook asks for my password again",
        "Outlook keeps prompting for password",
        "Outlook keeps asking for password after reset",
        "Outlook password prompt keeps popping up",
    ]
    incidents = []
    for index, title in enumerate(titles):
        incident = incident_services.open_incident(
            actor=demo_users["enduser"], requester=demo_users["enduser"], title=title
        )
        if index < 2:
            incident_services.take(incident, actor=agent)
        incidents.append(incident)
    incident_services.open_incident(
        actor=demo_users["enduser"], requester=demo_users["enduser"], title="Printer jams"
    )
    return incidents


@pytest.mark.parametrize(
    ("locale", "device", "viewport"), [DEVICES[0], DEVICES[3]], ids=["en-desktop", "fr-phone"]
)
def test_a_problem_manager_turns_the_cluster_into_a_problem_and_resolves_it_with_its_incidents(
    new_page, login, recurring_cluster, screenshot, locale, device, viewport
):
    lang = locale[:2]
    page = new_page(viewport=viewport, locale=locale)
    page.emulate_media(reduced_motion="reduce")  # charts drawn at once, for the screenshots
    login(page, "problemmgr")
    expect(page).to_have_url(re.compile(r"/problems/$"))  # they land on their problems

    page.locator(".desk-queues a[href='/problems/candidates/']").click()
    row = page.locator("[data-kind='title'] tr.candidate", has_text="Outlook")
    expect(row).to_contain_text("5")
    screenshot(page, f"problems-candidates-{lang}-{device}")

    # click 1: "Create a problem"; click 2: open it, its title proposed from the cluster
    row.locator("button[data-bs-target^='#create-']").click()
    form = page.locator("[data-kind='title'] .collapse.show form")
    expect(form.locator("input[name=title]")).to_have_value("Outlook keeps asking for my password")
    form.locator("input[name=title]").fill("Outlook asks for passwords again and again")
    form.locator("button[type=submit]").click()

    page.wait_for_url(re.compile(r"/problems/PRB\d{7}/$"))
    problem = Problem.objects.get()
    assert problem.incidents.count() == 5
    expect(page.locator("#incidents-title")).to_contain_text("5")
    screenshot(page, f"problems-new-from-cluster-{lang}-{device}")

    # through assessment and analysis, then resolved with its incidents in one go
    for state in ("assess", "root_cause_analysis"):
        page.locator(f"form:has(input[name=state][value={state}]) button").click()
        expect(page.locator("[data-testid=problem-state]")).to_have_text(
            {"assess": {"en": "Assess", "fr": "Évaluation"}}.get(
                state, {"en": "Root cause analysis", "fr": "Analyse de la cause première"}
            )[lang]
        )
    page.locator("button[data-bs-target='#resolve-panel']").click()
    panel = page.locator("#resolve-panel")
    expect(panel.locator("#resolve-incidents")).to_be_checked()
    panel.locator("#resolve-root-cause").fill("A stale token cache after the password change.")
    panel.locator("#resolve-code").select_option("fixed")  # no code is chosen for them
    panel.locator("#resolve-notes").fill("Your Outlook token was renewed: restart Outlook once.")
    screenshot(page, f"problems-resolve-with-incidents-{lang}-{device}")
    panel.locator("button[type=submit]").click()

    resolved = {"en": "Resolved", "fr": "Résolu"}[lang]
    expect(page.locator("[data-testid=problem-state]")).to_have_text(resolved)
    expect(page.locator("#ticket .alert-success")).to_contain_text("5")
    states = set(
        Incident.objects.filter(pk__in=[i.pk for i in recurring_cluster]).values_list(
            "state", flat=True
        )
    )
    assert states == {"resolved"}
    assert Incident.objects.get(title="Printer jams").state == "new"
    assert fits(page)
    screenshot(page, f"problems-resolved-{lang}-{device}")
