"""The bank's files: return files written blind from the domain notes by someone who had not seen the parser
(tests/assistance/data/bank_returns, each with what the batch sent, what the file says and what must be flagged),
hostile uploads, and the disbursement file's layouts."""

from __future__ import annotations

import datetime
import io
import json
from decimal import Decimal
from pathlib import Path

import pytest
from django.test import override_settings
from openpyxl import Workbook

from assistance import bankfiles, batches
from assistance.models import Campaign, FundBudget, Payment, PaymentBatch, Schedule

DATA = Path(__file__).parent / "data" / "bank_returns"
FILES = sorted(p for p in DATA.iterdir() if p.suffix in (".csv", ".xlsx"))


def expected(path: Path) -> dict:
    return json.loads(path.with_suffix(".expected.json").read_text("utf-8"))


@pytest.mark.parametrize("path", FILES, ids=[p.name[:2] for p in FILES])
def test_every_line_of_a_blind_return_file_is_read_as_its_bank_wrote_it(path):
    parsed = bankfiles.parse_return(path.read_bytes(), path.name)
    got = [(line.account, f"{line.amount:.2f}", "paid" if line.paid else "failed", line.reason)
           for line in parsed.lines]
    assert got == [(line["account"], line["amount"], line["result"], line["reason"])
                   for line in expected(path)["lines"]]


def sent_batch(household, union, accounts_and_amounts) -> PaymentBatch:
    """A SENT batch holding one payment per (account, amount), as the system had sent it (its budget committed)."""
    total = sum(Decimal(amount) for _account, amount in accounts_and_amounts)
    FundBudget.objects.create(union=union, year=2026, fund_source="central", amount=total, committed=total)
    batch = PaymentBatch.objects.create(union=union, period=datetime.date(2026, 12, 1), status="sent")
    for index, (account, amount) in enumerate(accounts_and_amounts):
        schedule = Schedule.objects.create(
            household=household, union=union, amount=Decimal(amount), first_period=datetime.date(2026, 12, 1),
            fund_source="central", approved_by=household.filed_by, created_by=household.filed_by,
            kind="medical" if index % 2 else "schooling")
        Payment.objects.create(batch=batch, household=household, schedule=schedule, kind=schedule.kind,
                               period=batch.period, amount=Decimal(amount), fund_source="central",
                               account_name=f"户{index}", account=account, memo="test", status="sent")
    return batch


@pytest.mark.django_db
@pytest.mark.parametrize("path", FILES, ids=[p.name[:2] for p in FILES])
def test_reconciling_a_blind_return_file_flags_exactly_the_mismatches(path, registered, county_supervisor):
    household = registered()
    spec = expected(path)
    batch = sent_batch(household, household.union, [(row["account"], row["amount"]) for row in spec["batch"]])
    parsed = bankfiles.parse_return(path.read_bytes(), path.name)
    outcome = batches.record_return(batch, parsed.lines, by=county_supervisor, filename=path.name)
    accounts = {str(p.account): p for p in batch.payments.all()}
    flagged = sorted((d.kind, d.account_masked) for d in outcome.discrepancies)
    want = sorted((d["kind"], bankfiles_mask(d["account"])) for d in spec["discrepancies"])
    assert flagged == want
    settled = {line["account"]: line for line in spec["lines"] if line["account"] in accounts}
    for account, payment in accounts.items():
        payment.refresh_from_db()
        line = settled.get(account)
        flagged_here = any(d["account"] == account and d["kind"] in ("amount_mismatch", "missing_line")
                           for d in spec["discrepancies"])
        if flagged_here or line is None:
            assert payment.status == Payment.Status.SENT
        else:
            assert payment.status == ("paid" if line["result"] == "paid" else "failed")
    batch.refresh_from_db()
    assert (batch.status == "closed") is (not spec["discrepancies"])


def bankfiles_mask(account: str) -> str:
    from hardship import idnumbers

    return idnumbers.mask(account)


def xlsx(rows) -> bytes:
    book = Workbook()
    for row in rows:
        book.active.append(row)
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


HEADER = ["账号", "户名", "金额", "处理结果", "失败原因"]


def test_a_card_number_stored_as_a_number_is_refused_with_its_line():
    data = xlsx([HEADER, [6222021234567890123, "张建国", 300, "成功", ""]])
    with pytest.raises(bankfiles.ReturnFileError) as refused:
        bankfiles.parse_return(data, "回盘.xlsx")
    assert refused.value.problems[0][0] == 2 and "数字" in refused.value.problems[0][1]


@pytest.mark.parametrize("cell, problem", [
    ("abc", "账号"), ("6222 0212", "账号"),
])
def test_a_bad_account_refuses_the_whole_file(cell, problem):
    data = "\n".join([",".join(HEADER), f"{cell},张三,300.00,成功,", "6222021234567890123,李四,300.00,成功,"])
    with pytest.raises(bankfiles.ReturnFileError) as refused:
        bankfiles.parse_return(data.encode(), "r.csv")
    assert [n for n, _p in refused.value.problems] == [2] and problem in refused.value.problems[0][1]


@pytest.mark.parametrize("amount", ["-300.00", "0", "300.001", "三百", "NaN", "Infinity", "1e400"])
def test_an_amount_that_is_not_money_refuses_the_file(amount):
    data = f"{','.join(HEADER)}\n6222021234567890123,张三,{amount},成功,\n"
    with pytest.raises(bankfiles.ReturnFileError) as refused:
        bankfiles.parse_return(data.encode(), "r.csv")
    assert refused.value.problems and "金额" in refused.value.problems[0][1]


def test_an_unknown_result_word_is_refused_rather_than_guessed():
    data = f"{','.join(HEADER)}\n6222021234567890123,张三,300.00,处理中,\n"
    with pytest.raises(bankfiles.ReturnFileError) as refused:
        bankfiles.parse_return(data.encode(), "r.csv")
    assert "处理中" in refused.value.problems[0][1]


@pytest.mark.parametrize("content, name", [
    (b"", "r.csv"), (b"\x00\x01\x02binary", "r.xlsx"), ("序号,姓名\n1,张三\n".encode(), "r.csv"),
    (",".join(HEADER).encode() + b"\n", "r.csv"),
])
def test_an_empty_unreadable_or_headerless_file_is_refused(content, name):
    with pytest.raises(bankfiles.ReturnFileError):
        bankfiles.parse_return(content, name)


@override_settings(BANK_RETURN_MAX_BYTES=1000)
def test_an_oversized_file_is_refused_before_it_is_read():
    with pytest.raises(bankfiles.ReturnFileError, match="过大"):
        bankfiles.parse_return(b"x" * 1001, "r.csv")


@override_settings(BANK_RETURN_MAX_LINES=3)
def test_a_file_with_too_many_lines_is_refused():
    line = "6222021234567890123,张三,300.00,成功,"
    with pytest.raises(bankfiles.ReturnFileError, match="行数过多"):
        bankfiles.parse_return("\n".join([",".join(HEADER), *[line] * 4]).encode(), "r.csv")


@pytest.mark.django_db
@pytest.mark.parametrize("layout", ["default", "icbc", "ccb", "rcc"])
def test_the_disbursement_file_has_the_banks_columns_and_full_accounts(layout, registered, unions, settings):
    household = registered(bank_card="6217000010012345678")
    campaign = Campaign.objects.create(name="元旦慰问", union=unions["410102"], starts_on=datetime.date(2026, 12, 20),
                                       ends_on=datetime.date(2027, 1, 10), categories=["relative"],
                                       amounts={"relative": "500.00"}, fund_source="union",
                                       created_by=household.filed_by)
    batch = PaymentBatch.objects.create(union=household.union, period=datetime.date(2026, 12, 1), campaign=campaign,
                                        status="approved")
    Payment.objects.create(batch=batch, household=household, campaign=campaign, kind="warmth", period=batch.period,
                           amount=Decimal("500.00"), fund_source="union", account_name="=HYPERLINK(1)",
                           account="6217000010012345678", memo="元旦慰问")
    headers, rows = bankfiles.disbursement_table(batch, layout)
    assert headers == [heading for _field, heading in settings.BANK_FILE_LAYOUTS[layout]]
    line = dict(zip([f for f, _h in settings.BANK_FILE_LAYOUTS[layout]], rows[0]))
    assert line["account"] == "6217000010012345678" and line["amount"] == "500.00"
    if "id_number" in line:
        assert line["id_number"] == str(household.head_id_number)
