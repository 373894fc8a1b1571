"""The CI classes of SPEC §7 and their attribute schemas (JSON Schema, draft 2020-12).

Seeded by migration 0003 and re-created by the demo loader when missing; admins add more
classes, and tune these, in /admin/ or through ``cmdb/classes/``.
"""

from django.utils.translation import gettext_noop

HOSTNAME = r"^[A-Za-z0-9]([A-Za-z0-9.-]{0,251}[A-Za-z0-9])?$"
VERSION = {"type": "string", "title": gettext_noop("Version"), "maxLength": 50}
LOCATION = {"type": "string", "title": gettext_noop("Location"), "maxLength": 100}

CLASSES = [
    {
        "name": "business_service",
        "label": gettext_noop("Business service"),
        "description": "A service the business consumes (email, CRM, VPN...).",
        "attribute_schema": {
            "type": "object",
            "properties": {
                "service_hours": {
                    "type": "string",
                    "title": gettext_noop("Service hours"),
                    "enum": ["24x7", "business_hours", "extended_hours"],
                },
                "tier": {
                    "type": "string",
                    "title": gettext_noop("Tier"),
                    "enum": ["gold", "silver", "bronze"],
                },
                "customer_facing": {"type": "boolean", "title": gettext_noop("Customer facing")},
                "users": {"type": "integer", "title": gettext_noop("Users"), "minimum": 0},
                "rto_minutes": {
                    "type": "integer",
                    "title": gettext_noop("RTO (minutes)"),
                    "minimum": 0,
                },
                "rpo_minutes": {
                    "type": "integer",
                    "title": gettext_noop("RPO (minutes)"),
                    "minimum": 0,
                },
            },
            "additionalProperties": False,
        },
    },
    {
        "name": "application",
        "label": gettext_noop("Application"),
        "description": "Software that delivers (part of) a business service.",
        "attribute_schema": {
            "type": "object",
            "properties": {
                "version": VERSION,
                "vendor": {"type": "string", "title": gettext_noop("Vendor"), "maxLength": 100},
                "url": {"type": "string", "title": gettext_noop("URL"), "format": "uri"},
                "language": {
                    "type": "string",
                    "title": gettext_noop("Language / platform"),
                    "maxLength": 50,
                },
                "licence": {"type": "string", "title": gettext_noop("Licence"), "maxLength": 100},
            },
            "additionalProperties": False,
        },
    },
    {
        "name": "database",
        "label": gettext_noop("Database"),
        "description": "A database instance or cluster.",
        "attribute_schema": {
            "type": "object",
            "properties": {
                "engine": {
                    "type": "string",
                    "title": gettext_noop("Engine"),
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
                "port": {
                    "type": "integer",
                    "title": gettext_noop("Port"),
                    "minimum": 1,
                    "maximum": 65535,
                },
                "size_gb": {"type": "number", "title": gettext_noop("Size (GB)"), "minimum": 0},
                "replicas": {"type": "integer", "title": gettext_noop("Replicas"), "minimum": 0},
            },
            "required": ["engine"],
            "additionalProperties": False,
        },
    },
    {
        "name": "server",
        "label": gettext_noop("Server"),
        "description": "A physical or virtual server.",
        "attribute_schema": {
            "type": "object",
            "properties": {
                "hostname": {
                    "type": "string",
                    "title": gettext_noop("Host name"),
                    "pattern": HOSTNAME,
                },
                "ip_address": {
                    "type": "string",
                    "title": gettext_noop("IP address"),
                    "format": "ipv4",
                },
                "os": {
                    "type": "string",
                    "title": gettext_noop("Operating system"),
                    "maxLength": 100,
                },
                "cpu_count": {
                    "type": "integer",
                    "title": gettext_noop("CPUs"),
                    "minimum": 1,
                    "maximum": 1024,
                },
                "memory_gb": {
                    "type": "number",
                    "title": gettext_noop("Memory (GB)"),
                    "exclusiveMinimum": 0,
                },
                "virtual": {"type": "boolean", "title": gettext_noop("Virtual")},
                "serial_number": {
                    "type": "string",
                    "title": gettext_noop("Serial number"),
                    "maxLength": 64,
                },
                "location": LOCATION,
            },
            "additionalProperties": False,
        },
    },
    {
        "name": "network_device",
        "label": gettext_noop("Network device"),
        "description": "Routers, switches, firewalls, load balancers, VPN gateways.",
        "attribute_schema": {
            "type": "object",
            "properties": {
                "device_type": {
                    "type": "string",
                    "title": gettext_noop("Device type"),
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
                "ip_address": {
                    "type": "string",
                    "title": gettext_noop("Management IP"),
                    "format": "ipv4",
                },
                "model": {"type": "string", "title": gettext_noop("Model"), "maxLength": 100},
                "firmware": VERSION,
                "ports": {"type": "integer", "title": gettext_noop("Ports"), "minimum": 0},
                "location": LOCATION,
            },
            "required": ["device_type"],
            "additionalProperties": False,
        },
    },
    {
        "name": "storage",
        "label": gettext_noop("Storage"),
        "description": "SAN, NAS, object storage and backup systems.",
        "attribute_schema": {
            "type": "object",
            "properties": {
                "storage_type": {
                    "type": "string",
                    "title": gettext_noop("Storage type"),
                    "enum": ["san", "nas", "object", "backup"],
                },
                "capacity_tb": {
                    "type": "number",
                    "title": gettext_noop("Capacity (TB)"),
                    "minimum": 0,
                },
                "used_tb": {"type": "number", "title": gettext_noop("Used (TB)"), "minimum": 0},
                "protocol": {
                    "type": "string",
                    "title": gettext_noop("Protocol"),
                    "enum": ["iscsi", "fc", "nfs", "smb", "s3"],
                },
                "model": {"type": "string", "title": gettext_noop("Model"), "maxLength": 100},
                "location": LOCATION,
            },
            "additionalProperties": False,
        },
    },
    {
        "name": "cloud_resource",
        "label": gettext_noop("Cloud resource"),
        "description": "A resource in a public cloud (instance, managed database, bucket...).",
        "attribute_schema": {
            "type": "object",
            "properties": {
                "provider": {
                    "type": "string",
                    "title": gettext_noop("Provider"),
                    "enum": ["aws", "azure", "gcp", "ovhcloud", "scaleway", "other"],
                },
                "resource_type": {
                    "type": "string",
                    "title": gettext_noop("Resource type"),
                    "maxLength": 100,
                },
                "region": {"type": "string", "title": gettext_noop("Region"), "maxLength": 50},
                "account": {
                    "type": "string",
                    "title": gettext_noop("Account / subscription"),
                    "maxLength": 100,
                },
                "resource_id": {
                    "type": "string",
                    "title": gettext_noop("Resource id"),
                    "maxLength": 255,
                },
                "size": {"type": "string", "title": gettext_noop("Size / tier"), "maxLength": 50},
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
