"""Punctuation between translated words, in the interface's language.

Chinese labels take full-width marks (困难类别：深度); English takes its own (Category: deep).
Code and templates join translated parts with these instead of a bare "：" or "、", so that no
Chinese mark is left in an English page. Templates load them as `{% load punctuation %}`.
"""

from django.utils.translation import pgettext


def colon() -> str:
    return pgettext("punctuation", "：")


def comma() -> str:
    return pgettext("punctuation", "，")


def semicolon() -> str:
    return pgettext("punctuation", "；")


def enumeration_comma() -> str:
    """顿号, between the items of a list (张三、李四); English uses a comma."""
    return pgettext("punctuation", "、")


def parenthesized(value) -> str:
    return pgettext("punctuation", "（%(text)s）") % {"text": value}
