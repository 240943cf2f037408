"""The optimal pairing proposal: unpaired households assigned to helpers with free slots at the least total cost.

Cost of giving household h to helper p as p's j-th new household (j = 0, 1, …), all integers:
- distance in the union tree: the same union 0, the same county 10, the same city 20, the same province 30; never
  across provinces (no edge);
- mismatch: 15 for each of the household's causes (other than 其他) that none of the helper's kinds of help fits;
- load: 3 × (the helper's current pairings + j), so a helper's second new household costs more than the first
  and the proposal spreads households over helpers.

Each free slot of a helper is a column of its own (with its load cost), so capacity becomes a plain assignment:
rows are households, columns slots, and SciPy's sparse minimum-weight full bipartite matching
(scipy.sparse.csgraph.min_weight_full_bipartite_matching, LAPJVsp) solves it exactly on the candidate edges. Every
household also gets a private "unassigned" column of cost UNASSIGNED, far above any real edge, so a full matching
always exists and the optimum first assigns as many households as possible, then minimises the cost. Provinces are
solved separately (no edge crosses them). Candidate edges are pruned to each household's CANDIDATES cheapest helpers,
which keeps memory linear in the households; the proposal is exact among those candidates.

OR-Tools' min-cost flow would model capacity directly, but slots-as-columns makes it a plain assignment that SciPy,
already a well-kept dependency here, solves exactly; and no second native solver has to be installed.
"""

from __future__ import annotations

import functools
import heapq
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy.sparse import csr_array
from scipy.sparse.csgraph import min_weight_full_bipartite_matching

DISTANCE = {5: 0, 4: 10, 3: 20, 2: 30}  # segments shared (national, province, city, county, unit) → cost
MISMATCH = 15  # more than a level of the tree: a helper whose help fits is worth going a level up for
LOAD = 3
UNASSIGNED = 10**6
CANDIDATES = 50

# The kinds of help that fit each cause of hardship (dossiers.choices.Cause); 10 其他 is fitted by none.
FITTING_KINDS = {
    1: {"relief", "care"}, 2: {"employment"}, 3: {"employment", "social_insurance"}, 4: {"social_insurance"},
    5: {"social_insurance", "legal"}, 6: {"medical"}, 7: {"relief"}, 8: {"medical", "legal"}, 9: {"education"},
}
SHARED_REASON = {5: "same_unit", 4: "same_county", 3: "same_city", 2: "same_province"}


@dataclass(frozen=True)
class HouseholdNeed:
    id: int
    union_path: str
    causes: frozenset[int]


@dataclass(frozen=True)
class HelperOffer:
    id: int
    union_path: str
    kinds: frozenset[str]
    free: int
    load: int


@dataclass(frozen=True)
class Line:
    household_id: int
    helper_id: int
    cost: int
    reasons: tuple[str, ...]


@dataclass
class Proposal:
    lines: list[Line] = field(default_factory=list)
    unassigned: list[int] = field(default_factory=list)
    total_cost: int = 0


def _segments(path: str) -> list[str]:
    return [segment for segment in path.strip("/").split("/") if segment]


def _shared(a: str, b: str) -> int:
    """How many leading segments two union paths share, capped at 5 (the same union, or a unit below it)."""
    first, second = _segments(a), _segments(b)
    shared = 0
    for x, y in zip(first, second, strict=False):
        if x != y:
            break
        shared += 1
    if shared == len(first) == len(second) or shared >= 5:
        return 5
    return shared


@functools.cache
def _fit(causes: frozenset[int], kinds: frozenset[str]) -> tuple[int, tuple[str, ...]]:
    """How many of the causes no kind fits, and the kinds that fit some cause."""
    fits, misses = set(), 0
    for cause in causes:
        fitting = FITTING_KINDS.get(cause)
        if fitting:
            found = fitting & kinds
            fits |= found
            misses += not found
    return misses, tuple(sorted(fits))


def _line(household: HouseholdNeed, helper: HelperOffer, shared: int) -> Line:
    misses, fits = _fit(household.causes, helper.kinds)
    reasons = [SHARED_REASON[shared], *(f"fits:{kind}" for kind in fits)]
    if misses and not fits:
        reasons.append("no_fit")
    if helper.load:
        reasons.append(f"load:{helper.load}")
    return Line(household.id, helper.id, DISTANCE[shared] + MISMATCH * misses + LOAD * helper.load, tuple(reasons))


def edge_cost(household: HouseholdNeed, helper: HelperOffer) -> tuple[int, tuple[str, ...]] | None:
    """The cost of this pair before the proposal's own load, with why; None when the pair is not allowed."""
    if helper.free <= 0:
        return None
    shared = _shared(household.union_path, helper.union_path)
    if shared < 2:
        return None  # different provinces, or a union above the provinces
    line = _line(household, helper, shared)
    return line.cost, line.reasons


def best_helpers(household: HouseholdNeed, helpers: Sequence[HelperOffer], limit: int = 5) -> list[Line]:
    return HelperIndex(helpers).best(household, limit)


def _level_key(segments: list[str], depth: int) -> tuple[str, ...]:
    return tuple(segments[:depth])


class HelperIndex:
    """Helpers with a free slot by the union-tree prefix they share with a household, so that a household's cheapest
    helpers are found level by level (same unit, county, city, province) without scoring the whole province: a
    level's helpers cost at least its DISTANCE, so once `limit` helpers cost no more than the next level's
    distance the search stops, and the answer is exactly the `limit` cheapest."""

    def __init__(self, helpers: Sequence[HelperOffer]):
        self.by_level: dict[tuple[int, tuple[str, ...]], list[HelperOffer]] = defaultdict(list)
        for helper in helpers:
            if helper.free <= 0:
                continue
            segments = _segments(helper.union_path)
            for depth in range(2, min(len(segments), 5) + 1):
                self.by_level[(depth, _level_key(segments, depth))].append(helper)

    def best(self, household: HouseholdNeed, limit: int) -> list[Line]:
        segments = _segments(household.union_path)
        found: dict[int, tuple[int, int, HelperOffer, int]] = {}  # helper id → (cost, id, helper, shared)
        deepest = min(len(segments), 5)
        cheapest = []
        for depth in range(deepest, 1, -1):
            # A helper first met at this depth shares exactly `depth` segments, or is in the household's own union.
            for helper in self.by_level.get((depth, _level_key(segments, depth)), ()):
                if helper.id not in found:
                    shared = 5 if depth == 5 or helper.union_path == household.union_path else depth
                    misses, _fits = _fit(household.causes, helper.kinds)
                    cost = DISTANCE[shared] + MISMATCH * misses + LOAD * helper.load
                    found[helper.id] = (cost, helper.id, helper, shared)
            cheapest = heapq.nsmallest(limit, found.values(), key=lambda entry: entry[:2])
            next_distance = DISTANCE.get(depth - 1)
            if len(cheapest) == limit and (next_distance is None or cheapest[-1][0] < next_distance):
                break
        return [_line(household, helper, shared) for _cost, _id, helper, shared in cheapest]


def _province(path: str) -> str | None:
    segments = _segments(path)
    return "/".join(segments[:2]) if len(segments) >= 2 else None


def propose(households: Sequence[HouseholdNeed], helpers: Sequence[HelperOffer]) -> Proposal:
    by_province: dict[str | None, tuple[list, list]] = defaultdict(lambda: ([], []))
    for household in households:
        by_province[_province(household.union_path)][0].append(household)
    for helper in helpers:
        if helper.free > 0:
            by_province[_province(helper.union_path)][1].append(helper)
    proposal = Proposal()
    for province in sorted(by_province, key=str):
        part = _solve(*by_province[province]) if province else Proposal(unassigned=[
            h.id for h in by_province[province][0]])
        proposal.lines += part.lines
        proposal.unassigned += part.unassigned
    proposal.lines.sort(key=lambda line: line.household_id)
    proposal.unassigned.sort()
    proposal.total_cost = sum(line.cost for line in proposal.lines)
    return proposal


def _solve(households: list[HouseholdNeed], helpers: list[HelperOffer]) -> Proposal:
    if not households:
        return Proposal()
    households = sorted(households, key=lambda h: h.id)
    helpers = sorted(helpers, key=lambda h: h.id)
    by_id, first_slot, slot_helper = {}, {}, []
    for helper in helpers:
        by_id[helper.id], first_slot[helper.id] = helper, len(slot_helper)
        slot_helper += [helper.id] * helper.free  # one column per free slot
    index = HelperIndex(helpers)
    rows, cols, weights, reasons = [], [], [], {}
    for row, household in enumerate(households):
        for line in index.best(household, CANDIDATES):
            reasons[(household.id, line.helper_id)] = line.reasons
            for j in range(by_id[line.helper_id].free):
                rows.append(row)
                cols.append(first_slot[line.helper_id] + j)
                weights.append(line.cost + LOAD * j + 1)  # +1: an explicit zero would read as no edge
        rows.append(row)
        cols.append(len(slot_helper) + row)  # the household's own "unassigned" column
        weights.append(UNASSIGNED)
    matrix = csr_array((np.array(weights, dtype=np.int64), (np.array(rows), np.array(cols))),
                       shape=(len(households), len(slot_helper) + len(households)))
    matched_rows, matched_cols = min_weight_full_bipartite_matching(matrix)
    result = Proposal()
    for row, col in zip(matched_rows.tolist(), matched_cols.tolist(), strict=True):
        household = households[row]
        if col >= len(slot_helper):
            result.unassigned.append(household.id)
            continue
        helper_id = slot_helper[col]
        cost = int(matrix[row, col]) - 1
        result.lines.append(Line(household.id, helper_id, cost, reasons[(household.id, helper_id)]))
    return result
