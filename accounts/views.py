from django.conf import settings
from django.http import HttpResponseRedirect
from django.shortcuts import render
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.translation import activate
from django.views.decorators.http import require_POST, require_safe

from itsm.permissions import STAFF_ROLES, role_required

from . import services
from .forms import LanguageForm, person_label
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
