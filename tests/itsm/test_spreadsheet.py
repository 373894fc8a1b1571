"""Every CSV export defuses formulas in what people typed (CSV injection)."""

import csv
import io

import pytest

from itsm import spreadsheet


@pytest.mark.parametrize(
    "typed", ['=HYPERLINK("http://x")', "+1", "-2+3", "@SUM(A1)", "\tx", "\rx"]
)
def test_text_that_a_spreadsheet_would_run_is_written_as_text(typed):
    out = io.StringIO()
    spreadsheet.writer(out).writerow([typed, 42, -5])
    cell, number, negative = next(csv.reader(io.StringIO(out.getvalue())))
    assert cell == "'" + typed
    assert (number, negative) == ("42", "-5")  # numbers stay numbers
    assert spreadsheet.unescape(cell) == typed


def test_ordinary_text_and_a_quote_of_its_own_are_left_alone():
    assert spreadsheet.escape("Paris office") == "Paris office"
    assert spreadsheet.unescape("'quoted'") == "'quoted'"


@pytest.mark.django_db
def test_the_cmdb_export_defuses_and_its_import_restores(ada):
    from cmdb.csv_io import import_csv, write_csv
    from cmdb.models import CI, CIClass
    from cmdb.services import create_ci

    server = CIClass.objects.get(name="server")
    create_ci(actor=None, name='=HYPERLINK("http://evil")', ci_class=server, supplier="@Acme")
    out = io.StringIO()
    write_csv(out)
    text = out.getvalue()
    assert "'=HYPERLINK" in text and "'@Acme" in text
    result = import_csv(io.StringIO(text), actor=ada)
    # read back, the cells are what was typed: the same CI, unchanged (not a new one)
    assert (result.created, result.updated, result.unchanged) == (0, 0, 1)
    ci = CI.objects.get()
    assert (ci.name, ci.supplier) == ('=HYPERLINK("http://evil")', "@Acme")
