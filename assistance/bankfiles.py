"""The bank's files: the disbursement file (代发文件) a batch is exported as, in a bank's column layout
(BANK_FILE_LAYOUTS), and the return file (回盘文件) the bank sends back, read as each bank writes it.

A return file is read whole before anything is recorded: any line that cannot be read refuses the file with the
line numbers and reasons, so a half-read file never settles half a batch. Banks word their headers differently
(账号 / 卡号 / 收款账号, 金额 / 交易金额 / 代发金额(元), 处理结果 / 交易状态 …), put a title and a date above the
header and a 合计 row below the lines, and write amounts as "1,200.00", "¥300" or "300元".
"""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation

from django.conf import settings
from django.utils.translation import gettext as _

from assistance.batches import ReturnLine
from assistance.subsidy_models import Payment, PaymentBatch
from dossiers.legacy.reading import UnreadableFile, read_workbook

# Export ---------------------------------------------------------------------------------------------------------

def layouts() -> list[str]:
    return list(settings.BANK_FILE_LAYOUTS)


def disbursement_table(batch: PaymentBatch, layout: str) -> tuple[list[str], list[list]]:
    """Headings and lines of the batch's pending and sent payments in the bank's layout: full account numbers."""
    columns = settings.BANK_FILE_LAYOUTS[layout]
    payments = (batch.payments.filter(status__in=(Payment.Status.PENDING, Payment.Status.SENT))
                .select_related("household").order_by("pk"))
    rows = [[_value(payment, name) for name, _heading in columns] for payment in payments]
    return [heading for _name, heading in columns], rows


def _value(payment: Payment, name: str) -> str:
    values = {
        "account": lambda: str(payment.account), "name": lambda: payment.account_name,
        "amount": lambda: f"{payment.amount:.2f}", "memo": lambda: payment.memo, "bank": lambda: payment.bank_name,
        "id_number": lambda: str(payment.household.head_id_number or ""),
        "file_number": lambda: payment.household.file_number,
    }
    return values[name]()


# The return file --------------------------------------------------------------------------------------------------

class ReturnFileError(Exception):
    """A return file that cannot be recorded: the message, and the lines that could not be read."""

    def __init__(self, message: str, problems: list[tuple[int, str]] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or []


@dataclass
class ParsedReturn:
    lines: list[ReturnLine] = field(default_factory=list)
    problems: list[tuple[int, str]] = field(default_factory=list)


# Tried in this order on a normalised header: 户名 before 账号 ("账户名称" is a name, "收款人账号" an account).
HEADER_PATTERNS = [
    ("", re.compile(r"付款|付方|转出|出账|批次|指令")),  # the union's own account, the batch's number: not a line's
    ("name", re.compile(r"户名|姓名|账户名|帐户名|名称|^收款人$|^收款方$")),
    ("account", re.compile(r"账号|帐号|卡号|^账户$|^帐户$|收款账户|收款帐户")),
    ("amount_due", re.compile(r"应发|应付|计划金额")),
    ("amount", re.compile(r"金额")),
    ("result", re.compile(r"结果|状态")),
    ("reason", re.compile(r"原因|错误|失败信息|返回信息|描述|备注|说明")),
]
PAID_WORDS = {"成功", "交易成功", "处理成功", "入账成功", "已入账", "已到账", "到账", "s", "success", "ok", "正常"}
FAILED_WORDS = {"失败", "交易失败", "处理失败", "入账失败", "未入账", "退票", "退回", "已退回", "退汇", "失败退回",
                "f", "fail", "failed", "失败-退回"}
TOTAL_WORDS = ("合计", "总计", "小计", "汇总")
HEADER_SCAN = 15
MAX_AMOUNT = Decimal("10000000000")  # the payments' columns hold twelve digits


def _text(cell) -> str:
    if cell is None:
        return ""
    if isinstance(cell, float) and cell.is_integer():
        cell = int(cell)
    return unicodedata.normalize("NFKC", str(cell)).strip()


def _header_key(cell) -> str:
    text = re.sub(r"[\s*:]", "", _text(cell))
    text = re.sub(r"[(\[（【].*?[)\]）】]", "", text)
    return next((key for key, pattern in HEADER_PATTERNS if pattern.search(text)), "")


def _find_header(rows: list[list]) -> tuple[int, dict[str, int]]:
    for index, row in enumerate(rows[:HEADER_SCAN]):
        columns: dict[str, int] = {}
        for position, cell in enumerate(row):
            key = _header_key(cell)
            if key and key not in columns:
                columns[key] = position
        if "amount" not in columns and "amount_due" in columns:
            columns["amount"] = columns.pop("amount_due")
        if {"account", "amount", "result"} <= columns.keys():
            return index, columns
    raise ReturnFileError(_("找不到表头：回盘文件须有账号（卡号）、金额和处理结果（交易状态）三列。"))


def parse_return(data: bytes, filename: str) -> ParsedReturn:
    """Every line of the return file, or ReturnFileError listing each line that could not be read."""
    if len(data) > settings.BANK_RETURN_MAX_BYTES:
        raise ReturnFileError(_("文件过大（上限 %(max)s MB）。") % {"max": settings.BANK_RETURN_MAX_BYTES // 2**20})
    try:
        sheets = read_workbook(data, filename)
    except UnreadableFile as error:
        raise ReturnFileError(str(error)) from error
    sheet = next((s for s in sheets if any(any(_text(c) for c in row) for row in s.rows)), None)
    if sheet is None:
        raise ReturnFileError(_("文件是空的。"))
    header, columns = _find_header(sheet.rows)
    body = sheet.rows[header + 1:]
    if len(body) > settings.BANK_RETURN_MAX_LINES:
        raise ReturnFileError(_("行数过多（上限 %(max)s 行）。") % {"max": f"{settings.BANK_RETURN_MAX_LINES:,}"})
    parsed = ParsedReturn()
    for offset, row in enumerate(body, start=header + 2):
        _read_row(row, offset, columns, parsed)
    if parsed.problems:
        raise ReturnFileError(_("回盘文件有 %(n)s 行无法识别，未做任何处理：") % {"n": len(parsed.problems)},
                              parsed.problems)
    if not parsed.lines:
        raise ReturnFileError(_("回盘文件没有明细行。"))
    return parsed


def _cell(row: list, columns: dict[str, int], key: str):
    position = columns.get(key)
    return row[position] if position is not None and position < len(row) else None


def _read_row(row: list, number: int, columns: dict[str, int], parsed: ParsedReturn) -> None:
    texts = [_text(cell) for cell in row]
    if not any(texts) or any(text.replace(" ", "").startswith(TOTAL_WORDS) for text in texts if text):
        return
    if not _is_line(row, columns):  # a footer (总笔数 41 …), a signature (制表人：…), a note
        return
    try:
        account = _account(_cell(row, columns, "account"))
        paid = _result(_cell(row, columns, "result"))
        amount = _line_amount(row, columns, paid)
    except ValueError as error:
        parsed.problems.append((number, str(error)))
        return
    reason = "" if paid else _text(_cell(row, columns, "reason"))
    parsed.lines.append(ReturnLine(line=number, account=account, name=_text(_cell(row, columns, "name")),
                                   amount=amount, paid=paid, reason=reason[:200]))


def _is_line(row: list, columns: dict[str, int]) -> bool:
    """A payment's line has an account number or a result; what has neither is not one of them."""
    account = _account_text(_cell(row, columns, "account"))
    return bool(re.fullmatch(r"[0-9]{12,}", account) or _text(_cell(row, columns, "result")))


def _account_text(cell) -> str:
    """Digits as banks write them: ="6222…" (kept as text for Excel), '6222…, spaces every four digits, tabs."""
    text = _text(cell)
    if text.startswith("="):
        text = text[1:]
    return re.sub(r"[\s\-'\"]", "", text)


def _line_amount(row: list, columns: dict[str, int], paid: bool) -> Decimal:
    """The amount paid (实发); for a failed line that shows 0.00 paid, the amount that was due (应发)."""
    if not paid and "amount_due" in columns:
        actual = _cell(row, columns, "amount")
        if not _text(actual) or _is_zero(actual):
            return _amount(_cell(row, columns, "amount_due"))
    return _amount(_cell(row, columns, "amount"))


def _is_zero(cell) -> bool:
    try:
        return _amount_text(cell) in ("", "-") or Decimal(_amount_text(cell)) == 0
    except InvalidOperation:
        return False


def _account(cell) -> str:
    if isinstance(cell, float) and cell > 2**53:
        raise ValueError(_("账号被存成了数字，末几位已经丢失：请让银行提供账号为文本的文件"))
    digits = _account_text(cell)
    if not re.fullmatch(r"[0-9]{12,30}", digits):
        raise ValueError(_("账号应为 12 到 30 位数字"))
    return digits


def _amount_text(cell) -> str:
    if isinstance(cell, (int, float)) and not isinstance(cell, bool):
        return repr(cell)
    return re.sub(r"[\s,¥￥元'\"=]|RMB|CNY", "", _text(cell), flags=re.IGNORECASE)


def _amount(cell) -> Decimal:
    text = _amount_text(cell)
    try:
        amount = Decimal(text)
    except InvalidOperation:
        amount = None
    if amount is None or not amount.is_finite() or not 0 < amount < MAX_AMOUNT \
            or amount != amount.quantize(Decimal("0.01")):
        raise ValueError(_("金额应为大于零、最多两位小数的数字"))
    return amount.quantize(Decimal("0.01"))


def _result(cell) -> bool:
    word = _text(cell).lower().replace(" ", "")
    if word in PAID_WORDS:
        return True
    if word in FAILED_WORDS or word.startswith("失败"):
        return False
    raise ValueError(_("不能识别的处理结果“%(word)s”（应为成功或失败）") % {"word": _text(cell)[:20]})
