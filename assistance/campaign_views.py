"""送温暖 campaign pages: the campaigns of a subtree, a new campaign, its page (coverage per union, its batch, the
visit queue) and the 慰问 visit form of one household."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.http import require_GET, require_http_methods, require_POST
from kombu.exceptions import OperationalError as BrokerError

from assistance import campaigns
from assistance.subsidy_forms import CampaignForm, CampaignVisitForm
from assistance.subsidy_models import Campaign, PaymentBatch
from dossiers.models import Household
from hardship.access import get_visible_or_404

no_store = cache_control(no_store=True, private=True)


def _campaign(request: HttpRequest, pk: int) -> Campaign:
    campaign = get_visible_or_404(Campaign.objects.select_related("union", "created_by"), request.user, pk=pk)
    if not request.user.has_perm("assistance.view_campaign", campaign):
        raise PermissionDenied
    return campaign


@login_required
@require_http_methods(["GET", "POST"])
@no_store
def campaign_list(request: HttpRequest) -> HttpResponse:
    if not request.user.has_perm("assistance.view_campaign"):
        raise PermissionDenied
    can_add = request.user.has_perm("assistance.change_campaign") and request.user.home_union is not None
    form = CampaignForm(request.POST or None, user=request.user) if can_add else None
    if request.method == "POST":
        if form is None:
            raise PermissionDenied
        if form.is_valid():
            campaign = form.save(commit=False)
            campaign.created_by = request.user
            campaign.save()
            messages.success(request, _("已发起送温暖活动“%(name)s”。") % {"name": campaign.name})
            return redirect("subsidies:campaign", pk=campaign.pk)
    rows = Campaign.objects.visible_to(request.user).select_related("union")
    return render(request, "assistance/subsidies/campaign_list.html", {
        "page": Paginator(rows, 30).get_page(request.GET.get("page")), "form": form,
    }, status=422 if request.method == "POST" else 200)


@login_required
@require_GET
@no_store
def campaign_detail(request: HttpRequest, pk: int) -> HttpResponse:
    campaign = _campaign(request, pk)
    queue = campaigns.visit_queue(campaign, request.user)
    batch = PaymentBatch.objects.filter(campaign=campaign).first()
    return render(request, "assistance/subsidies/campaign_detail.html", {
        "campaign": campaign, "coverage": campaigns.coverage(campaign, request.user), "batch": batch,
        "queue": Paginator(queue, 50).get_page(request.GET.get("page")),
        "can_run": request.user.has_perm("assistance.change_campaign", campaign),
        "can_visit": request.user.has_perm("assistance.record_campaign_visit"),
        "can_see_batch": batch is not None and request.user.has_perm("assistance.view_batch", batch),
    })


@login_required
@require_POST
def campaign_run(request: HttpRequest, pk: int) -> HttpResponse:
    from assistance.tasks import run_campaign

    campaign = _campaign(request, pk)
    if not request.user.has_perm("assistance.change_campaign", campaign):
        raise PermissionDenied
    try:  # nothing is written before it: queued at once, so a broker that is down is reported here
        run_campaign.apply_async((campaign.pk, request.user.pk), retry=False)
    except BrokerError:
        messages.error(request, _("任务队列暂时不可用，慰问款项未生成。请稍后重试。"))
    else:
        messages.success(request, _("已开始生成慰问款项，稍后刷新本页查看。"))
    return redirect("subsidies:campaign", pk=campaign.pk)


@login_required
@require_http_methods(["GET", "POST"])
@no_store
def campaign_visit(request: HttpRequest, pk: int, file_number: str) -> HttpResponse:
    campaign = _campaign(request, pk)
    household = get_visible_or_404(Household.objects.select_related("union"), request.user, file_number=file_number)
    if not request.user.has_perm("assistance.record_campaign_visit", household):
        raise PermissionDenied
    form = CampaignVisitForm(request.POST or None, initial={"visited_on": timezone.localdate(),
                                                            "goods": campaign.goods})
    if request.method == "POST" and form.is_valid():
        try:
            campaigns.record_visit(campaign, household, by=request.user, **form.cleaned_data,
                                   helper=getattr(request.user, "helper_profile", None))
        except campaigns.CampaignError as error:
            form.add_error(None, str(error))
        else:
            messages.success(request, _("已登记 %(name)s 户的慰问。") % {"name": household.head_name})
            return redirect("subsidies:campaign", pk=campaign.pk)
    return render(request, "assistance/subsidies/campaign_visit.html", {
        "campaign": campaign, "household": household, "form": form,
    }, status=422 if request.method == "POST" else 200)
