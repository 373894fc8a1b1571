import re

from itsm.testing import make_incident


def test_numbers_have_the_type_prefix_and_seven_digits(db):
    first = make_incident()
    second = make_incident()
    assert re.fullmatch(r"INC\d{7}", first.number)
    assert int(second.number[3:]) == int(first.number[3:]) + 1
