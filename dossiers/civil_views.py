"""Pages of civil-affairs 低保 roster matching (数据比对): upload, the list of rosters, the result, accept."""

from __future__ import annotations

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Count, Func, IntegerField, Q
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
from hardship.access import get_visible_or_404

SECTION_LABELS = {
    "differences": gettext_lazy("差异"),
    "consistent": gettext_lazy("一致"),
    "unmatched": gettext_lazy("未建档"),
    "not_on_roster": gettext_lazy("本系统享受低保但名册中没有"),
}


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
    matched = Q(entries__household__isnull=False)
    rosters = (CivilRoster.objects.visible_to(request.user).select_related("union", "uploaded_by")
               .defer("rejected")  # can be long; the list needs only its length
               .annotate(entry_count=Count("entries"), matched_count=Count("entries", filter=matched),
                         accepted_count=Count("entries", filter=Q(entries__accepted_at__isnull=False)),
                         rejected_count=Func("rejected", function="jsonb_array_length",
                                             output_field=IntegerField())))
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
    roster = get_visible_or_404(CivilRoster.objects.select_related("union", "uploaded_by"), request.user, pk=pk)
    _require_matching(request, roster)
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
    else:  # a difference accepted before and since changed again in the file shows who accepted it
        rows = civil.entries_in(roster, section).select_related("accepted_by")
    counts = civil.section_counts(roster, request.user)
    page = paginate(rows, page_number(request))
    for row in page.rows:
        row.masked_id = idnumbers.mask(row.id_number if section != "not_on_roster" else row.head_id_number)
    context = {
        "roster": roster, "section": section, "counts": counts, "page": page,
        "tabs": [(key, label, counts[key]) for key, label in SECTION_LABELS.items()],
        "can_accept": request.user.has_perm("dossiers.accept_civil_match"),
    }
    return render(request, "dossiers/civil_detail.html", context)


@login_required
@require_POST
def accept_entry(request: HttpRequest, pk: int, entry_pk: int) -> HttpResponse:
    roster = _roster(request, pk)
    entry = get_object_or_404(civil.matched_entries(roster).select_related("household__union"), pk=entry_pk)
    if not request.user.has_perm("dossiers.accept_civil_match", entry.household):
        raise PermissionDenied
    try:
        event = civil.accept_match(entry, by=request.user)
    except civil.CivilMatchError as error:
        messages.error(request, str(error))
    else:
        if event is None:
            messages.info(request, _("该比对结果已经采纳过。"))
        else:
            messages.success(request, _("已将民政比对结果写入档案 %(file)s。") % {"file": entry.household.file_number})
    return redirect(_back(request, roster))


@login_required
@require_POST
def accept_all(request: HttpRequest, pk: int) -> HttpResponse:
    roster = _roster(request, pk)
    if not request.user.has_perm("dossiers.accept_civil_match"):
        raise PermissionDenied
    count = civil.accept_all_differences(roster, by=request.user)
    messages.success(request, _("已采纳 %(n)d 条差异。") % {"n": count})
    return redirect(_back(request, roster))


def _back(request: HttpRequest, roster: CivilRoster) -> str:
    url = reverse("dossiers:civil_detail", kwargs={"pk": roster.pk})
    page = request.POST.get("page", "")
    return f"{url}?show=differences" + (f"&page={page}" if page.isdigit() else "")
