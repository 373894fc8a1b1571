"""CMDB fixtures: the seeded classes, a CI builder, the personas the root conftest lacks."""

import pytest

from cmdb import services
from cmdb.models import CI, CIClass
from itsm.testing import make_persona


@pytest.fixture
def chris(db):
    return make_persona("chris")  # change manager


@pytest.fixture
def paula(db):
    return make_persona("paula")  # problem manager


@pytest.fixture
def classes(db) -> dict[str, CIClass]:
    """The classes the migration seeds, by name."""
    return {c.name: c for c in CIClass.objects.all()}


VALID = {
    "business_service": {"service_hours": "24x7", "tier": "gold"},
    "application": {"version": "1.0"},
    "database": {"engine": "postgresql", "version": "16"},
    "server": {"hostname": "srv-01", "ip_address": "10.0.0.1", "cpu_count": 4},
    "network_device": {"device_type": "switch"},
    "storage": {"storage_type": "san", "capacity_tb": 10},
    "cloud_resource": {"provider": "aws", "resource_type": "ec2-instance"},
}


@pytest.fixture
def make_ci(classes):
    """``make_ci("server", "srv-01", **fields)``: a valid CI of that class, created through the
    service (so it has its history)."""

    def make(ci_class: str = "server", name: str | None = None, *, actor=None, **fields) -> CI:
        fields.setdefault("attributes", dict(VALID.get(ci_class, {})))
        name = name or f"{ci_class}-{CI.objects.count() + 1}"
        return services.create_ci(actor=actor, name=name, ci_class=classes[ci_class], **fields)

    return make
