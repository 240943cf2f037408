"""Nothing Chinese reaches an English page outside Django's i18n.

Templates: every Chinese character must sit inside {% translate %}, {% blocktranslate %} or _("…")
(punctuation between translated parts comes from {% load punctuation %}). Python: the strings a user
reads (messages, validation and mapping errors, form labels, verbose names) are passed through gettext.
"""

import ast
import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
# Chinese characters and full-width punctuation; the ideographic space (U+3000) only spaces a printed form.
CHINESE = re.compile(r"[\u3001-\u303f\u4e00-\u9fff\uff01-\uffef]")

# Not translated on purpose: the brand mark is a glyph, the language menu names each language in itself
# and the 500 page renders with no template machinery at all.
ALLOWED = {
    "templates/base.html": {'<span class="brand-mark" aria-hidden="true">帮</span>'},
    "templates/partials/language_form.html": {"*"},
    "templates/500.html": {"*"},
}

LITERAL = re.compile(r"""(["']).*?\1""")
TEMPLATES = sorted(
    path for folder in ("templates", "dossiers", "reporting", "hardship", "assistance")
    for path in (ROOT / folder).glob("**/*.html")
)


def outside_translation(template: str) -> list[str]:
    """The lines of a template with their translated parts, comments and variables taken out."""
    text = re.sub(r"\{#.*?#\}|<!--.*?-->", "", template, flags=re.S)
    text = re.sub(r"\{%\s*comment\s*%\}.*?\{%\s*endcomment\s*%\}", "", text, flags=re.S)
    text = re.sub(r"\{%\s*blocktranslate\b.*?\{%\s*endblocktranslate\s*%\}", "", text, flags=re.S)
    text = re.sub(r"\{%\s*translate\s.*?%\}", "", text, flags=re.S)
    text = re.sub(r"""_\((["']).*?\1\)""", "", text)
    # What is left of a tag or a variable is code: a Chinese literal there ("|default:'无'") is shown too.
    text = re.sub(r"\{[{%](.*?)[%}]\}", lambda tag: " ".join(literal[0] for literal in LITERAL.finditer(tag[1])),
                  text, flags=re.S)
    return [line.strip() for line in text.splitlines() if CHINESE.search(line)]


@pytest.mark.parametrize("path", TEMPLATES, ids=lambda path: str(path.relative_to(ROOT)))
def test_templates_translate_every_chinese_word(path):
    name = str(path.relative_to(ROOT))
    allowed = ALLOWED.get(name, set())
    if "*" in allowed:
        return
    left = [line for line in outside_translation(path.read_text()) if line not in allowed]
    assert not left, f"{name}: Chinese outside {{% translate %}}: {left}"


def test_the_template_check_sees_what_it_should():
    assert outside_translation('<p>{% translate "调整理由" %}：{{ reason }}</p>') == ["<p>：</p>"]
    assert outside_translation('{{ group|default:"无" }}') == ['"无"']
    assert outside_translation('{% translate "调整理由" %}{% colon %}{{ x|default:_("无") }}') == []
    assert outside_translation("{% blocktranslate with n=x %}{{ n }} 人{% endblocktranslate %}") == []
    assert outside_translation("{# 说明 #}<p>　</p>") == []


# Calls and keywords whose string argument a user reads.
SHOWN_CALLS = {
    "ValidationError", "PermissionDenied", "MappingError", "CellError", "RosterError", "TransitionError",
    "success", "error", "warning", "info", "add_message", "HttpResponseBadRequest", "HttpResponseForbidden",
}
SHOWN_KEYWORDS = {
    "label", "verbose_name", "verbose_name_plural", "help_text", "empty_label", "title", "description", "message",
}
PYTHON = sorted(
    path for folder in ("hardship", "dossiers", "reporting", "assistance")
    for path in (ROOT / folder).glob("**/*.py") if "migrations" not in path.parts
)


def chinese_literal(node: ast.AST) -> bool:
    """A string written in the code (not passed through gettext) that holds Chinese."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and bool(CHINESE.search(node.value))
    if isinstance(node, ast.JoinedStr):
        return any(chinese_literal(part) for part in node.values)
    if isinstance(node, ast.BinOp):
        return chinese_literal(node.left) or chinese_literal(node.right)
    return False


def untranslated_strings(source: str) -> list[int]:
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        called = getattr(node.func, "attr", getattr(node.func, "id", ""))
        arguments = node.args if called in SHOWN_CALLS else []
        arguments += [keyword.value for keyword in node.keywords if keyword.arg in SHOWN_KEYWORDS]
        if any(chinese_literal(argument) for argument in arguments):
            found.append(node.lineno)
    return found


@pytest.mark.parametrize("path", PYTHON, ids=lambda path: str(path.relative_to(ROOT)))
def test_python_translates_what_users_read(path):
    lines = untranslated_strings(path.read_text())
    assert not lines, f"{path.relative_to(ROOT)}: untranslated Chinese shown to users on lines {lines}"


def test_the_python_check_sees_what_it_should():
    assert untranslated_strings('raise ValidationError("身份证号有误")') == [1]
    assert untranslated_strings('messages.success(request, f"已保存{n}户")') == [1]
    assert untranslated_strings('forms.CharField(label="姓名")') == [1]
    assert untranslated_strings('forms.CharField(label=_("姓名"))\nraise ValidationError(_("有误"))') == []
