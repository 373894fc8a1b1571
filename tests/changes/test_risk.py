"""Risk: the questionnaire and the business services impacted through the CMDB, explained."""

import pytest
from django.core.exceptions import ValidationError

from changes import risk, services

from .builders import depends, make_change, make_ci

SAFE = {
    "tested": "yes",
    "backout_tested": "yes",
    "outage": "none",
    "users": "none",
    "experience": "yes",
}


def test_a_rehearsed_change_touching_no_service_is_low(db, chris):
    change = make_change(actor=chris, risk_answers=SAFE)
    assert (change.risk, change.risk_score) == ("low", 0)
    assert change.risk_reasons == []


def test_unanswered_questions_count_a_little_each(db, chris):
    change = make_change(actor=chris)
    assert change.risk_score == len(risk.QUESTIONS)
    assert change.risk == "moderate"
    assert {r["code"] for r in change.risk_reasons} == {"unanswered"}


def test_a_full_outage_of_a_critical_service_reached_through_the_cmdb_is_high(db, chris):
    server = make_ci("srv-exch-01")
    app = make_ci("Exchange", "application")
    email = make_ci("Email", "business_service", criticality=1)
    depends(app, server, "runs_on")
    depends(email, app)
    change = make_change(actor=chris, cis=[server], risk_answers={**SAFE, "outage": "full"})
    assert change.risk == "high"
    assert change.risk_score == 3 + 3
    lines = [line["text"] for line in risk.explain(change.risk_reasons)]
    assert lines == [
        "Does the change need a service outage? Full outage",
        "Impacts the business service “Email” (criticality 1 - Critical)",
    ]


def test_impacting_several_services_adds_a_point(db, chris):
    core = make_ci("sw-core-01", "network_device")
    for name in ("VPN", "CRM", "ERP"):
        depends(make_ci(name, "business_service", criticality=4), core)
    change = make_change(actor=chris, cis=[core], risk_answers=SAFE)
    assert [(r["code"], r["points"]) for r in change.risk_reasons] == [
        ("service", 0),
        ("services", 1),
    ]


def test_the_risk_follows_an_edit_of_the_answers_or_the_cis(db, chris):
    change = make_change(actor=chris, risk_answers=SAFE)
    services.update_change(
        change, {"risk_answers": {**SAFE, "tested": "no", "users": 800}}, actor=chris
    )
    assert (change.risk, change.risk_score) == ("moderate", 2 + 3)
    assert change.risk_answers["users"] == "all"
    critical = make_ci("Payments", "business_service", criticality=1)
    services.update_change(change, {"cis": [critical]}, actor=chris)
    assert change.risk == "high"


@pytest.mark.parametrize(
    "answers", [{"colour": "blue"}, {"outage": "sometimes"}, ["tested"], {"users": -3.5}]
)
def test_answers_outside_the_questionnaire_are_refused(db, chris, answers):
    with pytest.raises(ValidationError) as refused:
        make_change(actor=chris, risk_answers=answers)
    assert list(refused.value.message_dict) == ["risk_answers"]


def test_yes_no_questions_take_booleans(db):
    assert risk.clean_answers({"tested": True, "experience": False}) == {
        "tested": "yes",
        "experience": "no",
    }
