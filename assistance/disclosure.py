"""The public-disclosure list of a batch (公示名单): names and ID numbers masked as local practice does
(张*明, 4101**********1234), amounts and the total. Nothing on it identifies more than a neighbour already knows."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from assistance.subsidy_models import Payment


@dataclass(frozen=True)
class Line:
    name: str
    id_number: str
    kind: str
    amount: Decimal
    union: str


def mask_name(name: str) -> str:
    """张*明, 李*, 欧阳**峰; a name joined by a middle dot keeps its first character and its last."""
    name = name.strip()
    if len(name) <= 1:
        return name
    if len(name) == 2:
        return name[0] + "*"
    return name[0] + "*" * (len(name) - 2) + name[-1]


def mask_id(number: str) -> str:
    """The first four and last four characters of an ID number (the province and city stay readable)."""
    number = (number or "").strip()
    if len(number) <= 8:
        return "*" * len(number)
    return number[:4] + "*" * (len(number) - 8) + number[-4:]


def line(payment: Payment) -> Line:
    household = payment.household
    return Line(name=mask_name(payment.account_name), id_number=mask_id(str(household.head_id_number or "")),
                kind=payment.get_kind_display(), amount=payment.amount, union=household.union.name)
