"""The problem verbs: who may, linking from either side, promotion, publication, and the
resolution of a problem with its incidents, all or none (SPEC §5)."""

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from incidents import services as incident_services
from incidents.models import Incident
from itsm.models import Notification
from itsm.testing import make_incident
from itsm.workflow import Conflict, TransitionNotAllowed
from problems import services
from problems.models import Problem
from problems.workflow import State
from sla.models import Timer

from .conftest import linked_incidents, make_problem, problem_in

FIX = ("fixed", "Renewed the gateway certificate; reconnect once.")


# --- Who may


def test_only_problem_managers_open_problems(db, alice, rita, paula):
    for outsider in (alice, rita):
        with pytest.raises(PermissionDenied):
            make_problem(outsider)
    problem = make_problem(paula)
    assert (problem.number[:3], problem.state, problem.requester) == ("PRB", "new", paula)


def test_agents_link_incidents_and_comment_but_do_not_move_problems(db, alice, paula):
    problem = make_problem(paula)
    incident = make_incident()
    services.link(problem, incident, actor=alice)
    services.comment(problem, actor=alice, body="Same symptom at the Lyon office.")
    with pytest.raises(PermissionDenied):
        services.change_state(problem, State.ASSESS, actor=alice)
    with pytest.raises(PermissionDenied):
        services.update_problem(problem, {"workaround": "Reconnect."}, actor=alice)


def test_a_field_outside_the_managers_scope_is_a_400_naming_it(db, paula):
    problem = make_problem(paula)
    with pytest.raises(ValidationError) as refused:
        services.update_problem(problem, {"state": "closed"}, actor=paula)
    assert list(refused.value.message_dict) == ["state"]


# --- Linking


def test_an_incident_links_from_either_side_and_both_trails_say_so(db, alice, paula):
    problem = make_problem(paula)
    from_problem, from_incident = make_incident(), make_incident(title="VPN again")
    services.link(problem, from_problem, actor=paula)
    incident_services.update_incident(from_incident, {"problem": problem}, actor=alice)

    assert set(problem.incidents.values_list("number", flat=True)) == {
        from_problem.number,
        from_incident.number,
    }
    linked = [e.new for e in problem.events.filter(field="incident")]
    assert linked == [from_problem.number, from_incident.number]
    event = from_incident.events.get(field="problem")
    assert (event.old, event.new, event.actor) == (None, problem.pk, alice)


def test_an_incident_has_at_most_one_problem(db, paula):
    first, second = make_problem(paula), make_problem(paula, title="Printer jams")
    incident = make_incident()
    services.link(first, incident, actor=paula)
    with pytest.raises(Conflict):
        services.link(second, incident, actor=paula)
    incident.refresh_from_db()
    assert incident.problem == first


def test_linking_twice_changes_nothing_and_audits_once(db, paula):
    problem, incident = make_problem(paula), make_incident()
    assert services.link(problem, incident, actor=paula)
    assert services.link(problem, incident, actor=paula) == {}
    assert problem.events.filter(field="incident").count() == 1


def test_closed_and_canceled_problems_take_no_more_incidents(db, paula):
    for state in (State.CLOSED, State.CANCELED):
        problem = problem_in(state, paula)
        with pytest.raises(Conflict):
            services.link(problem, make_incident(), actor=paula)


def test_unlinking_clears_the_field_and_is_audited_on_the_problem(db, alice, paula):
    problem = make_problem(paula)
    [incident] = linked_incidents(problem, 1, actor=alice)
    services.unlink(problem, incident, actor=alice)
    incident.refresh_from_db()
    assert incident.problem is None
    last = problem.events.filter(field="incident").last()
    assert (last.old, last.new) == (incident.number, None)
    with pytest.raises(Conflict):
        services.unlink(problem, incident, actor=alice)


def test_managers_read_problems_but_do_not_link(db, max_, paula):
    problem = make_problem(paula)
    with pytest.raises(PermissionDenied):
        services.link(problem, make_incident(), actor=max_)


# --- Promotion


def test_promoting_an_incident_copies_it_and_links_it(db, paula, alice):
    from cmdb.models import CI, CIClass

    service_class, _ = CIClass.objects.get_or_create(
        name="business_service", defaults={"label": "Business service"}
    )
    vpn = CI.objects.create(name="VPN", ci_class=service_class)
    incident = make_incident(title="VPN drops", description="Every **ten** minutes.", service=vpn)
    problem = services.promote(incident, actor=paula)
    incident.refresh_from_db()
    assert (problem.title, problem.description) == ("VPN drops", "Every **ten** minutes.")
    assert list(problem.services.all()) == [vpn]
    assert incident.problem == problem
    with pytest.raises(Conflict):
        services.promote(incident, actor=paula)
    with pytest.raises(PermissionDenied):
        services.promote(make_incident(), actor=alice)


# --- Known errors


def test_publishing_needs_the_known_error_flag_and_a_workaround(db, paula):
    problem = make_problem(paula)
    with pytest.raises(ValidationError) as refused:
        services.update_problem(problem, {"publish_workaround": True}, actor=paula)
    assert set(refused.value.message_dict) == {"known_error", "workaround"}
    services.update_problem(problem, {"workaround": "Reconnect the client."}, actor=paula)
    services.publish(problem, actor=paula)
    problem.refresh_from_db()
    assert problem.is_published
    assert Problem.objects.published().get() == problem
    services.withdraw(problem, actor=paula)
    assert not Problem.objects.published().exists()


@pytest.mark.parametrize("blank", ["", "   "])
@pytest.mark.parametrize("to", [State.FIX_IN_PROGRESS, State.RESOLVED])
def test_a_move_cannot_blank_the_workaround_of_a_published_known_error(db, paula, to, blank):
    problem = problem_in(
        State.ROOT_CAUSE_ANALYSIS,
        paula,
        known_error=True,
        publish_workaround=True,
        workaround="Reconnect the client.",
    )
    version = problem.version
    with pytest.raises(ValidationError) as refused:
        services.change_state(
            problem, to, actor=paula, root_cause="An expired certificate.", workaround=blank
        )
    assert list(refused.value.message_dict) == ["workaround"]
    problem.refresh_from_db()
    assert (problem.state, problem.version, problem.workaround) == (
        State.ROOT_CAUSE_ANALYSIS,
        version,
        "Reconnect the client.",
    )
    assert Problem.objects.published().get() == problem
    services.withdraw(problem, actor=paula)  # withdrawn first, the workaround may go
    services.change_state(
        problem, to, actor=paula, root_cause="An expired certificate.", workaround=""
    )
    problem.refresh_from_db()
    assert (problem.state, problem.workaround) == (to, "")


def test_blanks_are_no_root_cause_to_resolve_with(db, paula):
    problem = problem_in(State.ROOT_CAUSE_ANALYSIS, paula)
    with pytest.raises(ValidationError) as refused:
        services.change_state(problem, State.RESOLVED, actor=paula, root_cause="   ")
    assert list(refused.value.message_dict) == ["root_cause"]
    problem.refresh_from_db()
    assert (problem.state, problem.root_cause) == (State.ROOT_CAUSE_ANALYSIS, "")


def test_a_resolved_problem_keeps_its_root_cause(db, paula):
    problem = problem_in(State.RESOLVED, paula)
    with pytest.raises(ValidationError) as refused:
        services.update_problem(problem, {"root_cause": "  "}, actor=paula)
    assert list(refused.value.message_dict) == ["root_cause"]
    services.update_problem(problem, {"root_cause": "A certificate, renewed."}, actor=paula)
    problem.refresh_from_db()
    assert problem.root_cause == "A certificate, renewed."


def test_publishing_tells_the_agents_of_the_open_linked_incidents(db, alice, paula):
    problem = make_problem(paula, workaround="Reconnect the client.", known_error=True)
    [incident] = linked_incidents(problem, 1, actor=alice)
    incident_services.take(incident, actor=alice)
    services.publish(problem, actor=paula)
    assert Notification.objects.filter(
        recipient=alice, ticket=problem.number, subject__startswith="Workaround published"
    ).exists()


# --- Resolving with the incidents


def _resolvable(paula, alice, count=3):
    problem = problem_in(State.ROOT_CAUSE_ANALYSIS, paula)
    incidents = linked_incidents(problem, count, actor=alice)
    return problem, incidents


def test_resolving_with_resolve_incidents_resolves_every_open_linked_incident(
    db, alice, paula, rita
):
    problem, incidents = _resolvable(paula, alice)
    incident_services.take(incidents[0], actor=alice)
    done = make_incident(title="VPN (already closed)")
    incident_services.cancel(done, actor=rita)
    services.link(problem, done, actor=alice)

    changes = services.resolve(
        problem, actor=paula, root_cause="Expired certificate.", incidents=FIX
    )

    resolved = sorted(i.number for i in incidents)
    assert changes["resolved_incidents"] == (None, resolved)
    for incident in Incident.objects.filter(number__in=resolved):
        assert (incident.state, incident.resolution_code) == ("resolved", "fixed")
        assert incident.resolution_notes == FIX[1]
        public = incident.comments.get()
        assert not public.internal and FIX[1] in public.body and public.author == paula
        assert incident.events.filter(field="state", new="resolved", actor=paula).exists()
    done.refresh_from_db()
    assert done.state == "canceled"  # a finished incident is left alone
    event = problem.events.get(field="resolved_incidents")
    assert (event.new, event.actor) == (resolved, paula)


def test_resolved_incidents_stop_their_sla_timers(db, alice, paula):
    from tests.sla.conftest import ALWAYS_HOURS, make_calendar, make_policy

    make_policy(make_calendar("Always", "UTC", ALWAYS_HOURS))
    problem, incidents = _resolvable(paula, alice, count=2)
    assert Timer.objects.filter(incident__in=incidents, clock=Timer.Clock.RUNNING).count() == 4
    services.resolve(problem, actor=paula, root_cause="Expired certificate.", incidents=FIX)
    timers = Timer.objects.filter(incident__in=incidents, metric="resolution")
    assert {timer.state for timer in timers} == {"met"}
    assert not Timer.objects.filter(incident__in=incidents, clock=Timer.Clock.RUNNING).exists()


def test_each_requester_hears_of_the_resolution_once(db, alice, paula, rita, eve):
    problem = problem_in(State.ROOT_CAUSE_ANALYSIS, paula)
    for requester in (rita, eve):
        services.link(problem, make_incident(requester=requester), actor=alice)
    last = Notification.objects.order_by("-pk").values_list("pk", flat=True).first()
    services.resolve(problem, actor=paula, root_cause="Expired certificate.", incidents=FIX)
    for requester in (rita, eve):
        told = Notification.objects.filter(recipient=requester, pk__gt=last)
        assert [(n.kind, FIX[1] in n.message) for n in told] == [("state", True)]


def test_when_one_incident_cannot_be_resolved_nothing_changes_anywhere(
    db, alice, paula, monkeypatch
):
    problem, incidents = _resolvable(paula, alice, count=3)
    refused = incidents[1].number
    real = incident_services.resolve_with_problem

    def second_one_refuses(incident, **kwargs):
        if incident.number == refused:
            raise TransitionNotAllowed("Cannot resolve it now.", allowed=[])
        return real(incident, **kwargs)

    monkeypatch.setattr(incident_services, "resolve_with_problem", second_one_refuses)
    events = {i.number: i.events.count() for i in incidents}
    notifications = Notification.objects.count()

    with pytest.raises(Conflict):
        services.resolve(problem, actor=paula, root_cause="Expired certificate.", incidents=FIX)

    problem.refresh_from_db()
    assert (problem.state, problem.root_cause) == ("root_cause_analysis", "")
    assert not problem.events.filter(
        field__in=("state", "resolved_incidents"), new="resolved"
    ).exists()
    for incident in Incident.objects.filter(pk__in=[i.pk for i in incidents]):
        assert incident.state == "new"
        assert incident.events.count() == events[incident.number]
        assert not incident.comments.exists()
    assert Notification.objects.count() == notifications


def test_resolve_incidents_needs_a_code_and_notes(db, alice, paula):
    problem, incidents = _resolvable(paula, alice, count=1)
    with pytest.raises(ValidationError) as refused:
        services.change_state(
            problem, State.RESOLVED, actor=paula, root_cause="Cert.", resolve_incidents=True
        )
    assert set(refused.value.message_dict) == {"resolution_code", "resolution_notes"}
    with pytest.raises(ValidationError) as refused:
        services.change_state(
            problem, State.RESOLVED, actor=paula, root_cause="Cert.", resolution_code="fixed"
        )
    assert list(refused.value.message_dict) == ["resolution_code"]
    incidents[0].refresh_from_db()
    assert incidents[0].state == "new"


def test_resolving_without_resolve_incidents_leaves_the_incidents_to_their_agents(db, alice, paula):
    problem, incidents = _resolvable(paula, alice, count=1)
    incident_services.take(incidents[0], actor=alice)
    services.resolve(problem, actor=paula, root_cause="Expired certificate.")
    incidents[0].refresh_from_db()
    assert incidents[0].state == "in_progress"
    assert Notification.objects.filter(
        recipient=alice, ticket=problem.number, kind="state"
    ).exists()


# --- A finished problem keeps its fields


def test_a_closed_problem_refuses_edits_from_anyone_but_its_workaround_may_be_withdrawn(db, paula):
    problem = problem_in(State.RESOLVED, paula)
    services.update_problem(problem, {"workaround": "Reconnect."}, actor=paula)
    services.publish(problem, actor=paula)
    services.change_state(problem, State.CLOSED, actor=paula)
    events = problem.events.count()
    for actor in (paula, None):  # the system is held to it too
        with pytest.raises(Conflict) as refused:
            services.update_problem(problem, {"priority": 1}, actor=actor)
        assert "resolved" in refused.value.allowed and "closed" not in refused.value.allowed
    assert problem.events.count() == events
    assert Problem.objects.published().filter(pk=problem.pk).exists()
    services.withdraw(problem, actor=paula)  # still in the portal: it may be taken out
    assert not Problem.objects.published().filter(pk=problem.pk).exists()
    with pytest.raises(Conflict):
        services.publish(problem, actor=paula)  # but not put back
