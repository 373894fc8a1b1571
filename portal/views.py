from django.contrib.auth.decorators import login_required
from django.shortcuts import render

from incidents.models import Incident


@login_required
def home(request):
    """The self-service home: report, order, follow."""
    mine = (
        Incident.objects.filter(requester=request.user)
        .order_by("-updated_at")
        .only("number", "title", "state", "updated_at")[:10]
    )
    return render(request, "portal/home.html", {"tickets": mine})
