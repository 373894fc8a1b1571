"""The daily roll-up of the incident figures (``reports.rollup``).

One ``IncidentDay`` row per day × team × service × priority holds the additive measures of the
incident reports for that day in the server's time zone: incidents opened (by ``created_at``),
resolved (by ``resolved_at``) with the exact sum of their times to resolve and how many of them
were resolved at first contact, ratings given (by ``rated_at``) per score. The team, service and
priority are the incident's current ones, as the live figures read them.

``RolledDay`` says which days the roll-up holds; ``DirtyDay`` lists days whose incidents changed
since they were rolled (one row per change, appended by the ``ticket_changed`` receiver, so
concurrent writers never wait on each other). A day is *covered* — read from the roll-up —
when it is rolled, not dirty, and before today; any other day is computed live.

These tables are derived: ``manage.py rebuild_report_days --all`` rebuilds them from the
incidents, and ``export_data`` leaves them out.
"""

from django.db import models
from django.utils.translation import gettext_lazy as _


class IncidentDay(models.Model):
    day = models.DateField(_("day"))
    # The incident's team and service ids (no foreign key: a roll-up row never holds a delete
    # back, and a rebuild follows whatever the incidents say).
    team_id = models.BigIntegerField(_("team"), null=True, blank=True)
    service_id = models.BigIntegerField(_("service"), null=True, blank=True)
    priority = models.PositiveSmallIntegerField(_("priority"))
    opened = models.PositiveIntegerField(_("opened"), default=0)
    resolved = models.PositiveIntegerField(_("resolved"), default=0)
    # Sum of (resolved_at - created_at) in microseconds over the incidents resolved that day:
    # an integer, so the mean time to resolve stays exact however many days are added up.
    resolve_microseconds = models.BigIntegerField(_("time to resolve (µs)"), default=0)
    first_contact = models.PositiveIntegerField(_("resolved at first contact"), default=0)
    csat_1 = models.PositiveIntegerField(default=0)
    csat_2 = models.PositiveIntegerField(default=0)
    csat_3 = models.PositiveIntegerField(default=0)
    csat_4 = models.PositiveIntegerField(default=0)
    csat_5 = models.PositiveIntegerField(default=0)

    class Meta:
        verbose_name = _("incident day")
        verbose_name_plural = _("incident days")
        indexes = [
            # the period (every report), then a service's review and a team's reports
            models.Index(fields=["day"], name="rpt_incday_day_idx"),
            models.Index(fields=["service_id", "day"], name="rpt_incday_service_day_idx"),
            models.Index(fields=["team_id", "day"], name="rpt_incday_team_day_idx"),
        ]

    def __str__(self) -> str:
        return f"{self.day} team={self.team_id} service={self.service_id} P{self.priority}"


class RolledDay(models.Model):
    """A day the roll-up holds (a day without incidents too), and when it was rolled."""

    day = models.DateField(_("day"), unique=True)
    rolled_at = models.DateTimeField(_("rolled at"))

    class Meta:
        verbose_name = _("rolled day")
        verbose_name_plural = _("rolled days")

    def __str__(self) -> str:
        return str(self.day)


class DirtyDay(models.Model):
    """A change to an incident that counts on ``day`` since the day was rolled."""

    day = models.DateField(_("day"), db_index=True)
    marked_at = models.DateTimeField(_("marked at"), auto_now_add=True)

    class Meta:
        verbose_name = _("day to roll again")
        verbose_name_plural = _("days to roll again")

    def __str__(self) -> str:
        return str(self.day)


class IncidentDayTime(models.Model):
    """Incidents resolved on ``day`` per time-to-resolve bucket (``reports.rollup.THRESHOLDS``,
    5 % wide): where the median time to resolve of a period lies, so that only that bucket's
    incidents are read to find it exactly (PostgreSQL)."""

    day = models.DateField(_("day"))
    bucket = models.PositiveSmallIntegerField(_("bucket"))
    resolved = models.PositiveIntegerField(_("resolved"), default=0)

    class Meta:
        verbose_name = _("incident day time")
        verbose_name_plural = _("incident day times")
        indexes = [models.Index(fields=["day"], name="rpt_incdaytime_day_idx")]

    def __str__(self) -> str:
        return f"{self.day} bucket {self.bucket}"
