"""The drawn neighbourhood: both sides, the relationships among drawn CIs, big levels folded."""

from cmdb import services
from cmdb.graph import neighbourhood
from cmdb.models import Relationship


def test_both_sides_and_the_relationships_between_drawn_cis(make_ci, alice):
    service = make_ci("business_service", "Email")
    app = make_ci("application", "Exchange")
    server = make_ci("server", "srv-01")
    switch = make_ci("network_device", "sw-01")
    for source, target in ((service, app), (app, server), (server, switch)):
        services.relate(source, target, "depends_on", actor=alice)
    graph = neighbourhood(app, depth=1)
    sides = {node["name"]: (node["side"], node["depth"]) for node in graph.nodes}
    assert sides == {"Exchange": ("focus", 0), "Email": ("down", 1), "srv-01": ("up", 1)}
    assert {(e["source"], e["target"]) for e in graph.edges} == {
        (service.pk, app.pk),
        (app.pk, server.pk),
    }
    assert graph.hidden == 0
    assert len(neighbourhood(app, depth=2).nodes) == 4


def test_a_crowded_level_is_folded_into_one_summary_node(make_ci, classes, alice):
    host = make_ci("server", "esx-01")
    vms = [make_ci("server", f"vm-{n:02d}") for n in range(30)]
    apps = [make_ci("application", f"app-{n:02d}") for n in range(30)]
    Relationship.objects.bulk_create(
        [Relationship(source=vm, target=host, type="hosted_on") for vm in vms]
        + [
            Relationship(source=app, target=vm, type="runs_on")
            for app, vm in zip(apps, vms, strict=True)
        ]
    )
    graph = neighbourhood(host, depth=2, level_cap=20)
    drawn = [node for node in graph.nodes if node["side"] == "down" and not node.get("summary")]
    assert [node["name"] for node in drawn] == [f"vm-{n:02d}" for n in range(20)]
    summary = next(node for node in graph.nodes if node.get("summary"))
    assert (summary["count"], summary["class_label"]) == (10, "10 × Server")
    assert graph.hidden == 10 + 30  # the folded VMs, and the apps beyond them
    assert {"source": summary["id"], "target": host.pk} in [
        {"source": e["source"], "target": e["target"]} for e in graph.edges
    ]
    outline = graph.outline()
    assert outline[1]["side"] == "down" and len(outline[1]["levels"][0][1]) == 21
