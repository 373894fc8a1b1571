from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import ValidationError
from django.http import HttpResponseRedirect
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import activate
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from itsm.permissions import STAFF_ROLES, role_required

from . import services
from .forms import LanguageForm, TimeZoneForm, person_label
from .middleware import SESSION_KEY
from .models import User, matching


@require_POST
def set_language(request):
    """Switch the interface language; a signed-in user keeps it as their preference."""
    form = LanguageForm(request.POST)
    target = request.POST.get("next") or request.META.get("HTTP_REFERER") or "/"
    if not url_has_allowed_host_and_scheme(
        target, allowed_hosts={request.get_host()}, require_https=request.is_secure()
    ):
        target = "/"
    response = HttpResponseRedirect(target)
    if form.is_valid():
        language = form.cleaned_data["language"]
        activate(language)
        request.session[SESSION_KEY] = language
        if request.user.is_authenticated:
            services.set_language(request.user, language, actor=request.user)
        response.set_cookie(
            settings.LANGUAGE_COOKIE_NAME,
            language,
            max_age=settings.LANGUAGE_COOKIE_AGE,
            samesite="Lax",
            secure=settings.SESSION_COOKIE_SECURE,
        )
    return response


@role_required(*STAFF_ROLES)
@require_safe
def person_lookup(request):
    """``<option>``s for a person type-ahead box (e.g. the requester of an incident an agent
    logs), through htmx, which sends the box's value under the box's own name (``requester``,
    ``owner``...): any parameter is the text. Staff only: end users never browse the
    directory."""
    term = " ".join(value for values in request.GET.lists() for value in values[1]).strip()
    people = []
    if len(term) >= 2:
        active = User.objects.filter(is_active=True)
        people = matching(active, term).order_by("first_name", "last_name", "username")[:20]
    return render(
        request, "_typeahead_options.html", {"options": [person_label(p) for p in people]}
    )


@login_required
@require_http_methods(["GET", "HEAD", "POST"])
def time_zone(request):
    """The time zone a person reads every date and time in (their own profile)."""
    user = request.user
    form = TimeZoneForm(request.POST or None, initial={"time_zone": user.time_zone})
    if request.method == "POST" and form.is_valid():
        try:
            services.update_profile(user, form.cleaned_data, actor=user)
        except ValidationError as exc:
            form.add_error(None, exc)
        else:
            messages.success(request, _("Dates and times now show in your chosen time zone."))
            return redirect("time_zone")
    return render(request, "accounts/time_zone.html", {"form": form})
