from django.shortcuts import render

from itsm.permissions import (
    AGENT,
    CHANGE_MANAGER,
    MANAGER,
    PROBLEM_MANAGER,
    get_visible_or_404,
    role_required,
)

from .models import Incident

DESK_ROLES = (AGENT, MANAGER, PROBLEM_MANAGER, CHANGE_MANAGER)


@role_required(*DESK_ROLES)
def incident_list(request):
    incidents = (
        Incident.objects.visible_to(request.user)
        .open()
        .select_related("assignee", "assignment_group", "requester")
        .order_by("priority", "-created_at")[:50]
    )
    return render(request, "incidents/incident_list.html", {"incidents": incidents})


@role_required(*DESK_ROLES)
def incident_detail(request, number):
    incident = get_visible_or_404(
        Incident.objects.select_related("assignee", "assignment_group", "requester"),
        request.user,
        number=number,
    )
    return render(request, "incidents/incident_detail.html", {"incident": incident})
