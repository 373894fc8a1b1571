import re

import yaml


def test_the_openapi_schema_describes_the_ticket_endpoints(db, client):
    response = client.get("/api/v1/schema/")
    assert response.status_code == 200
    schema = yaml.safe_load(response.content)
    paths = schema["paths"]
    for path in [
        "/api/v1/incidents/",
        "/api/v1/incidents/{number}/",
        "/api/v1/incidents/{number}/transition/",
        "/api/v1/incidents/{number}/comments/",
        "/api/v1/incidents/{number}/attachments/",
        "/api/v1/incidents/{number}/history/",
        "/api/v1/incidents/{number}/rating/",
        "/api/v1/users/",
        "/api/v1/users/me/",
        "/api/v1/teams/",
        "/api/v1/auth/token/",
        "/api/v1/notifications/",
    ]:
        assert path in paths, path


def test_the_interactive_docs_load_nothing_from_another_site(db, client):
    response = client.get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    sources = re.findall(r'(?:src|href)="([^"]+)"', html)
    assert sources, "the docs page should load its scripts"
    assert all(not s.startswith(("http://", "https://", "//")) for s in sources), sources
    assert "swagger-ui" in html


def test_a_patch_on_any_ticket_documents_its_409_and_the_body(db, client):
    """A finished ticket or a stale version answers 409 ``{"detail", "allowed"?}``: the schema
    says so for every ticket type, beside the 200 with the ticket."""
    schema = yaml.safe_load(client.get("/api/v1/schema/").content)
    for kind, component in [
        ("incidents", "Incident"),
        ("problems", "Problem"),
        ("changes", "Change"),
        ("requests", "Request"),
        ("tasks", "Task"),
    ]:
        responses = schema["paths"][f"/api/v1/{kind}/{{number}}/"]["patch"]["responses"]
        assert set(responses) == {"200", "409"}, kind
        ok = responses["200"]["content"]["application/json"]["schema"]["$ref"]
        assert ok == f"#/components/schemas/{component}", kind
        conflict = responses["409"]["content"]["application/json"]["schema"]["$ref"]
        assert conflict == "#/components/schemas/ConflictError", kind
        assert (
            "`allowed`" in responses["409"]["description"]
            and "`version`" in (responses["409"]["description"])
        )

    body = schema["components"]["schemas"]["ConflictError"]
    assert body["required"] == ["detail"]
    assert body["properties"]["detail"]["type"] == "string"
    allowed = body["properties"]["allowed"]
    assert allowed["type"] == "array" and allowed["items"] == {"type": "string"}
    # only the ticket itself: a file's visibility (PATCH on an attachment) has no version
    attachment = schema["paths"]["/api/v1/incidents/{number}/attachments/{attachment_id}/"]
    assert "409" not in attachment["patch"]["responses"]
