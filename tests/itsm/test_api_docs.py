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
