"""More of the demo estate: internet access, PKI, developer tools, the web shop's
microservices, test environments and eight branch offices."""

from .estate import Estate, _Builder, _ip

Key = tuple[str, str]


def _more_services(e: Estate, b: _Builder, net: dict, **apps: Key) -> None:
    """Internet access, PKI, developer tools, the shop's microservices, test environments."""
    proxies = [b.vm(f"vm-proxy-0{n}", site) for n, site in ((1, "par1"), (2, "lyo2"))]
    proxy = b.app("Web proxy (Squid)", proxies, crit=2, team="Network", supplier="Red Hat")
    e.rel(proxy, "depends_on", *net["par1"]["fw"], *net["lyo2"]["fw"], apps["dns"])
    internet = b.service(
        "Internet access",
        team="Network",
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
        team="Network",
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
