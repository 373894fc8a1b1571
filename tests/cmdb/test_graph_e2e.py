"""The dependency graph in a real browser, on the demo estate: 50+ CIs drawn, readable, a click
on a CI opens its page, and the same graph is reachable as a list from the keyboard."""

import pytest
from playwright.sync_api import expect

from cmdb.demo import seed_demo
from cmdb.models import CI

pytestmark = pytest.mark.e2e


@pytest.fixture
def demo_estate(demo_users):
    seed_demo()
    return CI.objects.get(name="Active Directory")


def test_a_fifty_node_neighbourhood_is_drawn_and_clickable(
    new_page, login, screenshot, demo_estate
):
    page = new_page(viewport={"width": 1440, "height": 1000})
    login(page, "agent")
    page.goto(f"/cmdb/cis/{demo_estate.pk}/?depth=3")
    graph = page.locator("#ci-graph")
    expect(graph).to_have_attribute("data-ready", "true")
    drawn = int(graph.get_attribute("data-nodes"))
    assert drawn >= 50
    # readable: the drawing is not shrunk below 60 % and uses the page's width
    zoom = page.evaluate("window.cmdbGraph.zoom()")
    assert zoom >= 0.6, zoom
    box = graph.bounding_box()
    assert box["width"] > 1200 and box["height"] >= 300
    impacted = page.evaluate("window.cmdbGraph.nodes('.impacted').map(n => n.data('name'))")
    assert {"Email", "VPN & remote access"} <= set(impacted)
    path = screenshot(page, "cmdb-graph")
    assert path.exists()

    # a click on a CI opens its page
    target = CI.objects.get(name="Keycloak SSO")
    position = page.evaluate(
        "id => { const p = window.cmdbGraph.$id(id).renderedPosition(); return [p.x, p.y]; }",
        str(target.pk),
    )
    page.mouse.click(box["x"] + position[0], box["y"] + position[1])
    page.wait_for_url(f"**/cmdb/cis/{target.pk}/")
    expect(page.locator("h1")).to_contain_text("Keycloak SSO")


def test_the_graph_is_also_a_list_for_keyboard_users(page, login, demo_estate):
    login(page, "agent")
    page.goto(f"/cmdb/cis/{demo_estate.pk}/")
    tab = page.get_by_role("tab", name="As a list")
    tab.focus()
    page.keyboard.press("Enter")
    outline = page.locator("#outline-pane")
    expect(outline).to_be_visible()
    expect(outline.get_by_role("link", name="Keycloak SSO").first).to_be_visible()
    expect(outline).to_contain_text("impacted business service")
