"""The ordering journey of issue #13 in a real browser, with screenshots at each step: Emma (an
end user) orders a laptop → Marie, her manager, approves it → Alex, an agent of the
fulfilment team, completes its task → the request is fulfilled and Emma sees it. In English
and in French, on a desktop and on a phone. Screenshots: ``test-results/screenshots/
catalog-<language>-<screen>-<step>.png``."""

import re

import pytest
from playwright.sync_api import expect

from accounts.models import Team, User
from accounts.services import update_user
from catalog import services
from catalog.models import Request
from tests.browser import DESKTOP, PHONE
from tests.e2e.test_accessibility import contrast_problems

pytestmark = pytest.mark.e2e

WORDS = {
    "en": {
        "order": "Order something",
        "hardware": "Hardware",
        "laptop": "Laptop",
        "place": "Place the order",
        "required": "This field is required.",
        "waiting": "Waiting for approval",
        "approve": "Approve",
        "done": "Done",
        "mark_done": "Mark done",
        "assign": "Assign to me",
    },
    "fr": {
        "order": "Commander",
        "hardware": "Matériel",
        "laptop": "Ordinateur portable",
        "place": "Passer la commande",
        "required": "Ce champ est obligatoire.",
        "waiting": "En attente d’approbation",
        "approve": "Approuver",
        "done": "Terminé",
        "mark_done": "Marquer comme terminée",
        "assign": "M’affecter",
    },
}


@pytest.fixture
def laptop(demo_users):
    """The laptop of the demo catalog, approved by the manager of the person it is for."""
    update_user(demo_users["enduser"], {"manager": demo_users["manager"]}, actor=None)
    category = services.save_category(
        None,
        {"name": "Hardware", "icon": "laptop", "translations": {"fr": {"name": "Matériel"}}},
        actor=None,
    )
    return services.save_item(
        None,
        {
            "category": category,
            "name": "Laptop",
            "icon": "laptop",
            "summary": "A new or replacement laptop.",
            "translations": {
                "fr": {"name": "Ordinateur portable", "summary": "Un portable neuf."}
            },
            "approval": "manager",
            "fulfillment_team": Team.objects.get(name="Service Desk"),
            "form": [
                {
                    "name": "model",
                    "label": "Model",
                    "type": "choice",
                    "required": True,
                    "choices": [
                        {"value": "standard", "label": "Standard 14-inch",
                         "translations": {"fr": "Standard 14 pouces"}},
                        {"value": "performance", "label": "Performance 16-inch",
                         "translations": {"fr": "Performance 16 pouces"}},
                    ],
                    "translations": {"fr": {"label": "Modèle"}},
                },
                {"name": "needed_by", "label": "Needed by", "type": "date", "required": True,
                 "translations": {"fr": {"label": "Pour le"}}},
                {"name": "dock", "label": "I also need a docking station", "type": "boolean",
                 "translations": {"fr": {"label": "Il me faut aussi une station d’accueil"}}},
                {"name": "reason", "label": "Why do you need it?", "type": "textarea",
                 "required": True,
                 "translations": {"fr": {"label": "Pourquoi en avez-vous besoin ?"}}},
            ],
        },
        actor=None,
    )  # fmt: skip


@pytest.mark.parametrize(
    ("language", "screen"),
    [("en", "desktop"), ("fr", "desktop"), ("en", "phone"), ("fr", "phone")],
)
def test_order_approve_fulfil_and_see_it_done(
    new_page, login, screenshot, demo_users, laptop, language, screen
):
    words = WORDS[language]
    viewport = PHONE if screen == "phone" else DESKTOP
    User.objects.filter(username__in=["enduser", "manager", "agent"]).update(language=language)
    name = f"catalog-{language}-{screen}"

    # 1. Emma finds the laptop from the portal's home and orders it.
    emma = new_page(viewport=viewport, locale=f"{language}-FR")
    login(emma, "enduser")
    emma.goto("/portal/")
    assert emma.locator("html").get_attribute("lang") == language
    emma.get_by_role("link", name=re.compile(words["order"])).first.click()
    emma.get_by_role("link", name=re.compile(words["hardware"])).click()
    emma.get_by_role("link", name=re.compile(words["laptop"])).click()
    expect(emma.locator("h1")).to_have_text(words["laptop"])
    assert contrast_problems(emma) == []
    screenshot(emma, f"{name}-1-item")

    # The browser checks the form before sending it, in the reader's words.
    emma.get_by_role("button", name=words["place"]).click()
    expect(emma.locator("#id_answer__model_errors")).to_have_text(words["required"])
    expect(emma.locator("#id_answer__model")).to_have_attribute("aria-invalid", "true")
    assert "/portal/order/" in emma.url and not Request.objects.exists()
    assert contrast_problems(emma) == []
    screenshot(emma, f"{name}-2-checked")

    emma.locator("#id_answer__model").select_option("performance")
    emma.locator("#id_answer__needed_by").fill("2027-01-04")
    emma.locator("#id_answer__dock").check()
    emma.locator("#id_answer__reason").fill("My laptop's battery lasts twenty minutes.")
    emma.get_by_role("button", name=words["place"]).click()
    emma.wait_for_url(re.compile(r"/portal/requests/REQ\d{7}/"))
    number = re.search(r"REQ\d{7}", emma.url).group(0)
    expect(emma.get_by_test_id("request-status")).to_contain_text(words["waiting"])
    assert fits(emma, viewport["width"])
    assert contrast_problems(emma) == []
    screenshot(emma, f"{name}-3-ordered")
    request = Request.objects.get(number=number)
    assert request.answers["model"] == "performance" and request.answers["dock"] is True

    # 2. Marie, her manager, approves it from her approvals.
    marie = new_page(viewport=viewport, locale=f"{language}-FR")
    login(marie, "manager")
    marie.goto("/portal/approvals/")
    card = marie.locator(".approval-card", has_text=number)
    expect(card).to_contain_text("2027")
    card.locator("textarea[name=comment]").fill("Enjoy it.")
    assert contrast_problems(marie) == []
    screenshot(marie, f"{name}-4-approval")
    card.get_by_role("button", name=words["approve"]).click()
    marie.wait_for_url(re.compile(number))
    request.refresh_from_db()
    assert request.state == "approved"

    # 3. Alex, of the Service Desk, finds the task in his team's queue and completes it.
    alex = new_page(viewport=viewport, locale=f"{language}-FR")
    login(alex, "agent")
    alex.goto("/desk/tasks/?queue=team")
    task = request.tasks.get()
    row = alex.locator("#task-rows tr", has_text=task.number)
    expect(row).to_contain_text(number)
    assert contrast_problems(alex) == []
    screenshot(alex, f"{name}-5-tasks")
    row.locator("a.ticket-link").click()
    alex.wait_for_url(f"**/desk/tasks/{task.number}/")
    alex.get_by_role("button", name=words["assign"]).click()
    expect(alex.get_by_test_id("task-state")).not_to_have_text(re.compile("^(To do|À faire)$"))
    alex.get_by_role("button", name=words["mark_done"]).click()
    alex.locator("#done-note").fill("Handed over at the desk.")
    alex.locator("#done-panel [type=submit]").click()
    expect(alex.get_by_test_id("task-state")).to_have_text(re.compile("Done|Terminé"))
    assert contrast_problems(alex) == []
    screenshot(alex, f"{name}-6-task-done")
    request.refresh_from_db()
    assert request.state == "fulfilled"

    # 4. Emma sees her request done, every step ticked.
    emma.goto(f"/portal/requests/{number}/")
    expect(emma.get_by_test_id("request-status")).to_contain_text(words["done"])
    expect(emma.locator(".progress-steps li.done")).to_have_count(4)
    assert "Handed over" not in emma.content()  # the task's note is the desk's
    assert fits(emma, viewport["width"])
    assert contrast_problems(emma) == []
    screenshot(emma, f"{name}-7-fulfilled")
    emma.goto("/portal/requests/?tab=closed")
    expect(emma.locator(".request-item", has_text=number)).to_be_visible()
    assert contrast_problems(emma) == []
    emma.goto("/portal/")
    expect(emma.locator(".recent-tickets", has_text=number)).to_be_visible()
    assert contrast_problems(emma) == []


def fits(page, width: int) -> bool:
    return page.evaluate("document.documentElement.scrollWidth") <= width
