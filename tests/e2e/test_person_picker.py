"""An agent logs an incident for a caller, picking the caller by typing part of their name."""

import re

import pytest

from incidents.models import Incident

pytestmark = pytest.mark.e2e


def test_an_agent_picks_the_caller_by_typing(new_page, login, screenshot):
    agent = new_page()
    login(agent, "agent")
    agent.goto("/desk/incidents/new/")
    box = agent.locator("[name=requester]")
    box.press_sequentially("emma laur", delay=30)  # the demo end user, Emma Laurent
    option = agent.locator("#person-options option").first
    option.wait_for(state="attached")
    value = option.get_attribute("value")
    assert re.search(r"#\d+$", value), value
    box.fill(value)  # what choosing the suggestion does
    agent.locator("[name=title]").fill("Caller cannot print")
    screenshot(agent, "person-picker")
    agent.get_by_role("button", name="Log incident").click()
    agent.wait_for_url(re.compile(r"/desk/incidents/INC\d{7}/"))
    incident = Incident.objects.get(title="Caller cannot print")
    assert incident.requester.username == "enduser"
