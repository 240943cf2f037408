"""The optimal pairing proposal: unpaired households assigned to helpers with free slots at the least total cost.

The cost of giving household h to helper p as p's j-th new household in this proposal (j = 0, 1, …), in integers:

- distance in the union tree, from the segments of the two materialised paths (1 national, 2 province, 3 city,
  4 county, 5 and below grassroots unit): the same union, or the same grassroots unit, 0; sharing down to the
  county 10, to the city 20, to the province 30. Different provinces, or a path that stops above the provinces,
  are not allowed (no edge). A helper of the county union itself is "the same county" for the county's units.
- mismatch: 15 for each of the household's causes, 其他 (10) excepted, that none of the helper's kinds of help fits
  (FITTING_KINDS); more than a level of the tree, so a helper whose help fits is worth going a level up for. The
  reasons name every fitting kind ("fits:employment"), or "no_fit" when a cause that can be fitted is fitted by none.
- load: 3 × (the helper's current pairings + j). The j term makes a helper's second new household dearer than the
  first, so the proposal spreads households over helpers; and a helper with `free` slots gets at most that many.

The algorithm. Each free slot of a helper is a column of its own carrying its j, which turns capacity into a plain
assignment: rows are households, columns slots, and SciPy's sparse minimum-weight full bipartite matching
(scipy.sparse.csgraph.min_weight_full_bipartite_matching, LAPJVsp) solves it exactly. Every household also has a
private "unassigned" column whose cost exceeds any whole assignment's cost (rows × the dearest edge), so a full
matching always exists (rows ≤ columns, no ValueError) and the optimum first assigns as many households as possible,
then minimises the cost. SciPy reads an explicit zero as a missing edge, so every weight is the cost + 1.

Provinces share no edge and are solved one by one. Within a province the costs are computed with numpy in blocks of
rows and only each household's CANDIDATES cheapest helpers (by cost, then helper id) become edges; so memory stays
linear in the households and no households × slots matrix is ever built. This is a pruning: the proposal is optimal
among those candidate edges, and exactly optimal whenever a province has no more than CANDIDATES helpers.

Same input, same answer: households and helpers are sorted by id before the matrix is built, whatever their order.
(Among equally cheap assignments the one returned is SciPy's choice, fixed for a given SciPy version.)

Why SciPy's sparse matching and not OR-Tools' min-cost flow: with slots as columns the capacity needs no flow
network, SciPy is a well-kept dependency already in use, and its sparse solver works on the candidate edges only.
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

UNIT_DEPTH, COUNTY_DEPTH, CITY_DEPTH, PROVINCE_DEPTH = 5, 4, 3, 2
DISTANCE = {UNIT_DEPTH: 0, COUNTY_DEPTH: 10, CITY_DEPTH: 20, PROVINCE_DEPTH: 30}
SHARED_REASON = {UNIT_DEPTH: "same_unit", COUNTY_DEPTH: "same_county", CITY_DEPTH: "same_city",
                 PROVINCE_DEPTH: "same_province"}
MISMATCH = 15  # more than a level of the tree: a helper whose help fits is worth going a level up for
LOAD = 3
CANDIDATES = 50
BLOCK_CELLS = 1 << 19  # household × helper costs computed at once

# The kinds of help that fit each cause of hardship (dossiers.choices.Cause); 10 其他 is fitted by none.
FITTING_KINDS: dict[int, frozenset[str]] = {
    1: frozenset({"relief", "care"}), 2: frozenset({"employment"}), 3: frozenset({"employment", "social_insurance"}),
    4: frozenset({"social_insurance"}), 5: frozenset({"social_insurance", "legal"}), 6: frozenset({"medical"}),
    7: frozenset({"relief"}), 8: frozenset({"medical", "legal"}), 9: frozenset({"education"}),
}
KINDS = ("employment", "medical", "legal", "education", "social_insurance", "relief", "care")


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


# One pair ------------------------------------------------------------------------------------------------------

def _segments(path: str) -> tuple[str, ...]:
    return tuple(segment for segment in path.split("/") if segment)


def _shared_depth(a: str, b: str) -> int:
    """The deepest level two union paths share (UNIT_DEPTH for the same union), or 0 when no province is shared."""
    first, second = _segments(a), _segments(b)
    if min(len(first), len(second)) < PROVINCE_DEPTH or first[:PROVINCE_DEPTH] != second[:PROVINCE_DEPTH]:
        return 0
    if first == second:
        return UNIT_DEPTH
    shared = PROVINCE_DEPTH
    while shared < UNIT_DEPTH and shared < min(len(first), len(second)) and first[shared] == second[shared]:
        shared += 1
    return shared


@functools.cache
def _fit(causes: frozenset[int], kinds: frozenset[str]) -> tuple[int, tuple[str, ...]]:
    """How many of the causes no kind fits, and the kinds that fit some cause."""
    fits: set[str] = set()
    misses = 0
    for cause in causes:
        fitting = FITTING_KINDS.get(cause)
        if fitting:
            found = fitting & kinds
            fits |= found
            misses += not found
    return misses, tuple(sorted(fits))


def _line(household: HouseholdNeed, helper: HelperOffer, depth: int, extra: int = 0) -> Line:
    misses, fits = _fit(household.causes, helper.kinds)
    reasons = [SHARED_REASON[depth], *(f"fits:{kind}" for kind in fits)]
    if misses and not fits:
        reasons.append("no_fit")
    if helper.load:
        reasons.append(f"load:{helper.load}")
    cost = DISTANCE[depth] + MISMATCH * misses + LOAD * helper.load + extra
    return Line(household.id, helper.id, cost, tuple(reasons))


def _allowed_depth(household: HouseholdNeed, helper: HelperOffer) -> int:
    return _shared_depth(household.union_path, helper.union_path) if helper.free > 0 else 0


def edge_cost(household: HouseholdNeed, helper: HelperOffer) -> tuple[int, tuple[str, ...]] | None:
    """The cost of this pair before the proposal's own load, with why; None when the pair is not allowed."""
    depth = _allowed_depth(household, helper)
    if not depth:
        return None
    line = _line(household, helper, depth)
    return line.cost, line.reasons


def best_helpers(household: HouseholdNeed, helpers: Sequence[HelperOffer], limit: int = 5) -> list[Line]:
    """The `limit` cheapest allowed helpers for this household, cheapest first, ties by helper id."""
    lines = [_line(household, helper, depth) for helper in helpers if (depth := _allowed_depth(household, helper))]
    return heapq.nsmallest(max(limit, 0), lines, key=lambda line: (line.cost, line.helper_id))


# Costs of one province in blocks --------------------------------------------------------------------------------

def _mask(items, order) -> int:
    return sum(1 << order.index(item) for item in items if item in order)


CAUSE_ORDER = tuple(sorted(FITTING_KINDS))
FIT_MASKS = np.array([_mask(FITTING_KINDS[cause], KINDS) for cause in CAUSE_ORDER])


def _misses_table() -> np.ndarray:
    """MISSES[cause mask, kind mask]: how many of the causes none of the kinds fits."""
    causes = np.arange(1 << len(CAUSE_ORDER))[:, None, None]
    kinds = np.arange(1 << len(KINDS))[None, :, None]
    bits = 1 << np.arange(len(CAUSE_ORDER))[None, None, :]
    unfitted = ((causes & bits) != 0) & ((FIT_MASKS[None, None, :] & kinds) == 0)
    return unfitted.sum(axis=2).astype(np.int64)


MISSES = _misses_table()


def _level_codes(paths: list[tuple[str, ...]], codes: dict, missing: int) -> np.ndarray:
    """Per path the codes of its city, county and unit prefixes and of the whole path; `missing` where too short."""
    def code(segments: tuple[str, ...], depth: int | None) -> int:
        if depth is not None and len(segments) < depth:
            return missing
        return codes.setdefault((depth, segments[:depth]), len(codes))

    return np.array([[code(s, CITY_DEPTH), code(s, COUNTY_DEPTH), code(s, UNIT_DEPTH), code(s, None)] for s in paths],
                    dtype=np.int64).reshape(len(paths), 4)


class CostTable:
    """The cost before the proposal's own load of every household × helper pair of one province, by blocks of rows.
    Households and helpers are sorted by id: row and column indices are ranks."""

    def __init__(self, households: Sequence[HouseholdNeed], helpers: Sequence[HelperOffer]):
        self.households = sorted(households, key=lambda household: household.id)
        self.helpers = sorted(helpers, key=lambda helper: helper.id)
        codes: dict = {}
        # Different "missing" markers so that two paths both too short never look alike.
        self._household_levels = _level_codes([_segments(h.union_path) for h in self.households], codes, -1)
        self._helper_levels = _level_codes([_segments(h.union_path) for h in self.helpers], codes, -2)
        self._causes = np.array([_mask(h.causes, CAUSE_ORDER) for h in self.households], dtype=np.int64)
        self._kinds = np.array([_mask(h.kinds, KINDS) for h in self.helpers], dtype=np.int64)
        self._load = np.array([LOAD * h.load for h in self.helpers], dtype=np.int64)

    def block_rows(self) -> int:
        return max(1, BLOCK_CELLS // max(1, len(self.helpers)))

    def block(self, start: int, stop: int) -> np.ndarray:
        """Costs of households[start:stop] (rows) against every helper (columns)."""
        rows, columns = self._household_levels[start:stop, None, :], self._helper_levels[None, :, :]
        same = rows == columns
        city, county, unit, whole = (same[:, :, level] for level in range(4))
        distance = np.where(unit | whole, DISTANCE[UNIT_DEPTH], np.where(
            county, DISTANCE[COUNTY_DEPTH], np.where(city, DISTANCE[CITY_DEPTH], DISTANCE[PROVINCE_DEPTH])))
        misses = MISSES[self._causes[start:stop, None], self._kinds[None, :]]
        return distance + MISMATCH * misses + self._load[None, :]


# The assignment -------------------------------------------------------------------------------------------------

@dataclass
class _Edges:
    rows: np.ndarray
    helpers: np.ndarray
    costs: np.ndarray


def _candidates(table: CostTable) -> _Edges:
    """Each household's min(CANDIDATES, helpers) cheapest helpers, by cost then helper id."""
    count, keep = len(table.helpers), min(CANDIDATES, len(table.helpers))
    rank = np.arange(count, dtype=np.int64)
    rows, helpers, costs = [], [], []
    for start in range(0, len(table.households), table.block_rows()):
        stop = min(start + table.block_rows(), len(table.households))
        cost = table.block(start, stop)
        key = cost * count + rank  # unique per row: ties go to the lower helper id
        chosen = np.argpartition(key, keep - 1, axis=1)[:, :keep] if keep < count else np.tile(rank, (stop - start, 1))
        chosen = np.take_along_axis(chosen, np.argsort(np.take_along_axis(key, chosen, axis=1), axis=1), axis=1)
        rows.append(np.repeat(np.arange(start, stop), keep))
        helpers.append(chosen.ravel())
        costs.append(np.take_along_axis(cost, chosen, axis=1).ravel())
    return _Edges(np.concatenate(rows), np.concatenate(helpers), np.concatenate(costs))


def _slot_matrix(edges: _Edges, slots: np.ndarray, households: int) -> csr_array:
    """Rows households; columns the helpers' slots (the j-th slot of a helper costs LOAD × j more), then one
    "unassigned" column per household. Weights are cost + 1: an explicit zero would read as no edge."""
    first_slot = np.concatenate(([0], np.cumsum(slots)[:-1]))
    per_edge = slots[edges.helpers]
    rows = np.repeat(edges.rows, per_edge)
    j = np.arange(per_edge.sum()) - np.repeat(np.cumsum(per_edge) - per_edge, per_edge)
    columns = np.repeat(first_slot[edges.helpers], per_edge) + j
    weights = np.repeat(edges.costs, per_edge) + LOAD * j + 1
    unassigned = households * (int(weights.max(initial=0)) + 1) + 1  # dearer than any whole assignment
    rows = np.concatenate((rows, np.arange(households)))
    columns = np.concatenate((columns, int(slots.sum()) + np.arange(households)))
    weights = np.concatenate((weights, np.full(households, unassigned))).astype(np.float64)
    return csr_array((weights, (rows, columns)), shape=(households, int(slots.sum()) + households))


def _solve(households: Sequence[HouseholdNeed], helpers: Sequence[HelperOffer]) -> Proposal:
    """One province: its households and its helpers with a free slot."""
    table = CostTable(households, helpers)
    if not table.helpers:
        return Proposal(unassigned=[household.id for household in table.households])
    # A helper cannot take more households than there are: the slots beyond would be columns no one needs.
    slots = np.array([min(helper.free, len(table.households)) for helper in table.helpers], dtype=np.int64)
    matched_rows, matched_columns = min_weight_full_bipartite_matching(
        _slot_matrix(_candidates(table), slots, len(table.households)))
    slot_owner = np.repeat(np.arange(len(table.helpers)), slots)
    first_slot = np.concatenate(([0], np.cumsum(slots)[:-1]))
    result = Proposal()
    for row, column in zip(matched_rows.tolist(), matched_columns.tolist()):
        household = table.households[row]
        if column >= len(slot_owner):
            result.unassigned.append(household.id)
            continue
        owner = int(slot_owner[column])
        helper = table.helpers[owner]
        depth = _shared_depth(household.union_path, helper.union_path)
        result.lines.append(_line(household, helper, depth, extra=LOAD * (column - int(first_slot[owner]))))
    return result


def _province(path: str) -> tuple[str, ...] | None:
    segments = _segments(path)
    return segments[:PROVINCE_DEPTH] if len(segments) >= PROVINCE_DEPTH else None


def by_province(households: Sequence[HouseholdNeed], helpers: Sequence[HelperOffer]) -> dict:
    """{province: (its households, its helpers with a free slot)}; households above the provinces under None."""
    parts: dict = defaultdict(lambda: ([], []))
    for household in households:
        parts[_province(household.union_path)][0].append(household)
    for helper in helpers:
        province = _province(helper.union_path)
        if helper.free > 0 and province is not None:
            parts[province][1].append(helper)
    return {province: parts[province] for province in sorted(parts, key=lambda p: (p is None, p or ()))}


def propose(households: Sequence[HouseholdNeed], helpers: Sequence[HelperOffer]) -> Proposal:
    """An optimal assignment: as many households as can be assigned, at the least total cost among the candidates."""
    proposal = Proposal()
    for province, (its_households, its_helpers) in by_province(households, helpers).items():
        if not its_households:
            continue
        part = _solve(its_households, its_helpers if province is not None else [])
        proposal.lines += part.lines
        proposal.unassigned += part.unassigned
    proposal.lines.sort(key=lambda line: line.household_id)
    proposal.unassigned.sort()
    proposal.total_cost = sum(line.cost for line in proposal.lines)
    return proposal
