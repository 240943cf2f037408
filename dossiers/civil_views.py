"""Pages of civil-affairs 低保 roster matching (数据比对): upload, the list of rosters, the result, accept."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Func, IntegerField
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from dossiers import civil
from dossiers.legacy.models import CivilRoster
from dossiers.legacy.reading import MAX_BYTES, UnreadableFile
from dossiers.search import paginate
from dossiers.views import page_number
from hardship import idnumbers

SECTION_LABELS = {
    "differences": gettext_lazy("差异"),
    "accepted": gettext_lazy("已采纳"),
    "consistent": gettext_lazy("一致"),
    "unmatched": gettext_lazy("未匹配"),
    "not_on_roster": gettext_lazy("本系统享受低保但名册中没有"),
}
NAMED_ACCEPTORS = 8  # told to someone who may not accept: who may, then "另有 N 人"


class RosterUploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("民政低保名册"), allow_empty_file=True,  # the reader says "文件是空的"
        help_text=gettext_lazy("Excel（.xlsx、.xls）或 CSV 文件，须有“身份证号码”“姓名”和低保金额列，"
                               "可有低保状态列（在保/停保）；只读取有数据的一个工作表。"),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_BYTES:
            raise forms.ValidationError(_("文件太大：最大 %(n)d MB。") % {"n": MAX_BYTES // (1024 * 1024)})
        return upload


def _require_matching(request: HttpRequest, obj=None) -> None:
    if not request.user.has_perm("dossiers.match_civil_roster", obj):
        raise PermissionDenied


@login_required
@require_GET
def roster_list(request: HttpRequest) -> HttpResponse:
    _require_matching(request)
    rosters = (civil.visible_rosters(request.user).select_related("union", "uploaded_by")
               .defer("rejected")  # can be long; the list needs only its length
               .annotate(rejected_count=Func("rejected", function="jsonb_array_length",
                                             output_field=IntegerField())))
    rosters = civil.with_counts(rosters, request.user)
    return render(request, "dossiers/civil_list.html", {"page": paginate(rosters, page_number(request))})


@login_required
def roster_upload(request: HttpRequest) -> HttpResponse:
    if request.user.home_union_id is None:
        raise PermissionDenied
    _require_matching(request, request.user.home_union)
    form = RosterUploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            parsed = civil.read_roster(upload.read(), upload.name)
        except (UnreadableFile, civil.RosterError) as error:
            form.add_error("file", error.message)
        else:
            roster = civil.create_roster(parsed, file_name=upload.name, by=request.user)
            messages.success(request, _("名册已读取并完成比对：共 %(n)d 人。") % {"n": len(parsed.rows)})
            return redirect("dossiers:civil_detail", pk=roster.pk)
    return render(request, "dossiers/civil_upload.html", {"form": form})


def _roster(request: HttpRequest, pk: int) -> CivilRoster:
    """A roster the user sees (else 404: civil.visible_rosters), if their role works on rosters (else 403)."""
    roster = get_object_or_404(civil.visible_rosters(request.user).select_related("union", "uploaded_by"), pk=pk)
    _require_matching(request)
    return roster


@login_required
@require_GET
def roster_detail(request: HttpRequest, pk: int) -> HttpResponse:
    roster = _roster(request, pk)
    section = request.GET.get("show", "differences")
    if section not in SECTION_LABELS:
        raise Http404
    if section == "not_on_roster":
        rows = civil.not_on_roster(roster, request.user)
    else:
        rows = civil.entries_in(roster, section, request.user)
    counts = civil.section_counts(roster, request.user)
    page = paginate(rows, page_number(request))
    for row in page.rows:
        row.masked_id = idnumbers.mask(row.id_number if section != "not_on_roster" else row.head_id_number)
    context = {
        "roster": roster, "section": section, "counts": counts, "page": page,
        "tabs": [(key, label, counts[key]) for key, label in SECTION_LABELS.items()],
        **_acceptance(roster, request.user),
    }
    return render(request, "dossiers/civil_detail.html", context)


def _acceptance(roster: CivilRoster, user) -> dict:
    """What the page says about accepting: whether this user may, on which files, and if not, who may."""
    if user.has_perm("dossiers.accept_civil_match"):
        below = civil.work_path(roster, user) != roster.union.path
        return {"can_accept": True, "work_union": user.home_union if below else None}
    acceptors = civil.accepting_caseworkers(roster)
    named = list(acceptors[:NAMED_ACCEPTORS + 1])
    more = acceptors.count() - NAMED_ACCEPTORS if len(named) > NAMED_ACCEPTORS else 0
    return {"can_accept": False, "acceptors": named[:NAMED_ACCEPTORS], "more_acceptors": more}


@login_required
@require_POST
def accept_entry(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    roster = _roster(request, pk)
    entry = get_object_or_404(civil.matched_entries(roster, request.user).select_related("household__union"),
                              pk=entry_pk)
    if not request.user.has_perm("dossiers.accept_civil_match", entry.household):
        raise PermissionDenied
    try:
        event = civil.accept_match(entry, by=request.user)
    except civil.CivilMatchError as error:
        messages.error(request, str(error))
    else:
        if event is None:
            messages.info(request, _("该比对结果已经采纳过，见“已采纳”。"))
        else:
            messages.success(request, _("已将民政比对结果写入档案 %(file)s，该条已移到“已采纳”。") % {
                "file": entry.household.file_number})
    return redirect(_back(request, roster))


@login_required
@require_POST
def accept_all(request: HttpRequest, pk: int) -> HttpResponse:
    roster = _roster(request, pk)
    if not request.user.has_perm("dossiers.accept_civil_match"):
        raise PermissionDenied
    count = civil.accept_all_differences(roster, by=request.user)
    messages.success(request, _("已采纳 %(n)d 条差异。") % {"n": count})
    left = civil.entries_in(roster, "differences", request.user).count()
    if left:  # the files closed since the upload
        messages.warning(request, _("还有 %(n)d 条差异没有采纳：它们的档案已办结，不能再修改。") % {"n": left})
    return redirect(_back(request, roster))


def _back(request: HttpRequest, roster: CivilRoster) -> str:
    url = reverse("dossiers:civil_detail", kwargs={"pk": roster.pk})
    page = request.POST.get("page", "")
    return f"{url}?show=differences" + (f"&page={page}" if page.isdigit() else "")
