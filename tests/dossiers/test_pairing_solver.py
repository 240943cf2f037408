"""The optimal pairing proposal (dossiers.pairing_solver): its documented cost, capacity, provinces, and optimality
against an exhaustive search on random small instances (and a case where greedy is worse)."""

from __future__ import annotations

import itertools
import random

import pytest

from dossiers.pairing_solver import HelperOffer, HouseholdNeed, best_helpers, edge_cost, propose

UNIT = "/100000/410000/410100/410102/410102-C01/"


def need(pk, path=UNIT, causes=(3,)) -> HouseholdNeed:
    return HouseholdNeed(id=pk, union_path=path, causes=frozenset(causes))


def offer(pk, path=UNIT, kinds=("employment",), free=1, load=0) -> HelperOffer:
    return HelperOffer(id=pk, union_path=path, kinds=frozenset(kinds), free=free, load=load)


@pytest.mark.parametrize(("helper_path", "cost", "reason"), [
    (UNIT, 0, "same_unit"),
    ("/100000/410000/410100/410102/", 10, "same_county"),
    ("/100000/410000/410100/410102/410102-C02/", 10, "same_county"),
    ("/100000/410000/410100/", 20, "same_city"),
    ("/100000/410000/410200/410202/", 30, "same_province"),
])
def test_the_distance_in_the_union_tree(helper_path, cost, reason):
    assert edge_cost(need(1), offer(1, helper_path)) == (cost, (reason, "fits:employment"))


def test_never_across_provinces_or_to_a_full_helper():
    assert edge_cost(need(1), offer(1, "/100000/420000/420100/")) is None
    assert edge_cost(need(1), offer(1, "/100000/")) is None
    assert edge_cost(need(1), offer(1, free=0)) is None


def test_each_unfitted_cause_and_each_current_pairing_cost_more():
    household = need(1, causes=(3, 6, 9, 10))  # 下岗失业, 重特大疾病, 子女上学, 其他 (fitted by nothing, not counted)
    assert edge_cost(household, offer(1, kinds=("employment",), load=2)) == (
        15 * 2 + 3 * 2, ("same_unit", "fits:employment", "load:2"))
    assert edge_cost(household, offer(1, kinds=("legal",)))[1] == ("same_unit", "no_fit")
    assert edge_cost(need(1, causes=(10,)), offer(1, kinds=()))[0] == 0


def test_best_helpers_are_the_cheapest_allowed_in_order():
    helpers = [offer(5, "/100000/410000/410100/"), offer(4, kinds=("legal",)), offer(3), offer(2, free=0),
               offer(1, "/100000/420000/")]
    assert [line.helper_id for line in best_helpers(need(1), helpers, limit=5)] == [3, 4, 5]
    assert [line.helper_id for line in best_helpers(need(1), helpers, limit=1)] == [3]


def greedy(households, helpers) -> tuple[int, int]:
    """(households assigned, cost) when each household in turn takes its cheapest helper with a free slot."""
    free = {helper.id: helper.free for helper in helpers}
    given = {helper.id: 0 for helper in helpers}
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
    assert (2, proposal.total_cost) == (2, 0) and greedy(households, helpers) == (2, 15)


def brute_force(households, helpers) -> tuple[int, int]:
    """(households assigned, least cost) over every assignment that respects capacity."""
    best = (0, 0)
    choices = [[None, *[h for h in helpers if edge_cost(x, h) is not None]] for x in households]
    for picks in itertools.product(*choices):
        taken = {}
        for helper in picks:
            if helper is not None:
                taken[helper.id] = taken.get(helper.id, 0) + 1
        if any(taken[h.id] > h.free for h in helpers if h.id in taken):
            continue
        cost, seen = 0, {}
        for household, helper in zip(households, picks, strict=True):
            if helper is not None:
                j = seen.get(helper.id, 0)
                seen[helper.id] = j + 1
                cost += edge_cost(household, helper)[0] + 3 * j
        assigned = sum(helper is not None for helper in picks)
        if (assigned, -cost) > (best[0], -best[1]):
            best = (assigned, cost)
    return best


PATHS = ["/1/41/4101/410102/C01/", "/1/41/4101/410102/", "/1/41/4101/410105/C01/", "/1/41/4102/", "/1/42/4201/"]
KINDS = ["employment", "medical", "legal", "education", "social_insurance", "relief"]


def random_instance(rng: random.Random):
    households = [need(i, rng.choice(PATHS), rng.sample(range(1, 11), rng.randint(1, 3)))
                  for i in range(rng.randint(1, 6))]
    helpers = [offer(100 + i, rng.choice(PATHS), rng.sample(KINDS, rng.randint(0, 2)), rng.randint(0, 2),
                     rng.randint(0, 2)) for i in range(rng.randint(1, 4))]
    return households, helpers


def test_the_proposal_is_optimal_on_random_small_instances():
    rng = random.Random(2026)
    for _ in range(300):
        households, helpers = random_instance(rng)
        proposal = propose(households, helpers)
        assert (len(proposal.lines), proposal.total_cost) == brute_force(households, helpers), (households, helpers)
        assigned, cost = greedy(households, helpers)
        assert len(proposal.lines) > assigned or (len(proposal.lines) == assigned and proposal.total_cost <= cost)


def test_capacity_and_provinces_hold_at_scale_and_the_answer_is_deterministic():
    rng = random.Random(7)
    provinces = ["410000", "420000", "430000"]

    def path(province):
        return f"/100000/{province}/{province[:2]}{rng.randint(1, 5):02d}00/{rng.randint(1, 8)}/{rng.randint(1, 9)}/"
    households = [need(i, path(rng.choice(provinces)), rng.sample(range(1, 11), 2)) for i in range(5000)]
    helpers = [offer(10_000 + i, path(rng.choice(provinces)), rng.sample(KINDS, 2), rng.randint(0, 3))
               for i in range(1000)]
    proposal = propose(households, helpers)
    by_id = {helper.id: helper for helper in helpers}
    homes = {household.id: household for household in households}
    given = {}
    for line in proposal.lines:
        given[line.helper_id] = given.get(line.helper_id, 0) + 1
        assert homes[line.household_id].union_path.split("/")[2] == by_id[line.helper_id].union_path.split("/")[2]
    assert all(count <= by_id[helper_id].free for helper_id, count in given.items())
    assert len(proposal.lines) + len(proposal.unassigned) == len(households)
    assert len(proposal.lines) >= greedy(households, helpers)[0]
    assert propose(households, helpers).lines == proposal.lines


def test_nothing_to_propose():
    assert propose([], [offer(1)]).lines == [] and propose([need(1)], []).unassigned == [1]
