"""Demo estate for ``manage.py seed_demo``: a mid-size company's IT, a few hundred CIs.

Business services (email, CRM, VPN, ERP, web shop...) depend on applications, which run on
virtual machines in two data centres (or on cloud resources), which are hosted on hypervisor
clusters, which need hosts, SAN storage and the network. Identity (Active Directory + DNS, a
real-life cycle) sits under almost everything, so its impact view is large; so is a SAN array's.

Idempotent: CIs are matched by class and name and relationships by (source, type, target);
what exists is left alone, nothing is created twice. Written through ``cmdb.services`` so every
CI has its "created" history entry.
"""

from accounts.models import Team, User

from ..classes import ensure_default_classes
from ..models import CI, CIClass, Relationship
from ..services import create_ci, relate
from .business import build_estate

__all__ = ["build_estate", "seed_demo"]


def seed_demo(progress=None) -> None:
    """Create the demo estate's missing CIs and relationships (see the module docstring)."""
    estate = build_estate()
    ensure_default_classes()
    classes = {c.name: c for c in CIClass.objects.all()}
    teams = {t.name: t for t in Team.objects.all()}
    users = {
        u.username: u
        for u in User.objects.filter(username__in={"manager", "changemgr", "problemmgr"})
    }
    existing = {(ci.ci_class.name, ci.name): ci for ci in CI.objects.select_related("ci_class")}
    created = 0
    for key, spec in estate.cis.items():
        if key in existing or spec["ci_class"] not in classes:
            continue
        fields = {
            "name": spec["name"],
            "ci_class": classes[spec["ci_class"]],
            "status": spec.get("status", CI.Status.IN_SERVICE),
            "environment": spec.get("environment", CI.Environment.PRODUCTION),
            "criticality": spec.get("criticality", 3),
            "support_group": teams.get(spec.get("team", "")),
            "owner": users.get(spec.get("owner", "")),
            "supplier": spec.get("supplier", ""),
            "description": spec.get("description", ""),
            "attributes": spec.get("attributes", {}),
        }
        existing[key] = create_ci(actor=None, **fields)
        created += 1
        if progress is not None and created % 50 == 0:
            progress.set_postfix_str(f"cmdb: {created} CIs")
    have = set(Relationship.objects.values_list("source_id", "type", "target_id"))
    added = 0
    for source, rel_type, target in estate.relationships:
        if source not in existing or target not in existing:
            continue
        ids = (existing[source].pk, rel_type, existing[target].pk)
        if ids in have:
            continue
        relate(existing[source], existing[target], rel_type, actor=None)
        have.add(ids)
        added += 1
        if progress is not None and added % 100 == 0:
            progress.set_postfix_str(f"cmdb: {added} relationships")
    if progress is not None:
        progress.set_postfix_str(f"cmdb: {created} CIs, {added} relationships added")
