"""Filing and editing a household with its members, and assessing it: one transaction each."""

from __future__ import annotations

from decimal import Decimal

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from dossiers import assessment
from dossiers.choices import NOT_WORKING, Status
from dossiers.models import Assessment, FileNumberSequence, Household, LocalStandard, Member
from dossiers.register import member_is_open
from hardship import punctuation


class FilingError(Exception):
    """Input that cannot be saved; the message is for the user. `field` names the form field."""

    def __init__(self, message: str, field: str | None = None) -> None:
        super().__init__(message)
        self.field = field


def existing_membership_message(id_number: str, *, user, exclude_household: Household | None = None) -> str | None:
    """Who already holds this person in an open file, said only as far as the user may know."""
    return membership_conflict([id_number], user=user, exclude_household=exclude_household)


def membership_conflict(id_numbers: list[str], *, user, exclude_household: Household | None = None) -> str | None:
    """The first of these people already in another open file, in one query, said as above."""
    others = Member.objects.filter(id_number__in=id_numbers, is_open=True).select_related("household__union")
    if exclude_household is not None and exclude_household.pk:
        others = others.exclude(household=exclude_household)
    member = others.first()
    if member is None:
        return None
    household = member.household
    if user.has_perm("dossiers.view_household", household):
        return _("身份证号 %(id)s 已在档案 %(file)s（%(head)s 户）中。") % {
            "id": member.masked_id_number, "file": household.file_number, "head": household.head_name}
    union = household.union
    return _("身份证号 %(id)s 已在其他单位建档，请联系%(contact)s。") % {
        "id": member.masked_id_number, "contact": union_contact(union)}


def union_contact(union) -> str:
    """How to reach a unit: its name, contact person and phone, as far as they are on record."""
    parts = [union.name]
    if union.contact_person:
        parts.append(_("联系人 %(name)s") % {"name": union.contact_person})
    if union.contact_phone:
        parts.append(_("电话 %(phone)s") % {"phone": union.contact_phone})
    return punctuation.comma().join(parts)


@transaction.atomic
def save_household(household: Household, members: list[Member], *, by) -> Household:
    """Create or update a file with its members; all or nothing, then assess it afresh."""
    primaries = [member for member in members if member.is_primary]
    if len(primaries) != 1:
        raise FilingError(_("每户必须有且只有一名建档职工。"))
    message = membership_conflict([m.id_number for m in members], user=by, exclude_household=household)
    if message:
        raise FilingError(message)
    head = primaries[0]
    household.head_name, household.head_id_number = head.name, head.id_number
    if not household.pk:
        household.file_number = FileNumberSequence.next_number(household.region_id, timezone.localdate().year)
        household.filed_by = household.entered_by = by
    try:
        household.full_clean(exclude=["file_number", "filed_by", "entered_by", "head_name", "head_id_number"])
    except ValidationError as error:
        field, messages = next(iter(error.message_dict.items()))
        raise FilingError(messages[0], field=None if field == "__all__" else field) from error
    try:
        with transaction.atomic():
            household.save()
            _save_members(household, members)
    except IntegrityError as error:
        raise FilingError(_("保存失败：同一人不能同时在两户在档家庭中，或同一户中重复填写。")) from error
    assess_household(household, by=by)
    return household


def _save_members(household: Household, members: list[Member]) -> None:
    keep = [member.pk for member in members if member.pk]
    household.members.exclude(pk__in=keep).delete()
    household.members.update(is_primary=False)  # the one primary is set again below, whoever it is now
    for member in sorted(members, key=lambda m: not m.is_primary):  # the primary first: stable ordering
        member.household = household
        member.is_open = member_is_open(household.status)
        member.save()


def assessment_input(household: Household, members: list[Member], on=None) -> assessment.AssessmentInput:
    on = on or timezone.localdate()
    return assessment.AssessmentInput(
        members=tuple(
            assessment.MemberInput(
                name=member.name, annual_income=member.monthly_income * 12,
                able_bodied_unemployed=_able_bodied_unemployed(member, on),
            )
            for member in members
        ),
        wages=household.income_wages, business=household.income_business, property=household.income_property,
        transfers=household.income_transfers, other_income=household.income_other,
        illness_costs=household.cost_illness, disability_costs=household.cost_disability,
        schooling_costs=household.cost_schooling, housing_costs=household.cost_housing,
        other_costs=household.cost_other, accident=household.accident,
        exclusions=frozenset(assessment.Exclusion(value) for value in household.exclusions),
    )


def _able_bodied_unemployed(member: Member, on) -> bool:
    return able_bodied_unemployed(able_to_work=member.able_to_work, work_status=member.work_status,
                                  birth_date=member.birth_date, sex=member.sex, on=on)


def able_bodied_unemployed(*, able_to_work: bool, work_status: str, birth_date, sex: str, on) -> bool:
    """Counted at the minimum wage: able to work, not working, and from WORKING_AGE_FROM up to (not including)
    the retirement age of their sex (settings.RETIREMENT_AGE)."""
    if not (able_to_work and work_status in NOT_WORKING):
        return False
    age = on.year - birth_date.year - ((on.month, on.day) < (birth_date.month, birth_date.day))
    return settings.WORKING_AGE_FROM <= age < settings.RETIREMENT_AGE[sex]


def standard_for(household: Household, on=None) -> LocalStandard:
    standard = LocalStandard.in_force(household.region, on or timezone.localdate())
    if standard is None:
        raise FilingError(_("%(region)s 没有有效的低保标准，请管理员先录入。") % {"region": household.region.name},
                          field="region")
    return standard


def preview(household: Household, members: list[Member]) -> tuple[assessment.AssessmentResult, LocalStandard]:
    standard = standard_for(household)
    result = assessment.assess(
        assessment_input(household, members),
        assessment.Standard(poverty_line=standard.poverty_line, min_wage=standard.min_wage),
        relative_multiple=Decimal(str(settings.RELATIVE_HARDSHIP_MULTIPLE)),
        accident_cost_share=Decimal(str(settings.ACCIDENT_COST_SHARE)),
    )
    return result, standard


@transaction.atomic
def assess_household(household: Household, *, by, final_category: str = "", override_reason: str = "") -> Assessment:
    """Assess against the standard in force and keep the snapshot; an override needs a reason."""
    members = list(household.members.all())
    data = assessment_input(household, members)
    result, standard = preview(household, members)
    final_category = final_category or result.category.value
    if result.exclusions and final_category != result.category.value:
        raise FilingError(_("存在排除情形，不予建档：排除情形不能通过调整类别改变。"), field="final_category")
    if final_category != result.category.value and not override_reason.strip():
        raise FilingError(_("调整建议的困难类别须填写理由。"), field="override_reason")
    return Assessment.objects.create(
        household=household, made_by=by, standard=standard,
        inputs={**assessment.input_as_dict(data), "poverty_line": str(standard.poverty_line),
                "min_wage": str(standard.min_wage)},
        result=result.as_dict(), per_capita_monthly=result.per_capita_monthly,
        proposed_category=result.category.value, final_category=final_category,
        override_reason=override_reason.strip(), rule_version=result.rule_version,
    )


@transaction.atomic
def copy_as_new_episode(household: Household, *, by) -> Household:
    """Relapse: a new draft file for the same family, linked to the closed one."""
    members = list(household.members.all())
    message = membership_conflict([member.id_number for member in members], user=by)
    if message:
        raise FilingError(message)
    episode = Household.objects.get(pk=household.pk)
    episode.pk = episode.id = None
    episode.previous_episode = household
    episode.status, episode.category, episode.category_override_reason = Status.DRAFT, "", ""
    for field in ("notice_ends_on", "registered_on", "reverify_due", "closed_on", "follow_up_until", "reviewed_by"):
        setattr(episode, field, None)
    first_number = household.file_number.split("-R")[0]
    episode.file_number = f"{first_number}-R{_episode_number(household) + 1}"
    episode.filed_by = episode.entered_by = by
    episode.created_at = timezone.now()
    episode.save()
    for member in members:
        member.pk = member.id = None
        member.household, member.is_open = episode, member_is_open(episode.status)
        member.save()
    assess_household(episode, by=by)
    return episode


def _episode_number(household: Household) -> int:
    count, current = 1, household
    while current.previous_episode_id:
        count, current = count + 1, current.previous_episode
    return count
