"""Item forms: the definition is checked field by field, answers against it (SPEC §8)."""

import pytest
from django.core.exceptions import ValidationError
from django.utils import translation

from catalog.formdef import (
    AnswersInvalid,
    answer_rows,
    clean_answers,
    clean_form,
    field_text,
    name_from_label,
)

from .conftest import LAPTOP_FORM

FORM = clean_form(LAPTOP_FORM)


def errors_of(answers, form=FORM):
    with pytest.raises(AnswersInvalid) as caught:
        clean_answers(form, answers)
    return caught.value.fields


def field(kind, **extra):
    return clean_form([{"name": "x", "label": "X", "type": kind, **extra}])


# --- Answers, type by type -----------------------------------------------------------------------


def test_good_answers_come_back_cleaned_with_missing_optional_fields_left_out():
    cleaned = clean_answers(
        FORM, {"model": "power", "needed_by": "2026-03-02", "quantity": "2", "site": "  Lyon "}
    )
    assert cleaned == {"model": "power", "needed_by": "2026-03-02", "quantity": 2, "site": "Lyon"}


def test_every_missing_required_field_is_named_at_once():
    assert errors_of({}) == {
        "model": ["This field is required."],
        "needed_by": ["This field is required."],
    }


@pytest.mark.parametrize("value", [None, "", "   "])
def test_an_empty_value_is_a_missing_one(value):
    assert errors_of({**_good(), "model": value}) == {"model": ["This field is required."]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [("hello", "hello"), ("  padded  ", "padded")],
)
def test_text_is_stripped(value, expected):
    assert clean_answers(field("text"), {"x": value}) == {"x": expected}


@pytest.mark.parametrize("value", [12, ["a"], {"a": 1}, True])
def test_text_must_be_text(value):
    assert errors_of({"x": value}, field("text")) == {"x": ["Enter text."]}


def test_text_and_long_text_have_a_length_limit():
    assert errors_of({"x": "a" * 501}, field("text")) == {"x": ["Enter at most 500 characters."]}
    assert clean_answers(field("textarea"), {"x": "a" * 5000}) == {"x": "a" * 5000}
    assert errors_of({"x": "a" * 10_001}, field("textarea")) == {
        "x": ["Enter at most 10000 characters."]
    }


def test_text_cannot_hold_a_nul_character():
    assert errors_of({"x": "a\x00b"}, field("text")) == {
        "x": ["Text cannot contain NUL characters."]
    }


@pytest.mark.parametrize(
    ("value", "expected"), [(3, 3), ("4", 4), (2.5, 2.5), ("2,5", 2.5), (" 1 ", 1)]
)
def test_a_number_is_a_json_number_or_the_text_of_one(value, expected):
    assert clean_answers(field("number"), {"x": value}) == {"x": expected}


@pytest.mark.parametrize("value", ["three", "1e999", "NaN", "Infinity", True, [1], {"n": 1}])
def test_a_number_refuses_what_is_not_a_finite_number(value):
    assert errors_of({"x": value}, field("number")) == {"x": ["Enter a number."]}


def test_a_number_keeps_within_its_limits():
    limited = field("number", min=1, max=5)
    assert errors_of({"x": 0}, limited) == {"x": ["Enter a number of at least 1."]}
    assert errors_of({"x": "6"}, limited) == {"x": ["Enter a number of at most 5."]}
    assert clean_answers(limited, {"x": 5}) == {"x": 5}


def test_a_choice_is_one_of_its_option_values():
    assert clean_answers(FORM, {**_good(), "model": "power"})["model"] == "power"
    assert errors_of({**_good(), "model": "Performance 16-inch"}) == {
        "model": ["Choose one of: standard, power."]
    }
    assert errors_of({**_good(), "model": 1}) == {"model": ["Choose one of: standard, power."]}


@pytest.mark.parametrize(
    ("value", "expected"),
    [(True, True), (False, False), ("true", True), ("on", True), ("false", False), ("0", False)],
)
def test_a_tick_box_is_true_or_false(value, expected):
    assert clean_answers(field("boolean"), {"x": value}) == {"x": expected}


@pytest.mark.parametrize("value", ["maybe", 2, [True]])
def test_a_tick_box_refuses_anything_else(value):
    assert errors_of({"x": value}, field("boolean")) == {"x": ["Answer yes (true) or no (false)."]}


def test_a_required_tick_box_must_be_ticked():
    consent = field("boolean", required=True)
    assert errors_of({"x": False}, consent) == {"x": ["Tick this box to go on."]}
    assert errors_of({}, consent) == {"x": ["Tick this box to go on."]}
    assert clean_answers(consent, {"x": True}) == {"x": True}


@pytest.mark.parametrize("value", ["2026-02-30", "02/03/2026", "2026-2-3", "tomorrow", 20260203])
def test_a_date_is_a_real_iso_date(value):
    assert errors_of({"x": value}, field("date")) == {"x": ["Enter a date as YYYY-MM-DD."]}


def test_a_date_is_kept_as_its_iso_text():
    assert clean_answers(field("date"), {"x": "2028-02-29"}) == {"x": "2028-02-29"}


def test_an_answer_to_a_question_the_form_does_not_ask_is_refused():
    assert errors_of({**_good(), "colour": "red"}) == {"colour": ["This form has no such field."]}


def test_answers_must_be_an_object():
    with pytest.raises(ValidationError) as caught:
        clean_answers(FORM, ["standard"])
    assert caught.value.message_dict == {
        "answers": ["The answers must be an object {name: value}."]
    }


def test_invalid_answers_also_read_as_plain_messages_on_answers():
    with pytest.raises(AnswersInvalid) as caught:
        clean_answers(FORM, {"needed_by": "soon"})
    assert caught.value.message_dict == {
        "answers": ["Model: This field is required.", "Needed by: Enter a date as YYYY-MM-DD."]
    }


def _good():
    return {"model": "standard", "needed_by": "2026-12-01"}


# --- The definition ------------------------------------------------------------------------------


def test_a_definition_is_normalised_with_every_key():
    (only,) = clean_form([{"name": "who", "label": " Who ", "type": "text"}])
    assert only == {
        "name": "who",
        "label": "Who",
        "type": "text",
        "required": False,
        "help_text": "",
        "choices": [],
        "min": None,
        "max": None,
        "translations": {},
    }


def test_options_may_be_plain_texts():
    (choice,) = clean_form([{"name": "c", "label": "C", "type": "choice", "choices": ["A", "B"]}])
    assert [c["value"] for c in choice["choices"]] == ["A", "B"]


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ({"name": "Bad Name", "label": "X", "type": "text"}, "the name must start with a letter"),
        ({"name": "x", "label": "", "type": "text"}, "“label” is required."),
        ({"name": "x", "label": "X", "type": "colour"}, "the type must be one of"),
        ({"name": "x", "label": "X", "type": "choice"}, "needs at least one option"),
        ({"name": "x", "label": "X", "type": "text", "choices": ["a"]}, "only a choice field"),
        ({"name": "x", "label": "X", "type": "text", "min": 1}, "only a number field"),
        ({"name": "x", "label": "X", "type": "number", "min": 5, "max": 1}, "minimum is above"),
        ({"name": "x", "label": "X", "type": "text", "required": "yes"}, "true or false"),
        ({"name": "x", "label": "X", "type": "text", "colour": "red"}, "unknown properties"),
        (
            {"name": "x", "label": "X", "type": "choice", "choices": ["a", "a"]},
            "listed twice",
        ),
        (
            {"name": "x", "label": "X", "type": "text", "translations": {"de": {"label": "X"}}},
            "not a language of this site",
        ),
    ],
)
def test_a_bad_definition_names_the_field_and_the_problem(raw, message):
    with pytest.raises(ValidationError) as caught:
        clean_form([raw])
    (error,) = caught.value.message_dict["form"]
    assert error.startswith("Field 1")
    assert message in error


def test_two_fields_cannot_share_a_name():
    with pytest.raises(ValidationError) as caught:
        clean_form([{"name": "x", "label": "A", "type": "text"}] * 2)
    assert caught.value.message_dict["form"] == [
        "Field 2 (“x”): another field already has this name."
    ]


def test_a_form_is_a_list():
    with pytest.raises(ValidationError):
        clean_form({"name": "x"})


def test_names_are_made_from_labels_and_kept_unique():
    assert name_from_label("Needed by") == "needed_by"
    assert name_from_label("Needed by", {"needed_by"}) == "needed_by_2"
    assert name_from_label("2nd screen") == "f_2nd_screen"


# --- Reading in the reader's language ------------------------------------------------------------


def test_labels_and_options_read_in_french_with_the_default_as_fallback():
    answers = {"model": "standard", "needed_by": "2026-12-01", "dock": True}
    with translation.override("fr"):
        rows = answer_rows(FORM, answers)
        assert [row["label"] for row in rows] == ["Modèle", "Needed by", "Docking station"]
        assert rows[0]["display"] == "Standard"
        assert str(rows[2]["display"]) == "Oui"
    with translation.override("en"):
        assert field_text(FORM[0], "label") == "Model"
        assert answer_rows(FORM, answers)[0]["display"] == "Standard 14-inch"
