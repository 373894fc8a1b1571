"""A change's risk: a short questionnaire and the business services the change impacts through
the CMDB (``cmdb.impact``), scored and explained (SPEC §6).

Each answer and the most critical service impacted add points; an unanswered question counts as
a risky one, a little (nobody knows yet). The score reads as ``low`` (0–2), ``moderate`` (3–5) or
``high`` (6 and more). The reasons are stored as codes with their points and parameters, and read
in the reader's language on the page (``explain``).
"""

from dataclasses import dataclass, field

from django.core.exceptions import ValidationError
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from cmdb.impact import impact_of
from cmdb.models import BUSINESS_SERVICE, CI

from .workflow import Risk

YES_NO = (("yes", gettext_lazy("Yes")), ("no", gettext_lazy("No")))


@dataclass(frozen=True)
class Question:
    key: str
    text: str
    choices: tuple[tuple[str, str], ...]
    points: dict[str, int]

    def label(self, value: str) -> str:
        return str(dict(self.choices).get(value, value))


QUESTIONS = (
    Question(
        "tested",
        gettext_lazy("Was the change tested in a staging or test environment?"),
        YES_NO,
        {"yes": 0, "no": 2},
    ),
    Question(
        "backout_tested",
        gettext_lazy("Has the backout plan been proven (rehearsed, or used before)?"),
        YES_NO,
        {"yes": 0, "no": 2},
    ),
    Question(
        "outage",
        gettext_lazy("Does the change need a service outage?"),
        (
            ("none", gettext_lazy("No outage")),
            ("partial", gettext_lazy("Degraded or partial outage")),
            ("full", gettext_lazy("Full outage")),
        ),
        {"none": 0, "partial": 1, "full": 3},
    ),
    Question(
        "users",
        gettext_lazy("How many users will notice it?"),
        (
            ("none", gettext_lazy("None")),
            ("few", gettext_lazy("Fewer than 50")),
            ("many", gettext_lazy("50 to 500")),
            ("all", gettext_lazy("More than 500")),
        ),
        {"none": 0, "few": 1, "many": 2, "all": 3},
    ),
    Question(
        "experience",
        gettext_lazy("Has the team made this change before?"),
        YES_NO,
        {"yes": 0, "no": 1},
    ),
)
BY_KEY = {question.key: question for question in QUESTIONS}
UNANSWERED_POINTS = 1
# Points of the most critical business service impacted, by its criticality (1 = critical).
SERVICE_POINTS = {1: 3, 2: 2, 3: 1, 4: 0}
# Impacting this many services or more adds a point.
MANY_SERVICES = 3
MODERATE_FROM = 3
HIGH_FROM = 6


def _users_band(count: int) -> str:
    if count <= 0:
        return "none"
    if count < 50:
        return "few"
    return "many" if count <= 500 else "all"


def clean_answers(raw) -> dict[str, str]:
    """The questionnaire as stored: each known question's answer key. Yes/no questions take
    ``true``/``false`` too, ``users`` a number of people; anything else is a 400."""
    if raw in (None, ""):
        return {}
    if not isinstance(raw, dict):
        raise ValidationError({"risk_answers": [_("An object: {question: answer}.")]})
    errors, answers = [], {}
    for key, value in raw.items():
        question = BY_KEY.get(key)
        if question is None:
            errors.append(
                _("Unknown question “%(key)s”; the questions are: %(keys)s.")
                % {"key": key, "keys": ", ".join(BY_KEY)}
            )
            continue
        if value in (None, ""):
            continue
        if isinstance(value, bool) and question.choices == YES_NO:
            value = "yes" if value else "no"
        elif key == "users" and isinstance(value, int) and not isinstance(value, bool):
            value = _users_band(value)
        if value not in question.points:
            errors.append(
                _("“%(key)s”: one of %(choices)s.")
                % {"key": key, "choices": ", ".join(question.points)}
            )
            continue
        answers[key] = value
    if errors:
        raise ValidationError({"risk_answers": errors})
    return answers


@dataclass(frozen=True)
class Service:
    id: int
    name: str
    criticality: int


def impacted_services(ci_ids) -> list[Service]:
    """The business services among the change's CIs and every CI that depends on them, most
    critical first (one impact walk per CI)."""
    found: dict[int, Service] = {}
    ci_ids = list(ci_ids)
    for ci in CI.objects.filter(pk__in=ci_ids, ci_class__name=BUSINESS_SERVICE).only(
        "pk", "name", "criticality"
    ):
        found[ci.pk] = Service(ci.pk, ci.name, ci.criticality)
    for ci_id in ci_ids:
        for reached in impact_of(ci_id).services:
            found.setdefault(reached.id, Service(reached.id, reached.name, reached.criticality))
    return sorted(found.values(), key=lambda s: (s.criticality, s.name, s.id))


@dataclass
class Assessment:
    risk: str
    score: int
    reasons: list[dict] = field(default_factory=list)


def assess(answers: dict[str, str], services: list[Service]) -> Assessment:
    """Score the answers and the services impacted; the reasons say where each point came
    from (questions in order, then services)."""
    reasons = []
    for question in QUESTIONS:
        value = answers.get(question.key)
        if value is None:
            reasons.append(
                {"code": "unanswered", "points": UNANSWERED_POINTS, "params": {"q": question.key}}
            )
        elif question.points[value]:
            reasons.append(
                {
                    "code": "answer",
                    "points": question.points[value],
                    "params": {"q": question.key, "a": value},
                }
            )
    if services:
        top = services[0]
        reasons.append(
            {
                "code": "service",
                "points": SERVICE_POINTS.get(top.criticality, 0),
                "params": {"name": top.name, "criticality": top.criticality},
            }
        )
        if len(services) >= MANY_SERVICES:
            reasons.append({"code": "services", "points": 1, "params": {"count": len(services)}})
    score = sum(reason["points"] for reason in reasons)
    if score >= HIGH_FROM:
        risk = Risk.HIGH
    elif score >= MODERATE_FROM:
        risk = Risk.MODERATE
    else:
        risk = Risk.LOW
    return Assessment(risk=str(risk), score=score, reasons=reasons)


def explain(reasons) -> list[dict]:
    """Each stored reason as a sentence in the reader's language, with its points."""
    lines = []
    for reason in reasons or ():
        code, params = reason.get("code"), reason.get("params", {})
        question = BY_KEY.get(params.get("q", ""))
        if code == "unanswered" and question:
            text = _("Not answered: %(question)s") % {"question": question.text}
        elif code == "answer" and question:
            text = _("%(question)s %(answer)s") % {
                "question": question.text,
                "answer": question.label(params.get("a", "")),
            }
        elif code == "service":
            text = _("Impacts the business service “%(name)s” (criticality %(level)s)") % {
                "name": params.get("name", ""),
                "level": str(CI.Criticality(params.get("criticality", 3)).label),
            }
        elif code == "services":
            text = _("Impacts %(count)d business services") % {"count": params.get("count", 0)}
        else:
            continue
        lines.append({"text": text, "points": reason.get("points", 0)})
    return lines


def thresholds() -> dict[str, int]:
    return {"moderate": MODERATE_FROM, "high": HIGH_FROM}
