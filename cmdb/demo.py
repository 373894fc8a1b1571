"""Demo estate for ``manage.py seed_demo``: a mid-size company's IT, a few hundred CIs.

Business services (email, CRM, VPN, ERP, web shop...) depend on applications, which run on
virtual machines in two data centres (or on cloud resources), which are hosted on hypervisor
clusters, which need hosts, SAN storage and the network. Identity (Active Directory + DNS, a
real-life cycle) sits under almost everything, so its impact view is large; so is a SAN array's.

Idempotent: CIs are matched by class and name and relationships by (source, type, target);
what exists is left alone, nothing is created twice. Written through ``cmdb.services`` so every
CI has its "created" history entry.
"""

from dataclasses import dataclass, field

from accounts.models import Team, User

from . import services
from .classes import ensure_default_classes
from .models import CI, CIClass, Relationship

Key = tuple[str, str]
SITES = {"par1": ("Paris DC1", 10), "lyo2": ("Lyon DC2", 20)}


@dataclass
class Estate:
    """The demo estate as data: CIs by (class, name) and relationships between keys."""

    cis: dict[Key, dict] = field(default_factory=dict)
    relationships: list[tuple[Key, str, Key]] = field(default_factory=list)

    def add(self, ci_class: str, name: str, **fields) -> Key:
        key = (ci_class, name)
        self.cis.setdefault(key, {"ci_class": ci_class, "name": name, **fields})
        return key

    def rel(self, source: Key, rel_type: str, *targets: Key) -> None:
        for target in targets:
            if (source, rel_type, target) not in self.relationships:
                self.relationships.append((source, rel_type, target))


def _ip(site: str, vlan: int, host: int) -> str:
    return f"10.{SITES[site][1]}.{vlan}.{host}"


def _network(e: Estate) -> dict:
    """Per site: edge routers, an HA firewall pair, core and top-of-rack switches, LBs."""
    net = {}
    for site, (location, _octet) in SITES.items():
        common = {"team": "Network", "supplier": "Cisco", "criticality": 1}
        edge = e.add(
            "network_device",
            f"rtr-edge-{site}-01",
            attributes={
                "device_type": "router",
                "ip_address": _ip(site, 0, 1),
                "model": "ASR 1001-X",
                "location": location,
            },
            **common,
        )
        fw = [
            e.add(
                "network_device",
                f"fw-{site}-0{n}",
                supplier="Fortinet",
                team="Network",
                criticality=1,
                attributes={
                    "device_type": "firewall",
                    "ip_address": _ip(site, 0, 10 + n),
                    "model": "FortiGate 600F",
                    "firmware": "7.4.3",
                    "location": location,
                },
            )
            for n in (1, 2)
        ]
        e.rel(fw[0], "connects_to", edge)
        e.rel(fw[1], "connects_to", edge)
        e.rel(fw[0], "connects_to", fw[1])  # HA pair: each needs the other's heartbeat (a cycle)
        e.rel(fw[1], "connects_to", fw[0])
        core = [
            e.add(
                "network_device",
                f"sw-core-{site}-0{n}",
                attributes={
                    "device_type": "switch",
                    "ip_address": _ip(site, 1, n),
                    "model": "Nexus 9336C",
                    "ports": 36,
                    "location": location,
                },
                **common,
            )
            for n in (1, 2)
        ]
        for switch in core:
            e.rel(switch, "connects_to", *fw)
        tor = []
        for n in range(1, 5):
            switch = e.add(
                "network_device",
                f"sw-tor-{site}-{n:02d}",
                team="Network",
                supplier="Cisco",
                criticality=2,
                attributes={
                    "device_type": "switch",
                    "ip_address": _ip(site, 1, 10 + n),
                    "model": "Nexus 93180YC",
                    "ports": 54,
                    "location": location,
                },
            )
            e.rel(switch, "connects_to", *core)  # dual-homed: a diamond per rack
            tor.append(switch)
        lb = e.add(
            "network_device",
            f"lb-{site}-01",
            team="Network",
            supplier="F5",
            criticality=1,
            attributes={
                "device_type": "load_balancer",
                "ip_address": _ip(site, 2, 1),
                "model": "BIG-IP i5800",
                "location": location,
            },
        )
        e.rel(lb, "connects_to", *core)
        net[site] = {"edge": edge, "fw": fw, "core": core, "tor": tor, "lb": lb}
    for n, site in enumerate(SITES, start=1):
        vpn = e.add(
            "network_device",
            f"vpn-gw-0{n}",
            team="Network",
            supplier="Fortinet",
            criticality=1,
            attributes={
                "device_type": "vpn_gateway",
                "ip_address": _ip(site, 3, 1),
                "model": "FortiGate 400F",
                "location": SITES[site][0],
            },
        )
        e.rel(vpn, "connects_to", *net[site]["fw"])
        net[site]["vpn"] = vpn
    return net


def _platform(e: Estate, net: dict) -> dict:
    """Per site: SAN and NAS, hypervisor hosts in a cluster, and a backup appliance."""
    platform = {}
    for site, (location, _octet) in SITES.items():
        san = e.add(
            "storage",
            f"san-{site}-01",
            team="Infrastructure",
            supplier="Pure Storage",
            criticality=1,
            attributes={
                "storage_type": "san",
                "capacity_tb": 180,
                "used_tb": 121.5,
                "protocol": "fc",
                "model": "FlashArray//X70",
                "location": location,
            },
        )
        nas = e.add(
            "storage",
            f"nas-{site}-01",
            team="Infrastructure",
            supplier="NetApp",
            criticality=2,
            attributes={
                "storage_type": "nas",
                "capacity_tb": 240,
                "used_tb": 150,
                "protocol": "smb",
                "model": "AFF A250",
                "location": location,
            },
        )
        e.rel(san, "connects_to", *net[site]["core"])
        e.rel(nas, "connects_to", *net[site]["core"])
        cluster = e.add(
            "server",
            f"vcl-{site}-prod",
            team="Infrastructure",
            supplier="Broadcom",
            criticality=1,
            description=f"vSphere production cluster, {location}.",
            attributes={"virtual": True, "location": location},
        )
        hosts = []
        for n in range(1, 7 if site == "par1" else 5):
            host = e.add(
                "server",
                f"esx-{site}-{n:02d}",
                team="Infrastructure",
                supplier="Dell",
                criticality=2,
                attributes={
                    "hostname": f"esx-{site}-{n:02d}.corp.example",
                    "ip_address": _ip(site, 5, n),
                    "os": "VMware ESXi 8.0",
                    "cpu_count": 64,
                    "memory_gb": 1024,
                    "virtual": False,
                    "serial_number": f"DL{site.upper()}{n:04d}",
                    "location": location,
                },
            )
            e.rel(host, "depends_on", san)
            tor = net[site]["tor"]
            e.rel(host, "connects_to", tor[(n - 1) % len(tor)], tor[n % len(tor)])
            e.rel(cluster, "depends_on", host)
            hosts.append(host)
        backup = e.add(
            "storage",
            f"bkp-{site}-01",
            team="Infrastructure",
            supplier="Veeam",
            criticality=3,
            attributes={
                "storage_type": "backup",
                "capacity_tb": 400,
                "used_tb": 260,
                "model": "Veeam backup repository",
                "location": location,
            },
        )
        e.rel(backup, "depends_on", nas)
        platform[site] = {
            "san": san,
            "nas": nas,
            "cluster": cluster,
            "hosts": hosts,
            "backup": backup,
        }
    return platform


class _Builder:
    """Helpers that add a VM, an application on VMs, a database, a cloud resource."""

    def __init__(self, e: Estate, net: dict, platform: dict):
        self.e, self.net, self.platform = e, net, platform
        self.host_counter = 0

    def vm(
        self,
        name: str,
        site: str = "par1",
        *,
        env="production",
        os="Ubuntu 24.04 LTS",
        cpu=4,
        memory=16,
        crit=3,
    ) -> Key:
        self.host_counter += 1
        key = self.e.add(
            "server",
            name,
            environment=env,
            team="Infrastructure",
            criticality=crit,
            supplier="Canonical"
            if "Ubuntu" in os
            else "Microsoft"
            if "Windows" in os
            else "Red Hat",
            attributes={
                "hostname": f"{name}.corp.example",
                "ip_address": _ip(
                    site, 100 if env == "production" else 120, self.host_counter % 250 + 1
                ),
                "os": os,
                "cpu_count": cpu,
                "memory_gb": memory,
                "virtual": True,
                "location": SITES[site][0],
            },
        )
        self.e.rel(key, "hosted_on", self.platform[site]["cluster"])
        return key

    def app(
        self,
        name: str,
        vms: list[Key],
        *,
        env="production",
        crit=2,
        team="Applications",
        supplier="",
        version="",
        vendor="",
        url="",
        lb=None,
        description="",
    ) -> Key:
        attributes = {
            k: v for k, v in {"version": version, "vendor": vendor, "url": url}.items() if v
        }
        key = self.e.add(
            "application",
            name,
            environment=env,
            team=team,
            criticality=crit,
            supplier=supplier,
            description=description,
            attributes=attributes,
        )
        self.e.rel(key, "runs_on", *vms)
        if lb:
            self.e.rel(key, "depends_on", lb)
        return key

    def db(
        self,
        name: str,
        vms: list[Key],
        *,
        engine="postgresql",
        version="16.4",
        env="production",
        crit=2,
        size=120,
        supplier="",
    ) -> Key:
        key = self.e.add(
            "database",
            name,
            environment=env,
            team="Applications",
            criticality=crit,
            supplier=supplier,
            attributes={
                "engine": engine,
                "version": version,
                "size_gb": size,
                "replicas": max(len(vms) - 1, 0),
                "port": {
                    "postgresql": 5432,
                    "mysql": 3306,
                    "oracle": 1521,
                    "sqlserver": 1433,
                    "redis": 6379,
                    "mongodb": 27017,
                }.get(engine, 5432),
            },
        )
        self.e.rel(key, "hosted_on", *vms)
        return key

    def cloud(
        self,
        name: str,
        provider: str,
        resource_type: str,
        *,
        region="eu-west-3",
        env="production",
        crit=2,
        size="",
        account="prod-412",
    ) -> Key:
        attributes = {
            "provider": provider,
            "resource_type": resource_type,
            "region": region,
            "account": account,
            "resource_id": f"{resource_type}/{name}",
        }
        if size:
            attributes["size"] = size
        supplier = {
            "aws": "Amazon Web Services",
            "azure": "Microsoft",
            "gcp": "Google Cloud",
            "ovhcloud": "OVHcloud",
        }.get(provider, "")
        return self.e.add(
            "cloud_resource",
            name,
            environment=env,
            team="Infrastructure",
            criticality=crit,
            supplier=supplier,
            attributes=attributes,
        )

    def service(
        self,
        name: str,
        *,
        owner: str,
        crit: int,
        description: str,
        hours="business_hours",
        tier="silver",
        users=0,
        customer_facing=False,
        env="production",
    ) -> Key:
        return self.e.add(
            "business_service",
            name,
            environment=env,
            team="Applications",
            owner=owner,
            criticality=crit,
            description=description,
            attributes={
                "service_hours": hours,
                "tier": tier,
                "users": users,
                "customer_facing": customer_facing,
                "rto_minutes": 60 if crit == 1 else 240,
            },
        )


def build_estate() -> Estate:
    """The whole demo estate, as data (no database access)."""
    e = Estate()
    net = _network(e)
    platform = _platform(e, net)
    b = _Builder(e, net, platform)

    # Identity: AD domain controllers and DNS need each other (AD-integrated DNS), SSO on top.
    dcs = [
        b.vm(f"vm-dc-{site}-0{n}", site, os="Windows Server 2022", crit=1)
        for site in SITES
        for n in (1, 2)
    ]
    ad = b.app(
        "Active Directory",
        dcs,
        crit=1,
        team="Infrastructure",
        supplier="Microsoft",
        vendor="Microsoft",
        description="corp.example forest, four domain controllers.",
    )
    dns = b.app(
        "Internal DNS", dcs, crit=1, team="Infrastructure", supplier="Microsoft", vendor="Microsoft"
    )
    e.rel(ad, "depends_on", dns)
    e.rel(dns, "depends_on", ad)
    sso_vms = [b.vm(f"vm-sso-0{n}", site) for n, site in ((1, "par1"), (2, "lyo2"))]
    sso_db = b.db("db-sso", [b.vm("vm-sso-db-01", crit=2)], size=8)
    sso = b.app(
        "Keycloak SSO",
        sso_vms,
        crit=1,
        supplier="Red Hat",
        version="25.0",
        url="https://sso.corp.example",
        lb=net["par1"]["lb"],
    )
    e.rel(sso, "depends_on", ad, sso_db)
    identity = b.service(
        "Identity & single sign-on",
        owner="changemgr",
        crit=1,
        hours="24x7",
        tier="gold",
        users=2400,
        description="Accounts, passwords, SSO and MFA for every internal application.",
    )
    e.rel(identity, "depends_on", ad, sso, dns)
    radius = b.app("RADIUS (NPS)", dcs[:2], crit=1, team="Network", supplier="Microsoft")
    e.rel(radius, "depends_on", ad)

    # Email: Exchange hybrid with Microsoft 365.
    mbx = [
        b.vm(f"vm-exch-mbx-0{n}", site, os="Windows Server 2022", cpu=8, memory=64, crit=1)
        for n, site in ((1, "par1"), (2, "par1"), (3, "lyo2"), (4, "lyo2"))
    ]
    exchange = b.app(
        "Exchange hybrid",
        mbx,
        crit=1,
        supplier="Microsoft",
        version="2019 CU14",
        lb=net["par1"]["lb"],
    )
    m365 = b.cloud(
        "Microsoft 365 tenant",
        "azure",
        "m365-tenant",
        region="europe",
        crit=1,
        account="corp-example",
    )
    gateway = b.cloud("Mail filtering gateway", "other", "saas", region="eu", crit=2)
    e.rel(exchange, "depends_on", ad, dns)
    email = b.service(
        "Email",
        owner="manager",
        crit=1,
        hours="24x7",
        tier="gold",
        users=2400,
        description="Mailboxes, calendars and shared mailboxes (Exchange hybrid, Microsoft 365).",
    )
    e.rel(email, "depends_on", exchange, m365, gateway)

    # VPN and remote access.
    vpn = b.service(
        "VPN & remote access",
        owner="changemgr",
        crit=1,
        hours="24x7",
        tier="gold",
        users=1800,
        description="Remote access for employees and suppliers (FortiClient, MFA).",
    )
    e.rel(vpn, "depends_on", net["par1"]["vpn"], net["lyo2"]["vpn"], radius, sso)

    # ERP, with test copy.
    erp_app_vms = [
        b.vm(
            f"vm-erp-app-0{n}", "par1", os="Red Hat Enterprise Linux 9", cpu=16, memory=128, crit=1
        )
        for n in range(1, 5)
    ]
    erp_db_hosts = [
        e.add(
            "server",
            f"srv-erp-db-0{n}",
            team="Infrastructure",
            supplier="HPE",
            criticality=1,
            attributes={
                "hostname": f"srv-erp-db-0{n}.corp.example",
                "ip_address": _ip("par1", 6, n),
                "os": "Oracle Linux 9",
                "cpu_count": 48,
                "memory_gb": 768,
                "virtual": False,
                "location": "Paris DC1",
            },
        )
        for n in (1, 2)
    ]
    for host in erp_db_hosts:
        e.rel(host, "depends_on", platform["par1"]["san"])
        e.rel(host, "connects_to", *net["par1"]["tor"][:2])
    erp_db = b.db(
        "db-erp-prod",
        erp_db_hosts,
        engine="oracle",
        version="19c",
        crit=1,
        size=4200,
        supplier="Oracle",
    )
    erp = b.app(
        "ERP (SAP S/4HANA)",
        erp_app_vms,
        crit=1,
        supplier="SAP",
        version="2023 FPS02",
        vendor="SAP",
        lb=net["par1"]["lb"],
    )
    erp_batch = b.app(
        "ERP batch scheduler", [b.vm("vm-erp-batch-01", crit=2)], crit=2, supplier="SAP"
    )
    e.rel(erp, "depends_on", erp_db, sso)
    e.rel(erp_batch, "depends_on", erp, erp_db)
    erp_service = b.service(
        "ERP",
        owner="manager",
        crit=1,
        hours="extended_hours",
        tier="gold",
        users=900,
        description="Finance, purchasing, stock and invoicing.",
    )
    e.rel(erp_service, "depends_on", erp, erp_batch)
    erp_test_db = b.db(
        "db-erp-test",
        [b.vm("vm-erp-test-db-01", env="test", crit=4)],
        engine="oracle",
        version="19c",
        env="test",
        crit=4,
        size=900,
        supplier="Oracle",
    )
    erp_test = b.app(
        "ERP (SAP S/4HANA) test",
        [b.vm("vm-erp-test-01", env="test", crit=4)],
        env="test",
        crit=4,
        supplier="SAP",
    )
    e.rel(erp_test, "depends_on", erp_test_db)

    # CRM on premises, with staging.
    crm_web = b.app(
        "CRM web portal",
        [b.vm(f"vm-crm-web-0{n}", site) for n, site in ((1, "par1"), (2, "par1"), (3, "lyo2"))],
        crit=1,
        supplier="SugarCRM",
        version="13.0",
        url="https://crm.corp.example",
        lb=net["par1"]["lb"],
    )
    crm_api = b.app(
        "CRM API",
        [b.vm(f"vm-crm-api-0{n}") for n in (1, 2)],
        crit=1,
        supplier="SugarCRM",
        version="13.0",
    )
    crm_db = b.db(
        "db-crm-prod",
        [
            b.vm("vm-crm-db-01", cpu=8, memory=64, crit=1),
            b.vm("vm-crm-db-02", "lyo2", cpu=8, memory=64, crit=1),
        ],
        engine="mysql",
        version="8.0.39",
        crit=1,
        size=640,
    )
    crm_cache = b.db(
        "redis-crm", [b.vm("vm-crm-redis-01")], engine="redis", version="7.2", crit=2, size=4
    )
    e.rel(crm_web, "depends_on", crm_api, sso)
    e.rel(crm_api, "depends_on", crm_db, crm_cache)
    e.rel(crm_api, "connects_to", erp)  # customer accounts and invoices
    crm = b.service(
        "CRM",
        owner="problemmgr",
        crit=2,
        tier="silver",
        users=450,
        description="Sales pipeline, customer accounts and support contracts.",
    )
    e.rel(crm, "depends_on", crm_web, crm_api)
    crm_stg = b.app(
        "CRM web portal staging",
        [b.vm("vm-crm-stg-01", env="staging", crit=4)],
        env="staging",
        crit=4,
        supplier="SugarCRM",
    )
    e.rel(
        crm_stg,
        "depends_on",
        b.db(
            "db-crm-staging",
            [b.vm("vm-crm-stg-db-01", env="staging", crit=4)],
            engine="mysql",
            version="8.0.39",
            env="staging",
            crit=4,
            size=60,
        ),
    )

    # Web shop and public website in the cloud.
    eks = b.cloud("eks-shop-prod", "aws", "eks-cluster", crit=1, size="12 x m6i.xlarge")
    aurora = b.cloud(
        "aurora-shop-prod", "aws", "rds-aurora-postgresql", crit=1, size="db.r6g.2xlarge"
    )
    cdn = b.cloud("cloudfront-www", "aws", "cloudfront-distribution", region="global", crit=1)
    bucket = b.cloud("s3-www-assets", "aws", "s3-bucket", crit=2)
    shop_db = e.add(
        "database",
        "db-shop-prod",
        team="Applications",
        criticality=1,
        supplier="Amazon Web Services",
        attributes={
            "engine": "postgresql",
            "version": "16.3",
            "size_gb": 380,
            "replicas": 2,
            "port": 5432,
        },
    )
    e.rel(shop_db, "hosted_on", aurora)
    shop_front = e.add(
        "application",
        "Shop storefront",
        team="Applications",
        criticality=1,
        supplier="In-house",
        attributes={
            "version": "2026.11.2",
            "url": "https://shop.example.com",
            "language": "TypeScript / Next.js",
        },
    )
    shop_api = e.add(
        "application",
        "Shop API",
        team="Applications",
        criticality=1,
        supplier="In-house",
        attributes={"version": "2026.11.2", "language": "Python / Django"},
    )
    payments = b.cloud("Payment service provider", "other", "saas", region="eu", crit=1)
    e.rel(shop_front, "runs_on", eks)
    e.rel(shop_front, "depends_on", cdn, shop_api)
    e.rel(shop_api, "runs_on", eks)
    e.rel(shop_api, "depends_on", shop_db, payments)
    e.rel(shop_api, "connects_to", erp)  # stock levels and orders
    e.rel(cdn, "depends_on", bucket)
    shop = b.service(
        "Online shop",
        owner="manager",
        crit=1,
        hours="24x7",
        tier="gold",
        users=0,
        customer_facing=True,
        description="shop.example.com: catalogue, basket, payment, order tracking.",
    )
    e.rel(shop, "depends_on", shop_front, shop_api)
    www_vms = [
        b.cloud(f"ec2-www-0{n}", "aws", "ec2-instance", crit=2, size="t3.large") for n in (1, 2)
    ]
    www = e.add(
        "application",
        "Corporate website (WordPress)",
        team="Applications",
        criticality=2,
        supplier="In-house",
        attributes={"version": "6.6", "url": "https://www.example.com", "language": "PHP"},
    )
    e.rel(www, "runs_on", *www_vms)
    e.rel(
        www,
        "depends_on",
        cdn,
        b.cloud("rds-www-mysql", "aws", "rds-mysql", crit=2, size="db.t3.medium"),
    )
    website = b.service(
        "Public website",
        owner="manager",
        crit=2,
        hours="24x7",
        tier="silver",
        customer_facing=True,
        description="www.example.com and its contact forms.",
    )
    e.rel(website, "depends_on", www)

    # Internal services on VMs.
    def internal(
        name,
        app_name,
        prefix,
        *,
        owner,
        crit,
        users,
        description,
        engine="postgresql",
        supplier="",
        vms=2,
        extra=None,
    ):
        app_vms = [
            b.vm(f"vm-{prefix}-0{n}", "par1" if n % 2 else "lyo2") for n in range(1, vms + 1)
        ]
        app = b.app(app_name, app_vms, crit=crit, supplier=supplier)
        database = b.db(f"db-{prefix}", [b.vm(f"vm-{prefix}-db-01")], engine=engine, crit=crit)
        e.rel(app, "depends_on", database, sso)
        service = b.service(name, owner=owner, crit=crit, users=users, description=description)
        e.rel(service, "depends_on", app, *(extra or ()))
        return service, app

    hr, hr_app = internal(
        "HR & payroll",
        "HR portal",
        "hr",
        owner="manager",
        crit=2,
        users=2400,
        description="Leave requests, payslips, expense claims.",
        supplier="Workday",
    )
    e.rel(hr_app, "connects_to", erp)
    internal(
        "Intranet",
        "Intranet (WordPress)",
        "intranet",
        owner="problemmgr",
        crit=3,
        users=2400,
        description="News, policies, the phone book.",
        engine="mysql",
    )
    itsm, _itsm_app = internal(
        "IT service desk",
        "ITSM service desk",
        "itsm",
        owner="changemgr",
        crit=2,
        users=2400,
        description="This service desk: incidents, requests, changes, CMDB.",
    )
    e.rel(itsm, "depends_on", email)
    bi, bi_app = internal(
        "Reporting & BI",
        "Metabase",
        "bi",
        owner="manager",
        crit=3,
        users=150,
        description="Dashboards for finance and sales.",
        vms=1,
    )
    dwh = b.db(
        "db-dwh", [b.vm(f"vm-dwh-0{n}", cpu=16, memory=128) for n in (1, 2)], crit=3, size=2800
    )
    etl = b.app("ETL pipelines (Airflow)", [b.vm("vm-etl-01")], crit=3, supplier="Apache")
    e.rel(etl, "depends_on", dwh, erp_db, crm_db, shop_db)
    e.rel(bi_app, "depends_on", dwh)
    e.rel(bi, "depends_on", etl)
    files_vms = [
        b.vm(f"vm-files-0{n}", site, os="Windows Server 2022")
        for n, site in ((1, "par1"), (2, "lyo2"))
    ]
    files_app = b.app(
        "File shares (DFS)", files_vms, crit=2, team="Infrastructure", supplier="Microsoft"
    )
    e.rel(files_app, "depends_on", platform["par1"]["nas"], platform["lyo2"]["nas"], ad)
    files = b.service(
        "File sharing",
        owner="changemgr",
        crit=2,
        users=2400,
        description="Department shares and home folders.",
    )
    e.rel(files, "depends_on", files_app)
    pbx = b.app(
        "IP telephony (3CX)",
        [b.vm("vm-pbx-01"), b.vm("vm-pbx-02", "lyo2")],
        crit=2,
        team="Network",
        supplier="3CX",
    )
    sbc = e.add(
        "network_device",
        "sbc-par1-01",
        team="Network",
        supplier="AudioCodes",
        criticality=2,
        attributes={
            "device_type": "router",
            "ip_address": _ip("par1", 7, 1),
            "model": "Mediant 800",
            "location": "Paris DC1",
        },
    )
    e.rel(sbc, "connects_to", net["par1"]["edge"])
    e.rel(pbx, "depends_on", sbc, ad)
    phone = b.service(
        "Telephony",
        owner="changemgr",
        crit=2,
        hours="extended_hours",
        users=2400,
        description="Desk phones, softphones and the switchboard.",
    )
    e.rel(phone, "depends_on", pbx)
    backup_app = b.app(
        "Backup (Veeam)",
        [b.vm("vm-veeam-01", os="Windows Server 2022")],
        crit=2,
        team="Infrastructure",
        supplier="Veeam",
        version="12.2",
    )
    e.rel(
        backup_app,
        "depends_on",
        platform["par1"]["backup"],
        platform["lyo2"]["backup"],
        b.cloud("s3-backup-offsite", "aws", "s3-bucket", crit=2),
    )
    backup = b.service(
        "Backup & restore",
        owner="changemgr",
        crit=2,
        hours="24x7",
        description="Nightly backups of servers and databases, off-site copy.",
    )
    e.rel(backup, "depends_on", backup_app)
    monitoring_app = b.app(
        "Monitoring (Zabbix)",
        [b.vm("vm-zabbix-01")],
        crit=2,
        team="Infrastructure",
        supplier="Zabbix",
        version="7.0",
    )
    e.rel(
        monitoring_app, "depends_on", b.db("db-zabbix", [b.vm("vm-zabbix-db-01")], crit=2, size=300)
    )
    monitoring = b.service(
        "Monitoring",
        owner="changemgr",
        crit=3,
        hours="24x7",
        users=40,
        description="Availability and performance monitoring of the estate.",
    )
    e.rel(monitoring, "depends_on", monitoring_app)

    _more_services(
        e, b, net, sso=sso, ad=ad, dns=dns, erp=erp, eks=eks, shop_api=shop_api, exchange=exchange
    )
    _branches(e, b, net, ad=ad)

    # Workstation fleet support servers and a retired system, for realism.
    for n in range(1, 7):
        name = (
            f"vm-print-0{n}" if n <= 2 else f"vm-wsus-0{n - 2}" if n <= 4 else f"vm-sccm-0{n - 4}"
        )
        b.vm(name, "par1" if n % 2 else "lyo2", os="Windows Server 2022", crit=4)
    old = b.app(
        "Legacy CRM (retired)", [b.vm("vm-legacy-crm-01", crit=4)], crit=4, supplier="Siebel"
    )
    e.cis[old]["status"] = CI.Status.RETIRED
    e.add(
        "business_service",
        "Video conferencing",
        owner="manager",
        criticality=3,
        status=CI.Status.PLANNED,
        team="Applications",
        description="Planned: room systems for the new Lyon office.",
        attributes={"service_hours": "business_hours", "tier": "bronze"},
    )
    return e


def _more_services(e: Estate, b: _Builder, net: dict, **apps: Key) -> None:
    """Internet access, PKI, developer tools, the shop's microservices, test environments."""
    proxies = [b.vm(f"vm-proxy-0{n}", site) for n, site in ((1, "par1"), (2, "lyo2"))]
    proxy = b.app("Web proxy (Squid)", proxies, crit=2, team="Network", supplier="Red Hat")
    e.rel(proxy, "depends_on", *net["par1"]["fw"], *net["lyo2"]["fw"], apps["dns"])
    internet = b.service(
        "Internet access",
        owner="changemgr",
        crit=2,
        hours="24x7",
        users=2400,
        description="Web browsing through the filtering proxies.",
    )
    e.rel(internet, "depends_on", proxy, net["par1"]["edge"], net["lyo2"]["edge"])
    pki = b.app(
        "PKI (AD CS)",
        [
            b.vm("vm-pki-root-01", os="Windows Server 2022", crit=2),
            b.vm("vm-pki-sub-01", os="Windows Server 2022", crit=2),
        ],
        crit=2,
        team="Infrastructure",
        supplier="Microsoft",
    )
    e.rel(pki, "depends_on", apps["ad"])
    e.rel(apps["sso"], "depends_on", pki)
    relay = b.app(
        "SMTP relay", [b.vm("vm-smtp-01")], crit=2, team="Infrastructure", supplier="Postfix"
    )
    e.rel(relay, "depends_on", apps["exchange"])
    for name, prefix, supplier, owner in (
        ("Document management", "ged", "Alfresco", "problemmgr"),
        ("Project management", "jira", "Atlassian", "problemmgr"),
        ("Source code & CI", "gitlab", "GitLab", "changemgr"),
    ):
        app = b.app(
            f"{name} ({supplier})",
            [b.vm(f"vm-{prefix}-0{n}") for n in (1, 2)],
            crit=3,
            supplier=supplier,
        )
        database = b.db(f"db-{prefix}", [b.vm(f"vm-{prefix}-db-01")], crit=3, size=250)
        e.rel(app, "depends_on", database, apps["sso"], relay)
        service = b.service(
            name, owner=owner, crit=3, users=600, description=f"{supplier}, hosted in Paris DC1."
        )
        e.rel(service, "depends_on", app)
    cache = b.cloud("elasticache-shop", "aws", "elasticache-redis", crit=1, size="cache.r6g.large")
    queue = b.cloud("sqs-shop-orders", "aws", "sqs-queue", crit=1)
    search = b.cloud("opensearch-shop", "aws", "opensearch-domain", crit=2, size="3 x r6g.large")
    for name, needs in (
        ("Shop catalogue service", [search]),
        ("Shop basket service", [cache]),
        ("Shop checkout service", [queue, cache]),
        ("Shop search service", [search]),
        ("Shop recommendations", [search]),
        ("Shop notifications", [queue, b.cloud("ses-shop-mail", "aws", "ses-identity", crit=2)]),
    ):
        micro = e.add(
            "application",
            name,
            team="Applications",
            criticality=2,
            supplier="In-house",
            attributes={"version": "2026.11.2", "language": "Python"},
        )
        e.rel(micro, "runs_on", apps["eks"])
        e.rel(micro, "depends_on", *needs)
        e.rel(apps["shop_api"], "depends_on", micro)
    for prefix, label, env in (
        ("hr", "HR portal", "test"),
        ("intranet", "Intranet", "staging"),
        ("itsm", "ITSM service desk", "staging"),
        ("bi", "Metabase", "test"),
        ("exch", "Exchange", "test"),
        ("gitlab", "GitLab", "staging"),
    ):
        app = b.app(
            f"{label} {env}", [b.vm(f"vm-{prefix}-{env[:3]}-01", env=env, crit=4)], env=env, crit=4
        )
        e.rel(
            app,
            "depends_on",
            b.db(
                f"db-{prefix}-{env}",
                [b.vm(f"vm-{prefix}-{env[:3]}-db-01", env=env, crit=4)],
                env=env,
                crit=4,
                size=20,
            ),
        )
    shop_stg = b.cloud(
        "eks-shop-staging",
        "aws",
        "eks-cluster",
        env="staging",
        crit=4,
        account="staging-413",
        size="3 x m6i.large",
    )
    for name in ("Shop storefront staging", "Shop API staging"):
        app = e.add(
            "application",
            name,
            environment="staging",
            team="Applications",
            criticality=4,
            supplier="In-house",
        )
        e.rel(app, "runs_on", shop_stg)
    e.rel(
        ("application", "Shop storefront staging"),
        "depends_on",
        ("application", "Shop API staging"),
    )
    e.rel(
        ("application", "Shop API staging"),
        "depends_on",
        b.cloud(
            "aurora-shop-staging",
            "aws",
            "rds-aurora-postgresql",
            env="staging",
            crit=4,
            account="staging-413",
        ),
    )
    e.rel(
        apps["erp"],
        "depends_on",
        b.cloud(
            "azure-blob-erp-archive",
            "azure",
            "storage-account",
            region="francecentral",
            crit=3,
            account="corp-erp",
        ),
    )


BRANCHES = {
    "bod": "Bordeaux",
    "lil": "Lille",
    "nte": "Nantes",
    "tls": "Toulouse",
    "mrs": "Marseille",
    "sxb": "Strasbourg",
    "nce": "Nice",
    "rns": "Rennes",
}


def _branches(e: Estate, b: _Builder, net: dict, **apps: Key) -> None:
    """Eight branch offices on SD-WAN: a router, a switch, two access points, a print server."""
    controller = e.add(
        "network_device",
        "wlc-par1-01",
        team="Network",
        supplier="Cisco",
        criticality=2,
        attributes={
            "device_type": "wireless_controller",
            "ip_address": _ip("par1", 8, 1),
            "model": "Catalyst 9800-40",
            "location": "Paris DC1",
        },
    )
    e.rel(controller, "connects_to", *net["par1"]["core"])
    office = b.service(
        "Office network & Wi-Fi",
        owner="changemgr",
        crit=2,
        users=2400,
        description="Wired and wireless network in the head office and the eight branches.",
    )
    e.rel(office, "depends_on", controller, apps["ad"])
    for n, (code, city) in enumerate(BRANCHES.items(), start=1):
        site = {"team": "Network", "supplier": "Cisco", "criticality": 3}
        router = e.add(
            "network_device",
            f"rtr-br-{code}-01",
            attributes={
                "device_type": "router",
                "ip_address": f"10.{100 + n}.0.1",
                "model": "Catalyst 8200",
                "location": city,
            },
            **site,
        )
        e.rel(router, "connects_to", net["par1"]["edge"], net["lyo2"]["edge"])
        switch = e.add(
            "network_device",
            f"sw-br-{code}-01",
            attributes={
                "device_type": "switch",
                "ip_address": f"10.{100 + n}.0.2",
                "model": "Catalyst 9300-48P",
                "ports": 48,
                "location": city,
            },
            **site,
        )
        e.rel(switch, "connects_to", router)
        for ap in (1, 2):
            access_point = e.add(
                "network_device",
                f"ap-br-{code}-0{ap}",
                team="Network",
                supplier="Cisco",
                criticality=4,
                attributes={
                    "device_type": "access_point",
                    "ip_address": f"10.{100 + n}.0.{10 + ap}",
                    "model": "Catalyst 9136",
                    "location": city,
                },
            )
            e.rel(access_point, "connects_to", switch, controller)
            e.rel(office, "depends_on", access_point)
        printer = e.add(
            "server",
            f"srv-br-{code}-01",
            team="Infrastructure",
            supplier="Dell",
            criticality=4,
            attributes={
                "hostname": f"srv-br-{code}-01.corp.example",
                "ip_address": f"10.{100 + n}.0.20",
                "os": "Windows Server 2022",
                "cpu_count": 4,
                "memory_gb": 16,
                "virtual": False,
                "location": city,
            },
        )
        e.rel(printer, "connects_to", switch)
        e.rel(printer, "depends_on", apps["ad"])
        e.rel(office, "depends_on", switch)


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
        existing[key] = services.create_ci(actor=None, **fields)
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
        services.relate(existing[source], existing[target], rel_type, actor=None)
        have.add(ids)
        added += 1
        if progress is not None and added % 100 == 0:
            progress.set_postfix_str(f"cmdb: {added} relationships")
    if progress is not None:
        progress.set_postfix_str(f"cmdb: {created} CIs, {added} relationships added")
