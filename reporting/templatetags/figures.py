"""The dashboards' numbers: `|count` and `|yuan` write them as `intcomma` and `floatformat:"2g"` do in the active
language (zh-hans: 2500000 and 1234567.50; en: 2,500,000 and 1,234,567.50), at a small part of their cost, and
`{% trend_rows %}` and `{% child_rows %}` the two long tables' rows. A national dashboard shows about a thousand
numbers: `intcomma` alone took a third of its time, and a template loop over the tables' cells another third."""

from decimal import Decimal
from html import escape  # the standard library's: these are plain strings, and Django's costs a lazy check a call

from django import template
from django.urls import reverse
from django.utils import formats
from django.utils.safestring import SafeString, mark_safe

register = template.Library()


class NumberFormat:
    """The active language's separators, read once for many numbers."""

    def __init__(self):
        thousands, decimal = formats.get_format("THOUSAND_SEPARATOR"), formats.get_format("DECIMAL_SEPARATOR")
        # Python groups by three; a language that groups otherwise (and shows its separator) takes Django's way.
        self.by_threes = not thousands or formats.get_format("NUMBER_GROUPING") == 3
        self.grouping = "," if thousands else ""
        self.separators = None if (thousands in ("", ",") and decimal == ".") else str.maketrans(
            {",": thousands, ".": decimal})

    def __call__(self, value, places: int | None = None) -> str:
        """A count, or an amount with `places` decimals (a Decimal keeps its own without them)."""
        if value is None or value == "":
            return ""
        if not self.by_threes:
            return formats.number_format(value, places, use_l10n=True, force_grouping=True)
        if places is not None:
            spec = f"{self.grouping}.{places}f"
        else:
            spec = f"{self.grouping}f" if isinstance(value, Decimal) else self.grouping
        text = format(value, spec)
        return text.translate(self.separators) if self.separators else text


@register.filter
def count(value) -> str:
    return NumberFormat()(value)


@register.filter
def yuan(value) -> str:
    return NumberFormat()(value, 2)


def _cells(cells) -> str:
    """Cells of numbers this module wrote (digits, separators, %, —) and Column.text's escaped label: no markup."""
    return "".join(f'<td class="number">{cell}</td>' for cell in cells)


@register.simple_tag
def trend_rows(board) -> SafeString:
    """The monthly table's rows, newest first."""
    return mark_safe("".join(f"<tr><td>{month}</td>{_cells(cells)}</tr>" for month, *cells in board.trend_rows))


@register.simple_tag
def child_rows(board, links: bool) -> SafeString:
    """The child units' rows, each name a link to the unit's dashboard when `links`."""
    rows = []
    for row in board.child_rows:
        name = escape(row.name)
        if links:
            name = f'<a href="{reverse("reporting:dashboard", args=[row.code])}?year={board.year}">{name}</a>'
        rows.append(f'<tr><th scope="row">{name}</th>{_cells(row.cells)}</tr>')
    return mark_safe("\n".join(rows))
