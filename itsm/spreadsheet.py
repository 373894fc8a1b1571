"""One formula-safe CSV writer for every export (OWASP "CSV injection").

A cell a person typed that starts with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return
would run as a formula when the file is opened in a spreadsheet (``=HYPERLINK(…)`` leaks data
the moment someone clicks): such text is written behind a ``'``, which spreadsheets show as
text. Numbers are written as numbers. ``unescape`` undoes it for the files the desk reads back
(the CMDB import), so an export → import round trip is exact.
"""

import csv

TRIGGERS = ("=", "+", "-", "@", "\t", "\r")


def escape(value):
    if isinstance(value, str) and value.startswith(TRIGGERS):
        return "'" + value
    return value


def unescape(value: str) -> str:
    if value.startswith("'") and value[1:].startswith(TRIGGERS):
        return value[1:]
    return value


class SafeWriter:
    """``csv.writer`` whose every text cell goes through ``escape``."""

    def __init__(self, output, **options):
        self._writer = csv.writer(output, **options)

    def writerow(self, row):
        return self._writer.writerow([escape(cell) for cell in row])

    def writerows(self, rows):
        for row in rows:
            self.writerow(row)


def writer(output, **options) -> SafeWriter:
    return SafeWriter(output, **options)
