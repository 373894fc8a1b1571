"""Tickets that point at CIs (incidents, changes, problems...), found through the relations
those apps declare towards ``cmdb.CI``: the CMDB imports none of them (DESIGN: process apps
depend on the kernel, not on each other), and a new ticket type with a CI field shows up here
without a change to this app."""

from dataclasses import dataclass

from django.db import models
from django.db.models import Q

from itsm.models import TicketBase

from .models import CI


@dataclass
class TicketGroup:
    label: str  # "Incidents", "Changes"...
    model_label: str  # "incidents.incident"
    tickets: list
    total: int
    start_field: str | None  # a change's planned start, when the model has one

    @property
    def more(self) -> int:
        return self.total - len(self.tickets)


def ticket_relations() -> dict[type[TicketBase], list[str]]:
    """``{ticket model: [field names pointing at CI]}``, e.g. incident → ci, service."""
    relations: dict[type[TicketBase], list[str]] = {}
    for relation in CI._meta.related_objects:
        model = relation.related_model
        if isinstance(model, type) and issubclass(model, TicketBase):
            relations.setdefault(model, []).append(relation.field.name)
    return relations


def start_field(model) -> str | None:
    """The planned start of a ticket type that is scheduled (changes), if it has one."""
    for model_field in model._meta.concrete_fields:
        if isinstance(model_field, models.DateTimeField) and "start" in model_field.name:
            return model_field.name
    return None


def open_tickets(ci_ids, user, *, limit: int = 20) -> list[TicketGroup]:
    """Open tickets of each type on any of ``ci_ids`` that ``user`` may see; scheduled types
    (with a start field) come soonest first, the others newest first."""
    ci_ids = list(ci_ids)
    groups = []
    for model, names in sorted(ticket_relations().items(), key=lambda item: item[0]._meta.label):
        query = Q()
        for name in names:
            query |= Q(**{f"{name}__in": ci_ids})
        rows = model.objects.visible_to(user).open().filter(query).distinct()
        start = start_field(model)
        field_names = {f.name for f in model._meta.concrete_fields}
        if start:
            order = [models.F(start).asc(nulls_last=True), "-created_at"]
        elif "priority" in field_names:
            order = ["priority", "-created_at"]
        else:
            order = ["-created_at"]
        related = sorted(field_names & {"assignee", "assignment_group"})
        tickets = list(rows.select_related(*related).order_by(*order)[:limit])
        total = len(tickets) if len(tickets) < limit else rows.count()
        groups.append(
            TicketGroup(
                label=str(model._meta.verbose_name_plural).capitalize(),
                model_label=model._meta.label_lower,
                tickets=tickets,
                total=total,
                start_field=start,
            )
        )
    return groups
