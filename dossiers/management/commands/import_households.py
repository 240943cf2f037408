"""python manage.py import_households FILE --union UNION_CODE [--dry-run] [--skip-invalid] [--json] [--user NAME]
                                        [--mapping MAPPING.json]

--mapping takes the column and value mapping of the import preview as a JSON file (dossiers.legacy.mapping);
--json prints the report with every column as it was read ("columns") and the unreadable values ("unreadable").

Exit status: 0 when it wrote what it was asked to (for --dry-run: when the import would go ahead),
1 when all-or-nothing refused because of rejected rows, 2 when the file cannot be read, 3 when the union or user
does not exist or the user may not import there.
"""

import json
import sys
from pathlib import Path

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied
from django.core.management.base import BaseCommand, CommandError

from dossiers.legacy.importer import ImportReport, run_import
from dossiers.legacy.mapping import Mapping, MappingError
from dossiers.legacy.models import ImportBatch
from dossiers.legacy.reading import UnreadableFile
from hardship.models import Role, Union

SYSTEM_USERNAME = "system-import"
NOT_ALLOWED = 3


class Command(BaseCommand):
    help = "导入历史困难职工档案（.xlsx / .xls / .csv）到指定工会单位。"

    def add_arguments(self, parser):
        parser.add_argument("file", type=Path)
        parser.add_argument("--union", required=True, help="建档单位的单位代码，如 410102")
        parser.add_argument("--dry-run", action="store_true", help="只预览，不写入")
        parser.add_argument("--skip-invalid", action="store_true",
                            help="导入无误的户，跳过有误的行（默认：全部无误才导入）")
        parser.add_argument("--json", action="store_true", help="输出一个 JSON 对象")
        parser.add_argument("--user", help="以该账号的名义导入（须有该单位的导入权限）；默认为系统导入账号")
        parser.add_argument("--mapping", type=Path,
                            help="列映射 JSON 文件：{\"columns\": {列名: 字段}, \"values\": {字段: {原值: 映射值}}}")

    def handle(self, *args, **options):
        union = Union.objects.filter(code=options["union"]).first()
        if union is None:
            raise CommandError(f"没有单位代码为 {options['union']} 的工会单位", returncode=NOT_ALLOWED)
        user = self._user(options["user"])
        mode = ImportBatch.Mode.SKIP_INVALID if options["skip_invalid"] else ImportBatch.Mode.ALL_OR_NOTHING
        mapping = self._mapping(options["mapping"])
        try:
            data = options["file"].read_bytes()
            report = run_import(data, options["file"].name, union=union, user=user, mode=mode,
                                dry_run=options["dry_run"], mapping=mapping)
        except (OSError, UnreadableFile) as error:
            message = getattr(error, "message", None) or f"无法读取文件：{error.strerror or error}"
            self._say({"error": message} if options["json"] else message, options["json"], err=True)
            sys.exit(2)
        except PermissionDenied as error:
            raise CommandError(str(error), returncode=NOT_ALLOWED) from None
        self._say(report.as_json() if options["json"] else self._summary(report), options["json"])
        if report.refused:
            sys.exit(1)

    def _mapping(self, path: Path | None) -> Mapping:
        if path is None:
            return Mapping()
        try:
            return Mapping.from_json(json.loads(path.read_text(encoding="utf-8-sig")))
        except OSError as error:
            raise CommandError(f"无法读取映射文件：{error.strerror or error}", returncode=2) from None
        except (ValueError, MappingError) as error:
            raise CommandError(f"映射文件有误：{getattr(error, 'message', None) or error}", returncode=2) from None

    def _user(self, username: str | None):
        users = get_user_model().objects
        if username:
            user = users.filter(username=username).first()
            if user is None:
                raise CommandError(f"没有用户名为 {username} 的账号", returncode=NOT_ALLOWED)
            return user
        root = Union.objects.filter(parent__isnull=True).order_by("path").first()
        user, created = users.get_or_create(username=SYSTEM_USERNAME, defaults={
            "full_name": "系统导入（命令行）", "role": Role.ADMIN, "home_union": root})
        if created:
            user.set_unusable_password()
            user.save(update_fields=["password"])
        return user

    def _say(self, payload, as_json: bool, err: bool = False) -> None:
        stream = self.stderr if err and not as_json else self.stdout
        stream.write(json.dumps(payload, ensure_ascii=False) if as_json else payload)

    def _summary(self, report: ImportReport) -> str:
        verb = "预览（未写入）" if report.dry_run else (
            "未导入：全部无误才导入，但有误的行如下" if report.refused else "已导入")
        lines = [f"{verb}：新建 {report.households_created} 户，更新 {report.households_updated} 户，"
                 f"无变化 {report.households_unchanged} 户；成员新建 {report.members_created} 人，"
                 f"更新 {report.members_updated} 人；有误 {report.rejected_row_count} 行，"
                 f"跳过 {len(report.skipped)} 行。"]
        lines += [f"  有误 {p.sheet} 第 {p.row} 行 {p.column}：{p.reason}" for p in report.rejected]
        lines += [f"  跳过 {s.sheet} 第 {s.row} 行：{s.reason}" for s in report.skipped]
        lines += [f"  未识别的列 {text}" for text in report.unknown_columns]
        lines += [f"  无法识别的值 {group['sheet']}“{group['header']}”列的“{group['value']}”：{group['count']} 行"
                  for group in report.unreadable]
        lines += [f"  提示 {text}" for text in report.warnings]
        return "\n".join(lines)
