"""Problem candidates on generated data: recurring incidents no problem covers yet, grouped by
service, by CI and by similar titles over a window, ranked by count and by trend."""

from datetime import timedelta

import pytest
import time_machine
from django.utils import timezone

from cmdb.models import CI, CIClass
from incidents import services as incident_services
from itsm.testing import make_incident
from problems import candidates, clusters, services
from problems.models import ClusteredIncident, TitleCluster

from .conftest import make_problem

NOW = timezone.now()


@pytest.fixture
def estate(db):
    service, _ = CIClass.objects.get_or_create(
        name="business_service", defaults={"label": "Business service"}
    )
    server, _ = CIClass.objects.get_or_create(name="server", defaults={"label": "Server"})
    return {
        "vpn": CI.objects.create(name="VPN", ci_class=service),
        "email": CI.objects.create(name="Email", ci_class=service),
        "printing": CI.objects.create(name="Printing", ci_class=service),
        "gateway": CI.objects.create(name="vpn-gw-01", ci_class=server),
        "exchange": CI.objects.create(name="exchange-01", ci_class=server),
    }


def report(days_ago: float, title: str, **fields):
    """An incident reported ``days_ago`` days before now (logged by the system)."""
    with time_machine.travel(NOW - timedelta(days=days_ago), tick=False):
        return make_incident(title=title, actor=None, **fields)


def generate(estate, alice, paula):
    """Thirty days of reports: a VPN wave fading out, an Outlook wave growing, a few printer
    jams, and what must not count (older, linked to a problem, canceled)."""
    vpn = {"service": estate["vpn"], "ci": estate["gateway"]}
    outlook = {"service": estate["email"], "ci": estate["exchange"]}
    for day in (29, 28, 27, 26, 25, 24, 22, 20, 19, 18):  # ten, all in the first half
        report(day, "VPN disconnects every 10 minutes", **vpn)
    for index, day in enumerate((20, 12, 9, 7, 5, 3, 2, 1)):  # eight, mostly recent
        title = ["Outlook keeps asking for my password", "Outlook asks for my password again"]
        report(day, title[index % 2], **outlook)
    for day in (20, 4):  # two: below the threshold of three
        report(day, "Printer jams on duplex", service=estate["printing"])
    for day in (45, 40, 35):  # before the window
        report(day, "VPN disconnects every 10 minutes", **vpn)
    problem = make_problem(paula, title="Known VPN issue")
    for day in (10, 8):  # covered by a problem already
        services.link(problem, report(day, "VPN disconnects every 10 minutes", **vpn), actor=alice)
    canceled = report(3, "VPN disconnects every 10 minutes", **vpn)
    incident_services.cancel(canceled, actor=canceled.requester)


@pytest.fixture
def window():
    return candidates.Window.of(30, now=NOW + timedelta(seconds=1))


def summary(groups):
    return [(g.label, g.count, g.earlier, g.recent) for g in groups]


def test_incidents_group_by_service_with_what_no_problem_covers_in_the_window(
    estate, alice, paula, window
):
    generate(estate, alice, paula)
    assert summary(candidates.groups("service", window)) == [
        ("VPN", 10, 10, 0),
        ("Email", 8, 1, 7),
    ]


def test_incidents_group_by_ci(estate, alice, paula, window):
    generate(estate, alice, paula)
    assert summary(candidates.groups("ci", window)) == [
        ("vpn-gw-01", 10, 10, 0),
        ("exchange-01", 8, 1, 7),
    ]


def test_similar_titles_group_together_and_different_ones_apart(estate, alice, paula, window):
    generate(estate, alice, paula)
    groups = candidates.groups("title", window)
    assert summary(groups) == [
        ("VPN disconnects every 10 minutes", 10, 10, 0),
        ("Outlook keeps asking for my password", 8, 1, 7),
    ]


def test_ranked_by_trend_the_growing_group_comes_first(estate, alice, paula, window):
    generate(estate, alice, paula)
    ranked = candidates.groups("service", window, sort="trend")
    assert [g.label for g in ranked] == ["Email", "VPN"]
    assert [g.trend_percent for g in ranked] == [600, -100]


def test_a_shorter_window_sees_only_its_days(estate, alice, paula):
    generate(estate, alice, paula)
    week = candidates.Window.of(7, now=NOW + timedelta(seconds=1))
    assert summary(candidates.groups("service", week)) == [("Email", 4, 1, 3)]


def test_the_members_of_a_group_are_what_create_a_problem_links(estate, alice, paula, window):
    generate(estate, alice, paula)
    [email, *_] = candidates.groups("service", window, sort="trend")
    members = candidates.members("service", email.key, window)
    problem = services.open_problem(
        actor=paula, title="Outlook password prompts", incidents=list(members)
    )
    assert problem.incidents.count() == 8
    assert summary(candidates.groups("service", window)) == [("VPN", 10, 10, 0)]
    assert [g.label for g in candidates.groups("title", window)] == [
        "VPN disconnects every 10 minutes"
    ]


def test_the_grouping_costs_two_queries_however_many_incidents(
    estate, alice, paula, window, django_assert_num_queries
):
    generate(estate, alice, paula)
    for kind in candidates.KINDS:
        with django_assert_num_queries(2):  # the aggregate, then the groups' names
            candidates.groups(kind, window)
    for day in range(20):
        report(day + 0.5, "VPN disconnects every 10 minutes", service=estate["vpn"])
    with django_assert_num_queries(2):
        assert candidates.groups("service", window)[0].count == 30


# --- The title clusters


def test_a_retitled_incident_moves_to_the_cluster_of_its_new_title(db, alice):
    outlook = make_incident(title="Outlook keeps asking for my password")
    vpn = make_incident(title="VPN disconnects every 10 minutes")
    assert ClusteredIncident.objects.get(incident_id=outlook.pk).cluster.key == (
        "outlook keeps asking for my password"
    )
    incident_services.update_incident(
        vpn, {"title": "Outlook keeps asking for password"}, actor=alice
    )
    clustered = ClusteredIncident.objects.get(incident_id=vpn.pk)
    assert clustered.cluster == ClusteredIncident.objects.get(incident_id=outlook.pk).cluster


def test_numbers_and_punctuation_do_not_split_a_cluster(db):
    assert clusters.normalise("VPN drops #123 (again)!") == "vpn drops again"
    first = make_incident(title="Disk full on FS-PAR-02")
    second = make_incident(title="Disk full on FS-PAR-07")
    assert (
        ClusteredIncident.objects.get(incident_id=first.pk).cluster_id
        == ClusteredIncident.objects.get(incident_id=second.pk).cluster_id
    )


def test_the_fallback_without_pg_trgm_computes_the_same_similarity(db, monkeypatch):
    from django.db import connection

    pairs = [
        ("outlook keeps asking for my password", "outlook password prompt keeps popping up"),
        ("vpn disconnects every minutes", "vpn keeps disconnecting"),
        ("vpn down for the whole lyon office", "vpn disconnects every minutes"),
    ]
    with connection.cursor() as cursor:
        for a, b in pairs:
            cursor.execute("SELECT similarity(%s, %s)", [a, b])
            assert clusters.similarity(a, b) == pytest.approx(cursor.fetchone()[0], abs=1e-6)


def test_the_fallback_files_incidents_in_the_same_clusters(db, monkeypatch):
    class Elsewhere:
        vendor = "sqlite"

    monkeypatch.setattr(clusters, "connection", Elsewhere())
    titles = [
        "Outlook keeps asking for my password",
        "Outlook password prompt keeps popping up",
        "VPN down for the whole Lyon office",
        "Outlook asks for my password again",
    ]
    for title in titles:
        make_incident(title=title)
    assert sorted(TitleCluster.objects.values_list("label", flat=True)) == [
        "Outlook keeps asking for my password",
        "VPN down for the whole Lyon office",
    ]


def test_clustering_existing_incidents_files_each_once(db):
    for title in ("Printer jams", "Printer jams again", "ERP unavailable"):
        make_incident(title=title)
    ClusteredIncident.objects.all().delete()
    TitleCluster.objects.all().delete()
    assert services.cluster_unclustered(batch=2) == 3
    assert services.cluster_unclustered() == 0
    assert TitleCluster.objects.count() == 2
