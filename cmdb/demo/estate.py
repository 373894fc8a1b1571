"""The demo estate as data, and the data centres under it: network, storage, hypervisors."""

from dataclasses import dataclass, field

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
        team="Applications",
    ) -> Key:
        """A business service; ``team`` is its support group, where its incidents are routed
        when the reporter names the service and no CI."""
        return self.e.add(
            "business_service",
            name,
            environment=env,
            team=team,
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
