"""The dashboards' fast number filters write what Django's intcomma and floatformat:"2g" write, in every language
(zh-hans: no grouping; en: commas; de and fr: their own separators)."""

from decimal import Decimal

import pytest
from django.contrib.humanize.templatetags.humanize import intcomma
from django.template.defaultfilters import floatformat
from django.utils import translation

from reporting.templatetags.figures import count, yuan

COUNTS = [0, 7, 999, 1000, 1234, 2_500_000, -12_345, Decimal("12.3"), Decimal("1234567.5"), Decimal("5")]
AMOUNTS = [Decimal("0.00"), Decimal("0.5"), Decimal("1234567.50"), Decimal("-1234.56"), Decimal("100000000.01")]


@pytest.mark.parametrize("language", ["zh-hans", "en", "de", "fr", "hi"])
def test_count_and_yuan_write_what_intcomma_and_floatformat_write(language):
    with translation.override(language):
        assert [count(n) for n in COUNTS] == [intcomma(n) for n in COUNTS]
        assert [yuan(a) for a in AMOUNTS] == [floatformat(a, "2g") for a in AMOUNTS]


def test_chinese_numbers_are_not_grouped_and_nothing_is_blank():
    with translation.override("zh-hans"):
        assert (count(2_500_000), yuan(Decimal("1234567.5")), count(None), count("")) == ("2500000", "1234567.50", "",
                                                                                          "")
