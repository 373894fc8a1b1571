import pytest
from django import forms
from django.test.html import parse_html

from accounts.models import Team
from itsm.forms import Select, load_choices


class Sample(forms.Form):
    plain = forms.ChoiceField(choices=[("a", "A & B"), ("b", '"quoted"')], required=False)
    grouped = forms.ChoiceField(
        choices=[("", "—"), ("Fruit", [("apple", "Apple"), ("pear", "<Pear>")]), ("x", "X")]
    )
    team = forms.ModelChoiceField(queryset=Team.objects.order_by("name"), required=False)


def both(form, name, value, attrs=None):
    """The field rendered by Django's own ``Select`` and by ours."""
    field = form.fields[name]
    django = forms.Select(attrs=attrs, choices=field.choices).render(name, value)
    ours = Select(attrs=attrs, choices=field.choices).render(name, value)
    return parse_html(django), parse_html(ours)


@pytest.mark.parametrize(
    ("name", "value", "attrs"),
    [
        ("plain", "a", None),
        ("plain", None, {"class": "form-select", "required": True, "disabled": False}),
        ("grouped", "pear", {"data-x": '<"odd">'}),
        ("grouped", "", {"aria-label": "Pick & choose"}),
    ],
)
def test_our_select_writes_the_same_html_as_djangos(name, value, attrs):
    django, ours = both(Sample(), name, value, attrs)
    assert ours == django


def test_model_choices_loaded_once_render_and_validate_like_the_queryset(
    db, django_assert_num_queries
):
    alpha, beta = Team.objects.create(name="Alpha <ops>"), Team.objects.create(name="Beta")
    form = Sample()
    with django_assert_num_queries(1):
        load_choices(form.fields["team"])
    with django_assert_num_queries(0):
        django, ours = both(form, "team", beta.pk)
        form["team"].as_widget()
    assert ours == django
    rendered = Select(choices=form.fields["team"].choices).render("team", beta.pk)
    assert f'value="{beta.pk}" selected' in rendered
    assert "Alpha &lt;ops&gt;" in str(form["team"])
    bound = Sample(data={"grouped": "x", "team": alpha.pk})
    load_choices(bound.fields["team"])
    assert bound.is_valid() and bound.cleaned_data["team"] == alpha
    # The options are a snapshot; what is valid is still decided by the queryset.
    stale = Sample(data={"grouped": "x", "team": alpha.pk})
    load_choices(stale.fields["team"])
    Team.objects.filter(pk=alpha.pk).delete()
    assert not stale.is_valid() and "team" in stale.errors
