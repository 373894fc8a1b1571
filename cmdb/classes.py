"""The CI classes of SPEC §7 and their attribute schemas (JSON Schema, draft 2020-12).

Seeded by migration 0003 and re-created by the demo loader when missing; admins add more
classes, and tune these, in /admin/ or through ``cmdb/classes/``.
"""

HOSTNAME = r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$"
VERSION = {"type": "string", "title": "Version", "maxLength": 50}
LOCATION = {"type": "string", "title": "Location", "maxLength": 100}

CLASSES = [
    {
        "name": "business_service",
        "label": "Business service",
        "description": "A service the business consumes (email, CRM, VPN...).",
        "attribute_schema": {
            "type": "object",
            "properties": {
                "service_hours": {
                    "type": "string",
                    "title": "Service hours",
                    "enum": ["24x7", "business_hours", "extended_hours"],
                },
                "tier": {"type": "string", "title": "Tier", "enum": ["gold", "silver", "bronze"]},
                "customer_facing": {"type": "boolean", "title": "Customer facing"},
                "users": {"type": "integer", "title": "Users", "minimum": 0},
                "rto_minutes": {"type": "integer", "title": "RTO (minutes)", "minimum": 0},
                "rpo_minutes": {"type": "integer", "title": "RPO (minutes)", "minimum": 0},
            },
            "additionalProperties": False,
        },
    },
    {
        "name": "application",
        "label": "Application",
        "description": "Software that delivers (part of) a business service.",
        "attribute_schema": {
            "type": "object",
            "properties": {
                "version": VERSION,
                "vendor": {"type": "string", "title": "Vendor", "maxLength": 100},
                "url": {"type": "string", "title": "URL", "format": "uri"},
                "language": {"type": "string", "title": "Language / platform", "maxLength": 50},
                "licence": {"type": "string", "title": "Licence", "maxLength": 100},
            },
            "additionalProperties": False,
        },
    },
    {
        "name": "database",
        "label": "Database",
        "description": "A database instance or cluster.",
        "attribute_schema": {
            "type": "object",
            "properties": {
                "engine": {
                    "type": "string",
                    "title": "Engine",
                    "enum": [
                        "postgresql",
                        "mysql",
                        "mariadb",
                        "oracle",
                        "sqlserver",
                        "mongodb",
                        "redis",
                        "other",
                    ],
                },
                "version": VERSION,
                "port": {"type": "integer", "title": "Port", "minimum": 1, "maximum": 65535},
                "size_gb": {"type": "number", "title": "Size (GB)", "minimum": 0},
                "replicas": {"type": "integer", "title": "Replicas", "minimum": 0},
            },
            "required": ["engine"],
            "additionalProperties": False,
        },
    },
    {
        "name": "server",
        "label": "Server",
        "description": "A physical or virtual server.",
        "attribute_schema": {
            "type": "object",
            "properties": {
                "hostname": {"type": "string", "title": "Host name", "pattern": HOSTNAME},
                "ip_address": {"type": "string", "title": "IP address", "format": "ipv4"},
                "os": {"type": "string", "title": "Operating system", "maxLength": 100},
                "cpu_count": {"type": "integer", "title": "CPUs", "minimum": 1, "maximum": 1024},
                "memory_gb": {"type": "number", "title": "Memory (GB)", "exclusiveMinimum": 0},
                "virtual": {"type": "boolean", "title": "Virtual"},
                "serial_number": {"type": "string", "title": "Serial number", "maxLength": 64},
                "location": LOCATION,
            },
            "additionalProperties": False,
        },
    },
    {
        "name": "network_device",
        "label": "Network device",
        "description": "Routers, switches, firewalls, load balancers, VPN gateways.",
        "attribute_schema": {
            "type": "object",
            "properties": {
                "device_type": {
                    "type": "string",
                    "title": "Device type",
                    "enum": [
                        "router",
                        "switch",
                        "firewall",
                        "load_balancer",
                        "vpn_gateway",
                        "wireless_controller",
                        "access_point",
                    ],
                },
                "ip_address": {"type": "string", "title": "Management IP", "format": "ipv4"},
                "model": {"type": "string", "title": "Model", "maxLength": 100},
                "firmware": VERSION,
                "ports": {"type": "integer", "title": "Ports", "minimum": 0},
                "location": LOCATION,
            },
            "required": ["device_type"],
            "additionalProperties": False,
        },
    },
    {
        "name": "storage",
        "label": "Storage",
        "description": "SAN, NAS, object storage and backup systems.",
        "attribute_schema": {
            "type": "object",
            "properties": {
                "storage_type": {
                    "type": "string",
                    "title": "Storage type",
                    "enum": ["san", "nas", "object", "backup"],
                },
                "capacity_tb": {"type": "number", "title": "Capacity (TB)", "minimum": 0},
                "used_tb": {"type": "number", "title": "Used (TB)", "minimum": 0},
                "protocol": {
                    "type": "string",
                    "title": "Protocol",
                    "enum": ["iscsi", "fc", "nfs", "smb", "s3"],
                },
                "model": {"type": "string", "title": "Model", "maxLength": 100},
                "location": LOCATION,
            },
            "additionalProperties": False,
        },
    },
    {
        "name": "cloud_resource",
        "label": "Cloud resource",
        "description": "A resource in a public cloud (instance, managed database, bucket...).",
        "attribute_schema": {
            "type": "object",
            "properties": {
                "provider": {
                    "type": "string",
                    "title": "Provider",
                    "enum": ["aws", "azure", "gcp", "ovhcloud", "scaleway", "other"],
                },
                "resource_type": {"type": "string", "title": "Resource type", "maxLength": 100},
                "region": {"type": "string", "title": "Region", "maxLength": 50},
                "account": {"type": "string", "title": "Account / subscription", "maxLength": 100},
                "resource_id": {"type": "string", "title": "Resource id", "maxLength": 255},
                "size": {"type": "string", "title": "Size / tier", "maxLength": 50},
            },
            "required": ["provider", "resource_type"],
            "additionalProperties": False,
        },
    },
]


def ensure_default_classes(model=None) -> int:
    """Create the default classes that are missing (never touches existing ones); return how
    many were created. ``model`` is the historical model inside a migration."""
    if model is None:
        from .models import CIClass as model
    created = 0
    for spec in CLASSES:
        _obj, new = model.objects.get_or_create(name=spec["name"], defaults=spec)
        created += new
    return created
