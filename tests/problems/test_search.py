"""The ranked search behind the knowledge search and the suggestions: any telling word of a
text people type, best match first; and the same answers without PostgreSQL's full-text
search (the embedded demo on SQLite)."""

import pytest
from django.core.management import call_command

from problems import search
from problems.models import ClusteredIncident, Problem

from .conftest import make_problem


def test_a_typed_sentence_keeps_its_telling_words_only():
    assert search.terms("My VPN keeps dropping, it is NOT working!") == ["vpn", "dropping"]
    assert search.terms("Mon VPN ne marche plus depuis ce matin") == ["vpn", "matin"]
    assert search.terms("it is not") == []


@pytest.fixture
def known(db, paula):
    return [
        make_problem(paula, title="VPN drops at home", workaround="Use the TCP connection."),
        make_problem(paula, title="Slow laptops", workaround="Quit the VPN client in the office."),
        make_problem(paula, title="Printer jams", workaround="Print one side at a time."),
    ]


def ranked_titles(text):
    rows = search.ranked(Problem.objects.all(), text, column="search_known_error", fuzzy=True)
    return [problem.title for problem in rows]


def test_more_words_and_title_words_rank_higher(known):
    assert ranked_titles("vpn drops") == ["VPN drops at home", "Slow laptops"]
    assert ranked_titles("printer") == ["Printer jams"]


def test_a_word_being_typed_matches_as_a_prefix(known):
    assert ranked_titles("prin") == ["Printer jams"]


def test_a_number_finds_its_problem(known):
    assert ranked_titles(known[2].number) == ["Printer jams"]


def test_without_postgresql_the_same_texts_match_in_the_same_order(known, monkeypatch):
    class Elsewhere:
        vendor = "sqlite"

    monkeypatch.setattr(search, "connection", Elsewhere())
    assert ranked_titles("vpn drops") == ["VPN drops at home", "Slow laptops"]
    assert ranked_titles("printer") == ["Printer jams"]
    assert ranked_titles("it is not") == []


def test_the_command_files_incidents_written_past_the_verbs(db, capsys):
    from itsm.testing import make_incident

    incident = make_incident(title="Badge reader refuses cards")
    ClusteredIncident.objects.filter(incident_id=incident.pk).delete()
    call_command("cluster_incidents")
    assert "1 incident(s) filed." in capsys.readouterr().out
    assert ClusteredIncident.objects.filter(incident_id=incident.pk).exists()
