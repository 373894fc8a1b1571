"""The business services of the demo estate and the applications, databases and VMs they use."""

from ..models import CI
from .estate import SITES, Estate, _Builder, _ip, _network, _platform
from .extras import _branches, _more_services


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
        team="Network",
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
        team="Infrastructure",
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
        team="Network",
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
        team="Infrastructure",
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
        team="Infrastructure",
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
