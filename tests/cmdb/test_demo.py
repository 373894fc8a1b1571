"""The demo estate: realistic, a few hundred CIs, and loading it twice creates nothing new."""

from cmdb.demo import build_estate, seed_demo
from cmdb.impact import impact_of
from cmdb.models import CI, CIEvent, Relationship


class Bar:
    """A tqdm stand-in: the demo may set the postfix, never advance the bar."""

    def __init__(self):
        self.postfixes = []

    def set_postfix_str(self, text):
        self.postfixes.append(text)

    def update(self, n=1):
        raise AssertionError("seed_demo must not call update()")


def test_the_demo_estate_is_valid_data():
    estate = build_estate()
    assert 200 <= len(estate.cis) <= 600
    keys = set(estate.cis)
    assert all(s in keys and t in keys and s != t for s, _type, t in estate.relationships)


def test_seeding_twice_creates_nothing_new(db):
    bar = Bar()
    seed_demo(progress=bar)
    counts = (CI.objects.count(), Relationship.objects.count(), CIEvent.objects.count())
    assert counts[0] == len(build_estate().cis)
    seed_demo(progress=bar)
    assert (CI.objects.count(), Relationship.objects.count(), CIEvent.objects.count()) == counts
    assert bar.postfixes


def test_the_demo_services_depend_on_real_infrastructure(db):
    seed_demo()
    services = set(CI.objects.services().values_list("name", flat=True))
    assert {"Email", "CRM", "ERP", "VPN & remote access", "Online shop"} <= services
    san = CI.objects.get(name="san-par1-01")
    impacted = impact_of(san)
    assert len(impacted.cis) >= 50
    assert {"Email", "ERP"} <= {row.name for row in impacted.services}
