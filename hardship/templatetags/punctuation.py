"""`{% colon %}`, `{% comma %}`, `{% semicolon %}`, `{% enumeration_comma %}` and `|parenthesized`:
the punctuation of hardship.punctuation in templates, e.g. `{% translate "困难类别" %}{% colon %}`."""

from django import template

from hardship import punctuation

register = template.Library()

for name in ("colon", "comma", "semicolon", "enumeration_comma"):
    register.simple_tag(getattr(punctuation, name), name=name)
register.filter("parenthesized", punctuation.parenthesized)
