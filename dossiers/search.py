"""The household list's query: search, filters, saved views, sorting and a capped count."""

from __future__ import annotations

import datetime
import secrets
from dataclasses import dataclass

from cryptography.fernet import InvalidToken
from django.contrib.postgres.expressions import ArraySubquery
from django.db.models import Exists, F, Lookup, OuterRef, Q, QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from dossiers import pairing, visits
from dossiers.choices import Status
from dossiers.models import Household, Member, RegisterEvent
from hardship import fields, idnumbers
from hardship.models import Union

PAGE_SIZE = 25
COUNT_CAP = 10_000

SAVED_VIEWS = {
    "reverify_due": _("复核到期"),
    "unchanged_year": _("一年未更新"),
    "in_notice": _("公示中"),
    "awaiting_me": _("待我审批"),
    "imported_unverified": _("导入待核实"),
    "no_plan": _("在档无计划"),
    "no_measures": _("在档无措施"),
    "overdue_measures": _("措施逾期"),
    "unpaired": _("在档未结对"),
    "visit_due": _("走访到期"),
}

# Which statuses wait for which kind of user in "待我审批".
AWAITING_CASEWORK = (Status.SUBMITTED, Status.VISITED, Status.REVIEWED, Status.CIVIL_CHECKED, Status.IN_NOTICE)
AWAITING_SUPERVISOR = (Status.EXIT_PROPOSED, Status.VISITED)


def households_for(user, filters: dict, view: str = "") -> QuerySet[Household]:
    queryset = Household.objects.visible_to(user)
    queryset = apply_saved_view(queryset, user, view)
    queryset = _apply_search(queryset, filters.get("q") or "")
    for field in ("status", "category", "key_group"):
        if filters.get(field):
            queryset = queryset.filter(**{field: filters[field]})
    if filters.get("cause"):
        cause = filters["cause"]
        queryset = queryset.filter(Q(main_cause=cause) | Q(secondary_causes__contains=[cause]))
    flag = filters.get("flag")
    if flag == "model_worker":
        queryset = queryset.exclude(model_worker="")
    elif flag:
        queryset = queryset.filter(**{flag: True})
    if filters.get("union"):
        unit = Union.objects.visible_to(user).filter(code=filters["union"].strip()).first()
        queryset = queryset.filter(union__path__startswith=unit.path) if unit else queryset.none()
    from dossiers.forms import SearchForm

    order = SearchForm.SORTS.get(filters.get("sort") or "-updated", "-updated_at")
    return queryset.select_related("union").order_by(order, "-pk")


def _apply_search(queryset: QuerySet[Household], text: str) -> QuerySet[Household]:
    text = text.strip()
    if not text:
        return queryset
    normalized = idnumbers.normalize(text)
    if normalized[:17].isdigit() and len(normalized) in (15, 18):
        try:
            number = idnumbers.parse(normalized).number
        except idnumbers.IdNumberError:
            number = normalized
        return queryset.filter(pk__in=Member.objects.filter(id_number=number).values("household_id"))
    if text[:6].isdigit() and "-" in text:
        return queryset.filter(file_number__startswith=text.upper())
    # Members of the households in scope only: in a county the planner joins the county's few thousand
    # files with the name's members instead of returning every namesake in the country.
    namesakes = Member.objects.filter(name=text).order_by()
    if queryset.query.has_filters():
        namesakes = namesakes.filter(household__in=queryset.values("pk"))
    namesakes = namesakes.values("household_id")
    return queryset.filter(Q(head_name__startswith=text) | Q(AnyOf(F("pk"), ArraySubquery(namesakes))))


class AnyOf(Lookup):
    """`pk = ANY(ARRAY(subquery))`. PostgreSQL runs the subquery once (an InitPlan) and probes the primary key
    with its result, so the OR with the head's name stays a BitmapOr of two index scans; `pk IN (subquery)`
    would instead test the subquery against every household in scope, row by row."""

    lookup_name = "any_of"
    prepare_rhs = False

    def as_sql(self, compiler, connection):
        lhs, lhs_params = self.process_lhs(compiler, connection)
        rhs, rhs_params = self.process_rhs(compiler, connection)
        return f"{lhs} = ANY({rhs})", (*lhs_params, *rhs_params)


# assistance.Measure.OPEN_STATUSES by value: the file app reaches measures by relation name, never imports them.
OPEN_MEASURE_STATUSES = ("planned", "in_progress")


def _open_measures_overdue(queryset, today):
    overdue = Q(measures__status__in=OPEN_MEASURE_STATUSES, measures__due_on__lt=today)
    return queryset.filter(status=Status.REGISTERED).filter(pk__in=Household.objects.filter(overdue).values("pk"))


# Each saved view: (queryset, user, today) → the files it shows. The plans and measures are the assistance app's,
# reached by their relation names (plan, measures), not imported.
VIEW_FILTERS = {
    "reverify_due": lambda qs, user, today: qs.filter(status=Status.REGISTERED, reverify_due__lte=_month_end(today)),
    # Last changed before this Beijing date a year ago, as the dashboards count them (reporting/figures.py).
    "unchanged_year": lambda qs, user, today: qs.open().filter(
        updated_at__lt=timezone.make_aware(datetime.datetime.combine(today - datetime.timedelta(days=365),
                                                                     datetime.time()))),
    "in_notice": lambda qs, user, today: qs.filter(status=Status.IN_NOTICE),
    "awaiting_me": lambda qs, user, today: qs.filter(_awaiting(user)),
    "imported_unverified": lambda qs, user, today: qs.filter(status=Status.REGISTERED).filter(imported_unverified()),
    "no_plan": lambda qs, user, today: qs.filter(status=Status.REGISTERED, plan__isnull=True),
    "no_measures": lambda qs, user, today: qs.filter(status=Status.REGISTERED, plan__isnull=False,
                                                     measures__isnull=True),
    "overdue_measures": lambda qs, user, today: _open_measures_overdue(qs, today),
    "unpaired": lambda qs, user, today: pairing.unpaired(qs),
    "visit_due": lambda qs, user, today: visits.due(qs, today),
}


def apply_saved_view(queryset: QuerySet[Household], user, view: str) -> QuerySet[Household]:
    view_filter = VIEW_FILTERS.get(view)
    return view_filter(queryset, user, timezone.localdate()) if view_filter else queryset


def _awaiting(user) -> Q:
    """Files this user may move on: not their own, not a 复核 of their own 初审, a re-grade someone else proposed."""
    statuses = AWAITING_SUPERVISOR if user.role == "supervisor" else AWAITING_CASEWORK
    review = Q(status__in=statuses) & ~Q(filed_by=user) & ~Q(status=Status.VISITED, first_reviewed_by=user)
    regrade = Q(status=Status.REGISTERED) & ~Q(pending_category="") & ~Q(pending_category_by=user)
    return review | regrade


def imported_unverified() -> Exists:
    """Files the import put on the register that no one has re-verified (年度复核) since: their figures and
    category are the old register's until a caseworker checks them."""
    reverified = RegisterEvent.objects.filter(household=OuterRef(OuterRef("pk")), transition="reverify",
                                              at__gt=OuterRef("at"))
    imports = RegisterEvent.objects.filter(household=OuterRef("pk"), transition="import")
    return Exists(imports.filter(~Exists(reverified)))


def _month_end(day: datetime.date) -> datetime.date:
    next_month = (day.replace(day=1) + datetime.timedelta(days=32)).replace(day=1)
    return next_month - datetime.timedelta(days=1)


@dataclass
class Page:
    """One page of rows, with a total that stops counting at COUNT_CAP (exact below it)."""

    rows: list
    number: int
    total: int
    capped: bool

    @property
    def has_previous(self) -> bool:
        return self.number > 1

    @property
    def has_next(self) -> bool:
        return self.number * PAGE_SIZE < self.total

    @property
    def last(self) -> int | None:
        return None if self.capped else max(1, -(-self.total // PAGE_SIZE))


def paginate(queryset: QuerySet, page_number: int) -> Page:
    page_number = max(1, page_number)
    start = (page_number - 1) * PAGE_SIZE
    rows = list(queryset[start:start + PAGE_SIZE])
    if len(rows) < PAGE_SIZE and (rows or page_number == 1):  # the last page: the rows say how many there are
        return Page(rows=rows, number=page_number, total=start + len(rows), capped=False)
    total = queryset.order_by()[:COUNT_CAP + 1].count()
    return Page(rows=rows, number=page_number, total=min(total, COUNT_CAP), capped=total > COUNT_CAP)


# --- the search text stays out of URLs --------------------------------------------------------------------------

REMEMBERED = "household_searches"
REMEMBERED_SEARCHES = 20
FILTER_FIELDS = ("q", "status", "category", "cause", "key_group", "flag", "union", "sort")


def remember_search(request, data) -> str:
    """The filters of a search the list's form posted, kept in the session under a short token: the page's URL
    (browser history, proxy and server logs, the export links) carries the token, never a name or ID number;
    the session row keeps the search text encrypted."""
    searches = request.session.get(REMEMBERED, {})
    token = secrets.token_urlsafe(6)
    searches[token] = {key: data[key] for key in FILTER_FIELDS if data.get(key)}
    if "q" in searches[token]:
        searches[token]["q"] = fields.encrypt(searches[token]["q"])
    request.session[REMEMBERED] = dict(list(searches.items())[-REMEMBERED_SEARCHES:])
    return token


def search_data(session, params) -> dict:
    """The list's filters: those of the remembered search `?s=` names, then the URL's own (not its text: a search
    text arrives by POST only)."""
    data = dict(session.get(REMEMBERED, {}).get(params.get("s", ""), {}))
    if "q" in data:
        try:
            data["q"] = fields.decrypt(data["q"])
        except InvalidToken:  # encrypted under a key since retired
            del data["q"]
    data.update({key: value for key, value in params.items() if key in FILTER_FIELDS and key != "q"})
    return data
