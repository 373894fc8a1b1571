"""What the walkthrough of every role found (issue 18), each fix seen in a real browser: in
English and French, on a phone (390 px) and a laptop (1366 px). Screenshots:
``test-results/screenshots/walkthrough-<item>-<page>-<language>-<width>.png``."""

import re
from urllib.parse import urlparse

import pytest
from playwright.sync_api import expect

from incidents import demo as incident_demo
from tests.browser import PHONE

pytestmark = pytest.mark.e2e

LAPTOP = {"width": 1366, "height": 768}
LANGUAGES = {"en": "en-US", "fr": "fr-FR"}
VIEWS = [(language, viewport) for language in LANGUAGES for viewport in (PHONE, LAPTOP)]


WIDER_THAN_THE_PAGE = """() => {
  const width = document.documentElement.clientWidth;
  return [...document.querySelectorAll("body *")]
    .filter((e) => e.getBoundingClientRect().right > width + 1)
    .slice(0, 5).map((e) => e.tagName + "." + e.className);
}"""


def views(new_page, login, username):
    """One signed-in page per language and width: ``(language, width, page)``."""
    for language, viewport in VIEWS:
        page = new_page(viewport=viewport, locale=LANGUAGES[language])
        login(page, username)
        yield language, viewport["width"], page


def shoot(screenshot, page, item: str, name: str, language: str, width: int) -> None:
    """Saves the page, and checks it fits its width (nothing makes the page scroll sideways)."""
    screenshot(page, f"walkthrough-{item}-{name}-{language}-{width}")
    scroll = page.evaluate("document.documentElement.scrollWidth")
    wide = page.evaluate(WIDER_THAN_THE_PAGE) if scroll > width else []
    assert scroll <= width, f"{page.url} is {scroll} px wide at {width} px: {wide}"


# --- 11. The portal's home puts "waiting for your reply" first ---------------------------------


def test_11_portal_home_shows_what_waits_for_the_end_user_first(
    new_page, login, demo_users, screenshot
):
    incident_demo._for_the_end_user_login(
        {team.name: team for team in demo_users["agent"].teams.all()}, incident_demo.timezone.now()
    )
    heading = {"en": "Waiting for your reply", "fr": "En attente de votre réponse"}
    solved = {"en": "Solved — please confirm", "fr": "Résolu — merci de confirmer"}
    for language, width, page in views(new_page, login, "enduser"):
        page.goto("/portal/")
        first = page.locator("main h2").first
        expect(first).to_have_text(re.compile(heading[language]))
        waiting = page.locator(".waiting-for-you")
        expect(waiting.locator(".ticket-row")).to_have_count(2)
        expect(waiting).to_contain_text("Docking station")
        expect(waiting).to_contain_text(solved[language])
        shoot(screenshot, page, "11", "portal-home", language, width)


# --- 5. Layout that survives real text ---------------------------------------------------------

LONG_WORD = "Supercalifragilistic" * 10  # 200 characters, no break opportunity
LONG_URL = "https://intranet.example.com/" + "a" * 200
LONG_TEXT = "\n\n".join(f"Paragraph {n}: the error came back after the restart." for n in range(60))


@pytest.fixture
def long_incident(demo_users):
    from incidents import services

    incident = services.open_incident(
        actor=demo_users["enduser"],
        requester=demo_users["enduser"],
        title=LONG_WORD,
        description=f"See {LONG_URL}\n\n{LONG_TEXT}",
        urgency=2,
    )
    services.comment(incident, actor=demo_users["agent"], body=f"Look at {LONG_URL}")
    return incident


def test_5_long_words_wrap_long_descriptions_fold_and_the_phone_desk_shows_tickets_first(
    new_page, login, long_incident, screenshot
):
    number = long_incident.number
    pages = {
        "enduser": [
            ("portal-home", "/portal/"),
            ("portal-tickets", "/portal/tickets/"),
            ("portal-ticket", f"/portal/tickets/{number}/"),
        ],
        "agent": [
            ("desk-list", "/desk/?queue=open"),
            ("desk-ticket", f"/desk/incidents/{number}/"),
        ],
    }
    more = {"en": "Show more", "fr": "Afficher plus"}
    for username, visits in pages.items():
        for language, width, page in views(new_page, login, username):
            for name, path in visits:
                page.goto(path)
                if name.endswith("ticket"):
                    expect(page.locator(".markdown-body.folded").first).to_be_visible()
                    description = page.locator(".markdown-body.folded").first.element_handle()
                    assert description.evaluate("e => e.clientHeight < e.scrollHeight")
                    toggle = page.get_by_role("button", name=more[language]).first
                    shoot(screenshot, page, "5", f"{name}-folded", language, width)
                    toggle.click()
                    assert description.evaluate("e => e.clientHeight >= e.scrollHeight")
                if name == "desk-list" and width == PHONE["width"]:
                    # the tickets come first: the filters wait behind one button
                    expect(page.locator(".desk-filters")).to_be_hidden()
                    row = page.locator("#incident-rows tr:not(.pager-row)").first
                    assert row.bounding_box()["y"] < PHONE["height"]
                    page.locator("[data-bs-target='#desk-filters']").click()
                    expect(page.locator(".desk-filters")).to_be_visible()
                shoot(screenshot, page, "5", name, language, width)


# --- 2. One way to show time ---------------------------------------------------------------------


def test_2_times_show_in_the_viewers_zone_with_the_calendars_only_as_a_hint(
    new_page, login, demo_users, screenshot
):
    from accounts.services import update_profile
    from incidents import services
    from tests.sla.conftest import ALWAYS_HOURS, make_calendar, make_policy

    make_policy(make_calendar("Paris office", "Europe/Paris", ALWAYS_HOURS), response=3600)
    alex = demo_users["agent"]
    incident = services.open_incident(
        actor=alex, requester=demo_users["enduser"], title="Printer jams", urgency=2
    )
    services.take(incident, actor=alex)
    hint = {"en": "(calendar: Europe/Paris)", "fr": "(calendrier : Europe/Paris)"}
    for language, width, page in views(new_page, login, "agent"):
        update_profile(alex, {"time_zone": ""}, actor=alex)
        page.goto(incident.desk_url())
        panel = page.locator(".sla-panel")
        expect(panel).to_contain_text(hint[language])
        shoot(screenshot, page, "2", "desk-ticket-server-zone", language, width)
        page.goto("/accounts/time-zone/")
        page.locator("#id_time_zone").select_option("Europe/Paris")
        page.locator(".time-zone-form [type=submit]").click()
        expect(page.locator(".alert-success")).to_be_visible()
        shoot(screenshot, page, "2", "time-zone", language, width)
        page.goto(incident.desk_url())
        expect(panel).not_to_contain_text("Europe/Paris")
        shoot(screenshot, page, "2", "desk-ticket-own-zone", language, width)


# --- 3. Breaching soon means soon ----------------------------------------------------------------


def test_3_breaching_soon_lists_soonest_first_breached_apart_and_every_queue_shows_time_left(
    new_page, login, demo_users, screenshot
):
    from datetime import timedelta

    import time_machine
    from django.utils import timezone

    from incidents import services
    from tests.sla.conftest import ALWAYS_HOURS, make_calendar, make_policy

    make_policy(make_calendar("Always", "UTC", ALWAYS_HOURS), response=20 * 3600)  # 4 h fix
    alex, emma = demo_users["agent"], demo_users["enduser"]
    now = timezone.now()
    opened = {}
    for title, hours_ago in [
        ("Long breached", 9),
        ("Just breached", 5),
        ("Due in an hour", 3),
        ("Due in three hours", 1),
    ]:
        with time_machine.travel(now - timedelta(hours=hours_ago), tick=False):
            opened[title] = services.open_incident(
                actor=alex, requester=emma, title=title, urgency=2, assignee=alex
            )
    soon = {"en": "Breaching soon", "fr": "Dépassement imminent"}
    for language, width, page in views(new_page, login, "agent"):
        page.goto("/desk/?queue=breaching_soon")
        rows = page.locator("#incident-rows tr:not(.pager-row)")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("Due in an hour")
        expect(rows.nth(1)).to_contain_text("Due in three hours")
        expect(rows.nth(0).locator(".sla-due-soon")).to_be_visible()
        expect(page.locator("h1")).to_have_text(soon[language])
        shoot(screenshot, page, "3", "breaching-soon", language, width)
        page.goto("/desk/?queue=breached")
        expect(rows).to_have_count(2)
        expect(rows.nth(0)).to_contain_text("Long breached")
        expect(rows.nth(0).locator(".sla-due-overdue")).to_be_visible()
        shoot(screenshot, page, "3", "breached", language, width)
        page.goto("/desk/?queue=mine")
        expect(page.locator("#incident-rows .sla-due")).to_have_count(4)
        shoot(screenshot, page, "3", "my-work-due-column", language, width)
        page.goto("/desk/requests/?queue=all")
        expect(page.locator("thead")).to_contain_text({"en": "Due", "fr": "Échéance"}[language])


# --- 4. Bulk actions that can't fail silly -----------------------------------------------------


def test_4_the_bulk_menu_offers_only_allowed_moves_and_a_refusal_names_every_ticket(
    new_page, login, demo_users, screenshot
):
    from incidents import services

    alex, emma = demo_users["agent"], demo_users["enduser"]
    refused = {
        "en": "Cannot move from Resolved to Canceled",
        "fr": "Impossible de passer de l’état Résolu à l’état Annulé",
    }
    for language, width, page in views(new_page, login, "agent"):
        first, second = (
            services.open_incident(actor=alex, requester=emma, title=f"Bulk {n}", urgency=2)
            for n in (1, 2)
        )
        solved = services.open_incident(actor=alex, requester=emma, title="Bulk 3", urgency=2)
        services.resolve(solved, actor=alex, code="fixed", notes="Done.")
        page.goto("/desk/?queue=all&sort=-number")
        menu = page.locator("#bulk-state")
        page.locator(f"input[data-number='{solved.number}']").check()
        page.locator(f"input[data-number='{first.number}']").check()
        # new: in progress, canceled…; resolved: closed, in progress → only "in progress" is common
        assert menu.locator("option:not([hidden])").evaluate_all(
            "options => options.map(o => o.value)"
        ) == ["", "in_progress"]
        page.locator(f"input[data-number='{first.number}']").uncheck()
        page.locator(f"input[data-number='{second.number}']").check()
        # a page drawn before the menu learnt the moves (or a forged post) asks for "canceled"
        # for a resolved and a new incident: the service refuses the resolved one by name
        menu.evaluate(
            """menu => {
            const option = menu.querySelector("option[value=canceled]");
            option.disabled = false;
            option.hidden = false;
            menu.value = "canceled";
        }"""
        )
        page.locator("button[value=state]").click()
        alert = page.locator(".alert-danger")
        expect(alert).to_contain_text(solved.number)
        expect(alert).to_contain_text(refused[language])
        expect(alert).not_to_contain_text("resolved")
        second.refresh_from_db()
        assert second.state == "new"  # nothing half-applied
        shoot(screenshot, page, "4", "bulk-refused", language, width)


# --- 6. The phone agent's form -----------------------------------------------------------------


def test_6_new_incident_shows_the_callers_tickets_adds_a_caller_and_marks_errors(
    new_page, login, demo_users, screenshot
):
    from accounts.forms import person_label
    from incidents import services
    from incidents.models import Incident

    alex, emma = demo_users["agent"], demo_users["enduser"]
    services.open_incident(actor=alex, requester=emma, title="VPN drops again", urgency=2)
    words = {
        "en": ("Please correct", "Log incident", "Not in the directory?"),
        "fr": ("Veuillez corriger", "Enregistrer l’incident", "Pas dans l’annuaire ?"),
    }
    for language, width, page in views(new_page, login, "agent"):
        fix, submit, add = words[language]
        page.goto("/desk/incidents/new/")
        page.locator(".new-incident-form [type=submit]").click()
        expect(page.locator("#error-summary")).to_contain_text(fix)
        expect(page.locator("#id_title")).to_have_class(re.compile("is-invalid"))
        expect(page.locator("#id_requester")).to_have_attribute("aria-invalid", "true")
        shoot(screenshot, page, "6", "new-incident-errors", language, width)
        page.locator("#id_requester").fill(person_label(emma))
        page.locator("#id_requester").dispatch_event("change")
        expect(page.locator("#caller-tickets")).to_contain_text("VPN drops again")
        shoot(screenshot, page, "6", "new-incident-caller-tickets", language, width)
        page.locator("#id_requester").fill("")
        page.locator(".new-caller summary").click()
        expect(page.locator(".new-caller summary")).to_contain_text(add)
        page.locator("#id_caller_first_name").fill("Yann")
        page.locator("#id_caller_last_name").fill(f"Le Goff {language}{width}")
        page.locator("#id_title").fill("Walk-in: laptop will not boot")
        shoot(screenshot, page, "6", "new-incident-new-caller", language, width)
        page.locator(".new-incident-form [type=submit]").click()
        page.wait_for_url(re.compile(r"/desk/incidents/INC\d+/$"))
        assert Incident.objects.filter(requester__last_name=f"Le Goff {language}{width}").exists()


# --- 9. Routing follows the service's support group ------------------------------------------


def test_9_a_portal_report_on_office_network_goes_to_the_network_team(
    new_page, login, demo_users, screenshot
):
    from cmdb import demo as cmdb_demo
    from incidents.models import Incident

    cmdb_demo.seed_demo()
    for language, width, page in views(new_page, login, "enduser"):
        title = f"No Wi-Fi in meeting room B ({language}, {width})"
        page.goto("/portal/report/")
        page.locator("#id_title").fill(title)
        page.locator("#id_description").fill("The laptop sees no network since this morning.")
        page.locator("input[name=urgency]").first.check()
        page.locator("#id_service").select_option(label="Office network & Wi-Fi")
        page.locator("form [type=submit]").last.click()
        page.wait_for_url(re.compile(r"/portal/tickets/INC\d+/$"))
        incident = Incident.objects.get(title=title)
        assert incident.assignment_group.name == "Network"
        shoot(screenshot, page, "9", "portal-report-routed", language, width)
    page = new_page(viewport=LAPTOP)
    login(page, "netagent")
    page.goto("/desk/?queue=team")
    expect(page.locator("#incident-rows")).to_contain_text("No Wi-Fi in meeting room B")
    shoot(screenshot, page, "9", "network-team-queue", "en", LAPTOP["width"])


# --- 10. The dashboard's trend follows the chosen period ---------------------------------------


def test_10_the_sla_trend_follows_the_period_and_its_csv_is_named_after_it(
    new_page, login, demo_users, screenshot
):
    from datetime import timedelta

    from django.utils import timezone

    end = timezone.localdate()
    start = end - timedelta(days=6)
    title = {"en": "Daily trend", "fr": "Tendance quotidienne"}
    for language, width, page in views(new_page, login, "manager"):
        page.goto(f"/sla/?from={start.isoformat()}&to={end.isoformat()}")
        expect(page.locator("#title-trend")).to_contain_text(title[language])
        page.locator("#title-trend").locator("xpath=../..").locator("summary").click()
        rows = page.locator("#title-trend").locator("xpath=../..").locator("tbody tr")
        expect(rows).to_have_count(7)
        shoot(screenshot, page, "10", "sla-dashboard-week", language, width)
        with page.expect_download() as download:
            page.locator("a[href*='table=trend']").click()
        assert download.value.suggested_filename == (
            f"sla-trend-{start.isoformat()}-to-{end.isoformat()}.csv"
        )


# --- 8. Honest navigation --------------------------------------------------------------------


def test_8_each_role_lands_where_its_work_is_and_nothing_offers_what_is_not_there(
    new_page, login, demo_users, screenshot
):
    from incidents import services

    network = demo_users["netagent"].teams.get()
    services.open_incident(
        actor=demo_users["agent"],
        requester=demo_users["enduser"],
        title="Switch port dead in room B",
        urgency=2,
        assignment_group=network,
    )
    landing = {"enduser": "/portal/", "netagent": "/desk/", "manager": "/sla/", "cab": "/changes/"}
    for username, path in landing.items():
        for language, width, page in views(new_page, login, username):
            page.goto("/")
            assert urlparse(page.url).path.startswith(path), (username, page.url)
            footer = page.locator(".app-footer")
            expect(footer.locator("a[href='/api/docs/']")).to_have_count(
                0 if username == "enduser" else 1
            )
            expect(page.locator(".tile-unavailable")).to_have_count(0)
            if username == "netagent":  # nothing of their own yet: their team's queue
                expect(page.locator(".desk-queues .active")).to_have_attribute(
                    "href", "?queue=team"
                )
                expect(page.locator("#incident-rows")).to_contain_text("Switch port dead")
            shoot(screenshot, page, "8", f"landing-{username}", language, width)


# --- 7. French everywhere a person reads ---------------------------------------------------------


def test_7_cmdb_labels_activity_lines_and_history_dates_read_in_the_users_language(
    new_page, login, demo_users, screenshot
):
    from cmdb import services as cmdb_services
    from cmdb.classes import ensure_default_classes
    from cmdb.models import CIClass
    from incidents import services

    ensure_default_classes()
    alex = demo_users["agent"]
    ci = cmdb_services.create_ci(
        actor=alex,
        name="Intranet",
        ci_class=CIClass.objects.get(name="business_service"),
        attributes={"service_hours": "24x7", "users": 300},
    )
    cmdb_services.update_ci(ci, {"criticality": 2}, actor=alex)
    incident = services.open_incident(
        actor=alex, requester=demo_users["enduser"], title="Intranet slow", urgency=2
    )
    services.assign(incident, actor=alex, assignee=alex)
    words = {
        "en": ("Business service", "Service hours", "set “assignee” to Alex Martin", "Dec."),
        "fr": (
            "Service métier",
            "Heures de service",
            "a renseigné « affecté à » : Alex Martin",
            "décembre",
        ),
    }
    for language, width, page in views(new_page, login, "agent"):
        klass, attribute, activity, month = words[language]
        page.goto(ci.get_absolute_url())
        expect(page.locator("main")).to_contain_text(klass)
        expect(page.locator("main")).to_contain_text(attribute)
        expect(page.locator(".ci-history")).to_contain_text(month)
        if language == "fr":
            expect(page.locator("main")).not_to_contain_text("Business service")
        shoot(screenshot, page, "7", "ci-page", language, width)
        page.goto(incident.desk_url())
        expect(page.locator(".timeline")).to_contain_text(activity)
        expect(page.locator(".timeline")).not_to_contain_text(" de — ")
        shoot(screenshot, page, "7", "incident-activity", language, width)


# --- 1. Audit truth ----------------------------------------------------------------------------


def test_1_saving_the_details_untouched_records_nothing(new_page, login, demo_users, screenshot):
    from incidents import services

    incident = services.open_incident(
        actor=demo_users["agent"],
        requester=demo_users["enduser"],
        title="Scanner offline",
        description="Line one\nLine two\n\n- a list\n- of items\n",
        urgency=2,
    )
    for language, width, page in views(new_page, login, "agent"):
        before = incident.events.count()
        page.goto(incident.desk_url())
        with page.expect_response(lambda r: "/edit/" in r.url):
            page.locator("form.ticket-fields [type=submit]").click()
        expect(page.locator(".timeline")).not_to_contain_text("description")
        assert incident.events.count() == before
        shoot(screenshot, page, "1", "details-saved-untouched", language, width)
