"""Conflicts (SPEC §6): overlapping changes on the same or dependent CIs, blackout windows
(global or per CI); a blackout refuses a normal change, an emergency one overrides it."""

from datetime import timedelta

import pytest

from changes import services
from changes.models import ChangeConflict, ChangeEvent
from changes.workflow import State

from .builders import depends, make_change, make_ci, submitted, window


def conflicts_of(change):
    return sorted(
        (c.kind, c.other.number if c.other_id else c.blackout.name, c.dependent)
        for c in ChangeConflict.objects.filter(change=change).select_related("other", "blackout")
    )


def test_two_changes_on_the_same_ci_in_overlapping_windows_conflict_both_ways(db, chris):
    server = make_ci("srv-db-01")
    first = make_change(actor=chris, cis=[server], title="Patch the database server")
    start, end = first.planned_start, first.planned_end
    second = make_change(
        actor=chris,
        cis=[server],
        title="Add memory",
        planned_start=start + timedelta(hours=1),
        planned_end=end + timedelta(hours=1),
    )
    assert conflicts_of(second) == [("change", first.number, False)]
    assert conflicts_of(first) == [("change", second.number, False)]
    row = ChangeConflict.objects.get(change=second)
    assert row.via == [
        {
            "ci": server.pk,
            "ci_name": "srv-db-01",
            "other_ci": server.pk,
            "other_ci_name": "srv-db-01",
        }
    ]


def test_a_change_on_a_ci_that_depends_on_another_changes_ci_conflicts(db, chris):
    server = make_ci("srv-crm-01")
    app = make_ci("CRM", "application")
    depends(app, server, "runs_on")
    os_patch = make_change(actor=chris, cis=[server], title="Patch the OS")
    upgrade = make_change(actor=chris, cis=[app], title="Upgrade the CRM")
    assert conflicts_of(upgrade) == [("change", os_patch.number, True)]
    assert conflicts_of(os_patch) == [("change", upgrade.number, True)]


def test_changes_apart_in_time_or_on_unrelated_cis_do_not_conflict(db, chris):
    server = make_ci("srv-files-01")
    first = make_change(actor=chris, cis=[server])
    later_start, later_end = window(days=10)
    make_change(actor=chris, cis=[server], planned_start=later_start, planned_end=later_end)
    make_change(actor=chris, cis=[make_ci("srv-print-01")])
    assert conflicts_of(first) == []


def test_a_change_that_is_closed_or_canceled_no_longer_conflicts(db, chris):
    server = make_ci("srv-web-01")
    first = make_change(actor=chris, cis=[server])
    second = make_change(actor=chris, cis=[server])
    services.change_state(second, "canceled", actor=chris)
    assert conflicts_of(first) == []
    assert conflicts_of(second) == []


def test_moving_the_window_away_clears_the_conflict(db, chris):
    server = make_ci("srv-app-01")
    first = make_change(actor=chris, cis=[server])
    second = make_change(actor=chris, cis=[server])
    start, end = window(days=20)
    services.update_change(second, {"planned_start": start, "planned_end": end}, actor=chris)
    assert conflicts_of(first) == [] and conflicts_of(second) == []


def freeze(chris, *, cis=(), days=3, name="Year-end freeze"):
    start, end = window(days=days, hours=2)
    return services.save_blackout(
        None,
        {
            "name": name,
            "start": start - timedelta(days=1),
            "end": end + timedelta(days=1),
            "cis": list(cis),
        },
        actor=chris,
    )


def test_a_global_blackout_refuses_the_deciding_vote_with_409_naming_it(db, chris, members):
    change = submitted(actor=chris, approval_policy="any")
    freeze(chris)
    with pytest.raises(services.BlackoutConflict) as refused:
        services.vote(change, actor=members[0], decision="approve")
    assert "Year-end freeze" in str(refused.value.detail)
    change.refresh_from_db()
    assert change.state == State.AUTHORIZE
    assert change.approvals.get(approver=members[0]).decision == "approved"
    assert conflicts_of(change) == [("blackout", "Year-end freeze", False)]
    assert ChangeEvent.objects.filter(ticket=change, field="blocked").exists()


def test_once_moved_out_of_the_blackout_a_change_manager_schedules_it(db, chris, members):
    change = submitted(actor=chris, approval_policy="any")
    freeze(chris)
    with pytest.raises(services.BlackoutConflict):
        services.vote(change, actor=members[0], decision="approve")
    change.refresh_from_db()
    with pytest.raises(services.BlackoutConflict):
        services.change_state(change, "scheduled", actor=chris)
    start, end = window(days=30)
    services.update_change(change, {"planned_start": start, "planned_end": end}, actor=chris)
    services.change_state(change, "scheduled", actor=chris)
    assert change.state == State.SCHEDULED
    assert conflicts_of(change) == []


def test_a_blackout_on_a_service_freezes_the_cis_it_depends_on(db, chris, members):
    server = make_ci("srv-shop-01")
    shop = make_ci("Web shop", "business_service")
    depends(shop, server)
    freeze(chris, cis=[shop], name="Black Friday")
    change = submitted(actor=chris, cis=[server], approval_policy="any")
    assert conflicts_of(change) == [("blackout", "Black Friday", True)]
    with pytest.raises(services.BlackoutConflict):
        services.vote(change, actor=members[0], decision="approve")


def test_a_blackout_on_other_cis_does_not_apply(db, chris, members):
    freeze(chris, cis=[make_ci("Payroll", "business_service")], name="Payroll run")
    change = submitted(actor=chris, approval_policy="any")
    services.vote(change, actor=members[0], decision="approve")
    change.refresh_from_db()
    assert change.state == State.SCHEDULED


def test_an_emergency_change_is_scheduled_into_a_blackout_and_the_conflict_recorded(db, chris):
    freeze(chris)
    change = make_change(actor=chris, type="emergency")
    services.change_state(change, "authorize", actor=chris)
    services.vote(change, actor=chris, decision="approve", comment="Security fix.")
    change.refresh_from_db()
    assert change.state == State.SCHEDULED
    row = ChangeConflict.objects.get(change=change)
    assert (row.kind, row.accepted) == ("blackout", True)
    event = ChangeEvent.objects.get(ticket=change, field="conflicts_accepted")
    assert event.new == ["Year-end freeze"]


def test_a_standard_change_cannot_be_scheduled_into_a_blackout(db, chris):
    template = services.save_template(
        None,
        {
            "name": "Reboot a print server",
            "implementation_plan": "reboot",
            "backout_plan": "none",
            "test_plan": "print a page",
        },
        actor=chris,
    )
    change = make_change(actor=chris, template=template)
    freeze(chris)
    with pytest.raises(services.BlackoutConflict):
        services.change_state(change, "scheduled", actor=chris)
    change.refresh_from_db()
    assert change.state == State.NEW


def test_a_new_blackout_marks_the_changes_already_in_its_window(db, chris):
    change = make_change(actor=chris)
    blackout = freeze(chris)
    assert conflicts_of(change) == [("blackout", "Year-end freeze", False)]
    services.delete_blackout(blackout, actor=chris)
    assert conflicts_of(change) == []
