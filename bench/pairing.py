"""The optimal pairing proposal (dossiers.pairing_solver.propose) against a greedy assignment of the same instance,
measured in the same run: CPU time (median of RUNS; the machines are shared) and the households and total cost each
reaches. Greedy takes the households in id order and gives each the helper that is cheapest at that moment (the
cost with the load it has been given so far) among those with a slot left, with the solver's own numpy cost table,
so the two differ only in how they choose. The instance (seeded) is one province of 10 cities × 8 counties × 10
grassroots units; households sit in the units, helpers in the units (70 %) and the county unions (30 %), with 1–3
free slots and 0–1 current pairings each. No database is touched.

    ./dev bench pairing
"""

from __future__ import annotations

import random
import statistics
import time

import numpy as np

from dossiers.pairing_solver import KINDS, LOAD, CostTable, HelperOffer, HouseholdNeed, by_province, propose

RUNS = 3
SIZES = [(2_000, 600), (20_000, 6_000)]
PROVINCE = "/100000/410000/"
CITIES, COUNTIES, UNITS = 10, 8, 10


def instance(households: int, helpers: int, seed: int = 2026) -> tuple[list[HouseholdNeed], list[HelperOffer]]:
    rng = random.Random(seed)

    def county() -> str:
        city = f"41{rng.randint(1, CITIES):02d}"
        return f"{PROVINCE}{city}00/{city}{rng.randint(1, COUNTIES):02d}/"

    def unit() -> str:
        path = county()
        return f"{path}{path.split('/')[-2]}-J{rng.randint(1, UNITS):02d}/"

    needs = [HouseholdNeed(i, unit(), frozenset(rng.sample(range(1, 11), rng.randint(1, 3))))
             for i in range(1, households + 1)]
    offers = [HelperOffer(100_000 + i, unit() if rng.random() < 0.7 else county(),
                          frozenset(rng.sample(KINDS, rng.randint(1, 3))), rng.randint(1, 3), rng.randint(0, 1))
              for i in range(helpers)]
    return needs, offers


def _greedy_province(table: CostTable) -> tuple[int, int]:
    count = len(table.helpers)
    left = np.array([helper.free for helper in table.helpers], dtype=np.int64)
    given = np.zeros(count, dtype=np.int64)
    rank = np.arange(count, dtype=np.int64)
    full = np.iinfo(np.int64).max
    assigned = total = 0
    for start in range(0, len(table.households), table.block_rows()):
        for costs in table.block(start, min(start + table.block_rows(), len(table.households))):
            now = costs + LOAD * given
            choice = int(np.argmin(np.where(left > 0, now * count + rank, full)))  # ties to the lower helper id
            if left[choice] == 0:
                continue  # no slot left in the province
            left[choice] -= 1
            given[choice] += 1
            assigned, total = assigned + 1, total + int(now[choice])
    return assigned, total


def greedy(needs: list[HouseholdNeed], offers: list[HelperOffer]) -> tuple[int, int]:
    """(households assigned, total cost) when each household in id order takes its cheapest helper with a slot."""
    assigned = total = 0
    for province, (households, helpers) in by_province(needs, offers).items():
        if province is not None and households and helpers:
            part_assigned, part_total = _greedy_province(CostTable(households, helpers))
            assigned, total = assigned + part_assigned, total + part_total
    return assigned, total


def _timed(function, *args):
    times, result = [], None
    for _ in range(RUNS):
        start = time.process_time()
        result = function(*args)
        times.append(time.process_time() - start)
    return statistics.median(times), result


def run() -> list[dict]:
    rows = []
    for households, helpers in SIZES:
        needs, offers = instance(households, helpers)
        greedy_s, (greedy_assigned, greedy_cost) = _timed(greedy, needs, offers)
        optimal_s, proposal = _timed(propose, needs, offers)
        if (len(proposal.lines), -proposal.total_cost) < (greedy_assigned, -greedy_cost):
            raise AssertionError(f"the proposal is worse than greedy: {len(proposal.lines)} households at "
                                 f"{proposal.total_cost} against {greedy_assigned} at {greedy_cost}")
        rows.append({
            "households": households, "helpers": helpers, "slots": sum(offer.free for offer in offers),
            "greedy cpu s": greedy_s, "optimal cpu s": optimal_s, "× greedy": optimal_s / greedy_s,
            "greedy assigned": greedy_assigned, "optimal assigned": len(proposal.lines),
            "greedy cost": greedy_cost, "optimal cost": proposal.total_cost,
            "cost saved %": 100 * (greedy_cost - proposal.total_cost) / greedy_cost if greedy_cost else 0.0,
        })
    return rows
