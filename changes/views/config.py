"""Standard-change templates and blackout windows: read by every reader of changes, kept by
change managers."""

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.db.models import Count, Prefetch
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST, require_safe

from cmdb.models import CI
from itsm.permissions import role_required
from itsm.workflow import Conflict

from .. import services
from ..forms import BlackoutForm, TemplateForm
from ..models import Blackout, ChangeTemplate
from ..permissions import MANAGE_ROLES
from .common import READ_ROLES, area, reason


def _errors_into(form, exc: ValidationError) -> None:
    for field, errors in exc.message_dict.items():
        form.add_error(field if field in form.fields else None, errors)


@require_safe
@role_required(*READ_ROLES)
def template_list(request):
    templates = (
        ChangeTemplate.objects.select_related("assignment_group")
        .prefetch_related(Prefetch("cis", queryset=CI.objects.only("pk", "name")))
        .annotate(used=Count("changes", distinct=True))
        .order_by("-active", "name")
    )
    return render(
        request,
        "changes/template_list.html",
        {**area(request, "templates"), "templates": templates},
    )


def _template_form(request, template):
    form = TemplateForm(request.POST or None, instance=template)
    if request.method == "POST" and form.is_valid():
        values = {n: form.cleaned_data[n] for n in form.fields}
        try:
            saved = services.save_template(template, values, actor=request.user)
        except ValidationError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, _("Template “%(name)s” saved.") % {"name": saved.name})
            return redirect("changes:template_list")
    return render(
        request,
        "changes/template_form.html",
        {**area(request, "templates"), "form": form, "template": template},
    )


@require_http_methods(["GET", "POST"])
@role_required(*MANAGE_ROLES)
def template_add(request):
    return _template_form(request, None)


@require_http_methods(["GET", "POST"])
@role_required(*MANAGE_ROLES)
def template_update(request, template_id):
    return _template_form(request, get_object_or_404(ChangeTemplate, pk=template_id))


@role_required(*MANAGE_ROLES)
@require_POST
def template_delete(request, template_id):
    template = get_object_or_404(ChangeTemplate, pk=template_id)
    try:
        services.delete_template(template, actor=request.user)
    except Conflict as exc:
        messages.error(request, reason(exc))
    else:
        messages.success(request, _("Template deleted."))
    return redirect("changes:template_list")


@require_safe
@role_required(*READ_ROLES)
def blackout_list(request):
    now = timezone.now()
    rows = Blackout.objects.prefetch_related(
        Prefetch("cis", queryset=CI.objects.only("pk", "name"))
    ).annotate(changes=Count("conflicts", distinct=True))
    return render(
        request,
        "changes/blackout_list.html",
        {
            **area(request, "blackouts"),
            "current": rows.filter(end__gt=now).order_by("start", "id"),
            "past": rows.filter(end__lte=now).order_by("-start", "-id")[:20],
        },
    )


def _blackout_form(request, blackout):
    form = BlackoutForm(request.POST or None, instance=blackout)
    if request.method == "POST" and form.is_valid():
        values = {n: form.cleaned_data[n] for n in form.fields}
        try:
            saved = services.save_blackout(blackout, values, actor=request.user)
        except ValidationError as exc:
            _errors_into(form, exc)
        else:
            messages.success(request, _("Blackout window “%(name)s” saved.") % {"name": saved.name})
            return redirect("changes:blackout_list")
    return render(
        request,
        "changes/blackout_form.html",
        {**area(request, "blackouts"), "form": form, "blackout": blackout},
    )


@require_http_methods(["GET", "POST"])
@role_required(*MANAGE_ROLES)
def blackout_add(request):
    return _blackout_form(request, None)


@require_http_methods(["GET", "POST"])
@role_required(*MANAGE_ROLES)
def blackout_update(request, blackout_id):
    return _blackout_form(request, get_object_or_404(Blackout, pk=blackout_id))


@role_required(*MANAGE_ROLES)
@require_POST
def blackout_delete(request, blackout_id):
    services.delete_blackout(get_object_or_404(Blackout, pk=blackout_id), actor=request.user)
    messages.success(request, _("Blackout window deleted."))
    return redirect("changes:blackout_list")
