"""Attribute schemas: every seeded class accepts good attributes and names each bad one."""

import pytest
from django.core.exceptions import ValidationError

from cmdb import services
from cmdb.models import CIClass
from cmdb.schema import attribute_errors, schema_errors

from .conftest import VALID

SEEDED = [
    "business_service",
    "application",
    "database",
    "server",
    "network_device",
    "storage",
    "cloud_resource",
]

# class -> (attributes, {error key: words the message contains})
INVALID = {
    "business_service": (
        {"service_hours": "sometimes", "users": -1},
        {"attributes.service_hours": "one of", "attributes.users": "at least 0"},
    ),
    "application": (
        {"url": 42, "colour": "red"},
        {"attributes.url": "text", "attributes.colour": "Unknown"},
    ),
    "database": ({"port": 70000}, {"attributes.engine": "required", "attributes.port": "at most"}),
    "server": (
        {"ip_address": "999.1.1.1", "cpu_count": "four", "hostname": "bad host!"},
        {
            "attributes.ip_address": "ipv4",
            "attributes.cpu_count": "whole number",
            "attributes.hostname": "expected form",
        },
    ),
    "network_device": ({"device_type": "toaster"}, {"attributes.device_type": "one of"}),
    "storage": (
        {"capacity_tb": "lots", "protocol": "ftp"},
        {"attributes.capacity_tb": "number", "attributes.protocol": "one of"},
    ),
    "cloud_resource": ({"provider": "aws"}, {"attributes.resource_type": "required"}),
}


def test_the_migration_seeds_the_spec_classes(classes):
    assert set(SEEDED) <= set(classes)
    for ci_class in classes.values():
        assert schema_errors(ci_class.attribute_schema) == []


@pytest.mark.parametrize("name", SEEDED)
def test_each_class_accepts_valid_attributes(classes, name):
    assert classes[name].attribute_errors(VALID[name]) == {}


@pytest.mark.parametrize("name", SEEDED)
def test_each_class_names_every_bad_attribute(classes, name):
    attributes, expected = INVALID[name]
    errors = classes[name].attribute_errors(attributes)
    assert set(errors) == set(expected)
    for key, words in expected.items():
        assert any(words in message for message in errors[key]), (key, errors[key])


@pytest.mark.parametrize("name", SEEDED)
def test_a_write_with_bad_attributes_is_refused_per_field(classes, name):
    attributes, expected = INVALID[name]
    with pytest.raises(ValidationError) as caught:
        services.create_ci(actor=None, name="x", ci_class=classes[name], attributes=attributes)
    assert set(expected) <= set(caught.value.message_dict)


def test_attributes_must_be_an_object():
    assert attribute_errors({"type": "object"}, ["a"]) == {
        "attributes": ["Attributes must be a JSON object."]
    }


def test_nested_errors_name_their_path():
    schema = {
        "type": "object",
        "properties": {
            "disks": {
                "type": "array",
                "items": {"type": "object", "properties": {"size_gb": {"type": "integer"}}},
            }
        },
    }
    errors = attribute_errors(schema, {"disks": [{"size_gb": 10}, {"size_gb": "big"}]})
    assert list(errors) == ["attributes.disks.1.size_gb"]


def test_a_class_without_schema_accepts_anything():
    assert attribute_errors({}, {"anything": [1, 2]}) == {}


@pytest.mark.parametrize(
    "schema",
    [[], {"type": "array"}, {"type": "object", "properties": {"a": {"type": "no-such-type"}}}],
)
def test_an_unusable_schema_is_refused(db, schema):
    ci_class = CIClass(name="custom", label="Custom", attribute_schema=schema)
    with pytest.raises(ValidationError) as caught:
        ci_class.full_clean()
    assert "attribute_schema" in caught.value.message_dict


def test_a_new_class_validates_its_cis(db):
    ci_class = CIClass.objects.create(
        name="printer",
        label="Printer",
        attribute_schema={
            "type": "object",
            "properties": {"colour": {"type": "boolean"}},
            "required": ["colour"],
        },
    )
    with pytest.raises(ValidationError) as caught:
        services.create_ci(actor=None, name="prn-01", ci_class=ci_class, attributes={})
    assert caught.value.message_dict == {"attributes.colour": ["This attribute is required."]}
    assert services.create_ci(
        actor=None, name="prn-01", ci_class=ci_class, attributes={"colour": True}
    )


def test_nul_characters_are_refused_before_they_reach_the_database():
    assert attribute_errors({}, {"os": "Linux\x00"}) == {
        "attributes": ["Text cannot contain NUL characters."]
    }
