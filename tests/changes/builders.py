"""Builders for change tests: CIs, a CAB of three, changes ready for the CAB."""

from datetime import timedelta

from django.utils import timezone

from changes import services
from changes.models import Change
from cmdb import services as cmdb_services
from cmdb.models import CI, CIClass
from itsm.testing import make_persona, make_team, make_user

ATTRIBUTES = {
    "business_service": {"service_hours": "24x7", "tier": "gold"},
    "application": {"version": "1.0"},
    "database": {"engine": "postgresql", "version": "16"},
    "server": {"hostname": "srv-01", "ip_address": "10.0.0.1", "cpu_count": 4},
    "network_device": {"device_type": "switch"},
}
PLANS = {
    "implementation_plan": "1. Drain the node.\n2. Patch.\n3. Reboot.",
    "backout_plan": "Restore the snapshot taken before step 2.",
    "test_plan": "Log in through SSO; send a test mail.",
}


def make_ci(name: str, ci_class: str = "server", **fields) -> CI:
    existing = CI.objects.filter(name=name, ci_class__name=ci_class).first()
    if existing:
        return existing
    fields.setdefault("attributes", dict(ATTRIBUTES.get(ci_class, {})))
    return cmdb_services.create_ci(
        actor=None, name=name, ci_class=CIClass.objects.get(name=ci_class), **fields
    )


def depends(source: CI, target: CI, kind: str = "depends_on") -> None:
    cmdb_services.relate(source, target, kind, actor=None)


def cab_members():
    """carol (CAB member) and two more CAB members, dina and omar."""
    carol = make_persona("carol")
    dina = _cab_user("dina", "Dina", "Durand")
    omar = _cab_user("omar", "Omar", "Ouali")
    return carol, dina, omar


def _cab_user(username, first, last):
    from accounts.models import User

    return User.objects.filter(username=username).first() or make_user(
        username, roles=("cab_member",), first_name=first, last_name=last
    )


def make_cab(name: str = "CAB", members=None, *, policy: str = "all"):
    members = cab_members() if members is None else members
    team = make_team(name, members=members)
    services.save_board(team, actor=None, policy=policy)
    return team


def window(days: int = 3, hours: int = 2):
    start = (timezone.now() + timedelta(days=days)).replace(minute=0, second=0, microsecond=0)
    return start, start + timedelta(hours=hours)


def make_change(*, actor=None, cis=None, **fields) -> Change:
    """A normal change with its plans, window and a CI: ready to go before the CAB."""
    actor = actor or make_persona("chris")
    start, end = window()
    fields.setdefault("title", "Patch the mail servers")
    fields.setdefault("planned_start", start)
    fields.setdefault("planned_end", end)
    for name, value in PLANS.items():
        fields.setdefault(name, value)
    if cis is None:
        cis = [make_ci("srv-mail-01")]
    return services.raise_change(actor=actor, cis=cis, **fields)


def submitted(*, cab=None, actor=None, **fields) -> Change:
    """A normal change sent to its CAB (state ``authorize``, approvals asked)."""
    actor = actor or make_persona("chris")
    change = make_change(actor=actor, cab=cab or make_cab(), **fields)
    services.change_state(change, "assess", actor=actor)
    services.change_state(change, "authorize", actor=actor)
    return change
