from django import forms
from django.conf import settings
from django.db.models import Q
from django.urls import reverse_lazy
from django.utils.translation import gettext_lazy as _

from itsm.forms import TypeAheadField

from .models import User, time_zones


class LanguageForm(forms.Form):
    language = forms.ChoiceField(label=_("Language"), choices=settings.LANGUAGES)
    next = forms.CharField(required=False, widget=forms.HiddenInput)


class TimeZoneForm(forms.Form):
    time_zone = forms.ChoiceField(label=_("Time zone"), required=False)

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        server = _("The server's (%(zone)s)") % {"zone": settings.TIME_ZONE}
        self.fields["time_zone"].choices = [("", server)] + [(z, z) for z in time_zones()]


def person_label(user) -> str:
    """How a person reads in a type-ahead box: ``name · email · #id`` (the id settles
    homonyms; the email, else the username, tells people apart at a glance)."""
    return f"{user.get_full_name() or user.username} · {user.email or user.username} · #{user.pk}"


class PersonPickerField(TypeAheadField):
    """An active person chosen by typing (``person_lookup`` fills the ``<datalist>``): the
    page stays the same size with a hundred thousand people in the directory."""

    not_found = _("Pick a person from the list (type part of a name, username or email).")

    def __init__(self, *, datalist: str = "person-options", **kwargs):
        super().__init__(lookup_url=reverse_lazy("person_lookup"), datalist=datalist, **kwargs)

    def candidates(self):
        return User.objects.filter(is_active=True)

    def label_of(self, user) -> str:
        return person_label(user)

    def find_exact(self, text: str):
        """A username or an email that names exactly one active person."""
        named = Q(username__iexact=text) | Q(email__iexact=text)
        matches = list(self.candidates().filter(named)[:2])
        return matches[0] if len(matches) == 1 else None
