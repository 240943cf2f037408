"""The optimal pairing proposal (dossiers.pairing_solver): its documented cost, capacity, provinces, and optimality
against an exhaustive search on random small instances (and a case where greedy is worse). No database."""

from __future__ import annotations

import itertools
import random
from collections import Counter

import pytest

from dossiers.pairing_solver import CANDIDATES, HelperOffer, HouseholdNeed, best_helpers, edge_cost, propose

UNIT = "/000000/410000/410100/410102/410102-C01/"
COUNTY = "/000000/410000/410100/410102/"


def need(pk, path=UNIT, causes=(3,)) -> HouseholdNeed:
    return HouseholdNeed(id=pk, union_path=path, causes=frozenset(causes))


def offer(pk, path=UNIT, kinds=("employment",), free=1, load=0) -> HelperOffer:
    return HelperOffer(id=pk, union_path=path, kinds=frozenset(kinds), free=free, load=load)


@pytest.mark.parametrize(("household_path", "helper_path", "cost", "reason"), [
    (UNIT, UNIT, 0, "same_unit"),
    (COUNTY, COUNTY, 0, "same_unit"),  # the same union
    (UNIT, COUNTY, 10, "same_county"),  # a cadre of the county union itself
    (UNIT, "/000000/410000/410100/410102/410102-C02/", 10, "same_county"),
    (UNIT, "/000000/410000/410100/", 20, "same_city"),
    (UNIT, "/000000/410000/410100/410105/410105-C01/", 20, "same_city"),
    (UNIT, "/000000/410000/410200/410202/", 30, "same_province"),
    (UNIT, "/000000/410000/", 30, "same_province"),
])
def test_the_distance_in_the_union_tree(household_path, helper_path, cost, reason):
    assert edge_cost(need(1, household_path), offer(1, helper_path)) == (cost, (reason, "fits:employment"))


@pytest.mark.parametrize(("household_path", "helper"), [
    (UNIT, offer(1, "/000000/420000/420100/")),  # another province
    (UNIT, offer(1, "/000000/")),  # above the provinces
    ("/000000/", offer(1, "/000000/")),  # the same union, but above the provinces
    (UNIT, offer(1, free=0)),  # no free slot
])
def test_pairs_that_are_not_allowed(household_path, helper):
    assert edge_cost(need(1, household_path), helper) is None


def test_each_unfitted_cause_and_each_current_pairing_cost_more():
    household = need(1, causes=(3, 6, 9, 10))  # 下岗失业, 重特大疾病, 子女上学, 其他 (fitted by nothing, not counted)
    assert edge_cost(household, offer(1, kinds=("employment",), load=2)) == (
        15 * 2 + 3 * 2, ("same_unit", "fits:employment", "load:2"))
    assert edge_cost(household, offer(1, kinds=("employment", "medical", "social_insurance"))) == (
        15, ("same_unit", "fits:employment", "fits:medical", "fits:social_insurance"))
    assert edge_cost(household, offer(1, kinds=("legal",))) == (15 * 3, ("same_unit", "no_fit"))
    assert edge_cost(need(1, causes=(1,)), offer(1, kinds=("care", "relief"))) == (
        0, ("same_unit", "fits:care", "fits:relief"))
    assert edge_cost(need(1, causes=(10,)), offer(1, kinds=())) == (0, ("same_unit",))


def test_best_helpers_are_the_cheapest_allowed_in_order_ties_by_id():
    helpers = [offer(5, "/000000/410000/410100/"), offer(4, kinds=("legal",)), offer(7), offer(3), offer(2, free=0),
               offer(1, "/000000/420000/")]
    assert [line.helper_id for line in best_helpers(need(1), helpers, limit=5)] == [3, 7, 4, 5]
    assert [line.helper_id for line in best_helpers(need(1), helpers, limit=2)] == [3, 7]
    assert best_helpers(need(1), helpers, limit=0) == []
    assert [line.cost for line in best_helpers(need(1), helpers)] == [0, 0, 15, 20]


def greedy(households, helpers) -> tuple[int, int]:
    """(households assigned, cost) when each household in id order takes its cheapest helper with a free slot."""
    free = {helper.id: helper.free for helper in helpers}
    given = dict.fromkeys(free, 0)
    total = assigned = 0
    for household in sorted(households, key=lambda h: h.id):
        options = [(edge_cost(household, h)[0] + 3 * given[h.id], h.id) for h in helpers
                   if free[h.id] and edge_cost(household, h) is not None]
        if options:
            cost, helper_id = min(options)
            free[helper_id] -= 1
            given[helper_id] += 1
            total += cost
            assigned += 1
    return assigned, total


def test_the_proposal_beats_greedy_where_greedy_takes_the_wrong_helper():
    # Household 1 (子女上学) fits both helpers, household 2 (重特大疾病) only the first: greedy, going in order, gives
    # household 1 the first helper and leaves household 2 a helper who does not fit.
    households = [need(1, causes=(9,)), need(2, causes=(6,))]
    helpers = [offer(10, kinds=("education", "medical")), offer(11, kinds=("education",))]
    proposal = propose(households, helpers)
    assert {line.household_id: line.helper_id for line in proposal.lines} == {1: 11, 2: 10}
    assert (len(proposal.lines), proposal.total_cost) == (2, 0)
    assert greedy(households, helpers) == (2, 15)


def test_capacity_is_respected_and_each_further_household_of_a_helper_costs_more():
    households = [need(i) for i in range(1, 5)]
    helpers = [offer(10, free=0), offer(11, free=2, load=1), offer(12, "/000000/410000/410200/", free=1)]
    proposal = propose(households, helpers)
    assert Counter(line.helper_id for line in proposal.lines) == {11: 2, 12: 1}
    assert sorted(line.cost for line in proposal.lines) == [3, 6, 30]  # 3 × (1 + 0), 3 × (1 + 1), a province away
    assert proposal.total_cost == 39 and len(proposal.unassigned) == 1


def test_the_load_spreads_households_over_helpers():
    proposal = propose([need(1), need(2)], [offer(10, free=2), offer(11, free=2)])
    assert {line.helper_id for line in proposal.lines} == {10, 11} and proposal.total_cost == 0


def test_never_across_provinces():
    households = [need(1), need(2, "/000000/420000/420100/420102/"), need(3, "/000000/")]
    proposal = propose(households, [offer(10, free=3), offer(11, "/000000/", free=3)])
    assert [(line.household_id, line.helper_id) for line in proposal.lines] == [(1, 10)]
    assert proposal.unassigned == [2, 3]


def test_with_more_helpers_than_candidates_the_cheapest_are_kept():
    far = [offer(i, "/000000/410000/410200/", free=1) for i in range(1, CANDIDATES + 11)]
    near = offer(CANDIDATES + 99, COUNTY)
    proposal = propose([need(1), need(2)], [*far, near])
    assert [(line.helper_id, line.cost) for line in proposal.lines] == [(near.id, 10), (1, 30)]


def brute_force(households, helpers) -> tuple[int, int]:
    """(households assigned, least cost) over every assignment that respects capacity: first the most households,
    then the least cost."""
    best = (0, 0)
    choices = [[None, *[h for h in helpers if edge_cost(x, h) is not None]] for x in households]
    for picks in itertools.product(*choices):
        taken = Counter(helper.id for helper in picks if helper is not None)
        if any(taken[h.id] > h.free for h in helpers):
            continue
        cost, seen = 0, Counter()
        for household, helper in zip(households, picks):
            if helper is not None:
                cost += edge_cost(household, helper)[0] + 3 * seen[helper.id]
                seen[helper.id] += 1
        assigned = sum(taken.values())
        if (assigned, -cost) > (best[0], -best[1]):
            best = (assigned, cost)
    return best


PATHS = ["/000000/410000/410100/410102/410102-C01/", "/000000/410000/410100/410102/410102-C02/",
         "/000000/410000/410100/410102/", "/000000/410000/410100/410105/410105-C01/", "/000000/410000/410200/",
         "/000000/420000/420100/420102/420102-C01/", "/000000/420000/420100/"]
KINDS = ["employment", "medical", "legal", "education", "social_insurance", "relief", "care"]


def random_instance(rng: random.Random):
    households = [need(i, rng.choice(PATHS), rng.sample(range(1, 11), rng.randint(1, 3)))
                  for i in rng.sample(range(1, 50), rng.randint(1, 6))]
    helpers = [offer(i, rng.choice(PATHS), rng.sample(KINDS, rng.randint(0, 3)), rng.randint(0, 2), rng.randint(0, 2))
               for i in rng.sample(range(100, 150), rng.randint(1, 4))]
    return households, helpers


def assert_allowed_and_within_capacity(proposal, households, helpers):
    by_id = {helper.id: helper for helper in helpers}
    homes = {household.id: household for household in households}
    for line in proposal.lines:
        assert edge_cost(homes[line.household_id], by_id[line.helper_id]) is not None, line
    given = Counter(line.helper_id for line in proposal.lines)
    assert all(count <= by_id[helper_id].free for helper_id, count in given.items())
    assert sorted([line.household_id for line in proposal.lines] + proposal.unassigned) == sorted(homes)
    assert proposal.total_cost == sum(line.cost for line in proposal.lines)


def test_the_proposal_is_optimal_on_random_small_instances():
    rng = random.Random(2026)
    for _ in range(300):
        households, helpers = random_instance(rng)
        proposal = propose(households, helpers)
        assert (len(proposal.lines), proposal.total_cost) == brute_force(households, helpers), (households, helpers)
        assert_allowed_and_within_capacity(proposal, households, helpers)


def test_best_helpers_agree_with_scoring_every_helper():
    rng = random.Random(11)
    for _ in range(100):
        households, helpers = random_instance(rng)
        allowed = [(edge_cost(households[0], helper), helper.id) for helper in helpers]
        scored = sorted((cost_and_reasons[0], helper_id) for cost_and_reasons, helper_id in allowed if cost_and_reasons)
        assert [(line.cost, line.helper_id) for line in best_helpers(households[0], helpers, limit=3)] == scored[:3]


def test_the_same_input_in_any_order_gives_the_same_proposal():
    rng = random.Random(5)
    households, helpers = zip(*(random_instance(rng) for _ in range(30)))
    households = list({h.id: h for part in households for h in part}.values())
    helpers = list({h.id: h for part in helpers for h in part}.values())
    proposal = propose(households, helpers)
    assert propose(households, helpers) == proposal
    rng.shuffle(households)
    rng.shuffle(helpers)
    assert propose(households, helpers) == proposal


def scale_path(rng: random.Random, province: str) -> str:
    city = f"{province[:2]}{rng.randint(1, 5):02d}"
    county = f"{city}{rng.randint(1, 8):02d}"
    return f"/000000/{province}/{city}00/{county}/{county}-J{rng.randint(1, 9):02d}/"


def test_capacity_and_provinces_hold_at_scale():
    rng = random.Random(7)
    provinces = ["410000", "420000", "430000"]
    households = [need(i, scale_path(rng, rng.choice(provinces)), rng.sample(range(1, 11), 2)) for i in range(5000)]
    helpers = [offer(10_000 + i, scale_path(rng, rng.choice(provinces)), rng.sample(KINDS, 2), rng.randint(0, 3),
                     rng.randint(0, 2)) for i in range(1000)]
    proposal = propose(households, helpers)
    assert_allowed_and_within_capacity(proposal, households, helpers)
    assert len(proposal.lines) > 1000
    assert propose(households, helpers).lines == proposal.lines


def test_nothing_to_propose():
    assert propose([], []) == propose([], [offer(1)])
    assert propose([], []).lines == [] and propose([], []).unassigned == [] and propose([], []).total_cost == 0
    assert propose([need(1)], []).unassigned == [1]
