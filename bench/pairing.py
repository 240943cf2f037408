"""The optimal pairing proposal (dossiers.pairing_solver.propose) against a greedy assignment of the same instance,
in the same run: time (CPU, median of RUNS) and the total cost each reaches. The instance is one province of 10
cities × 8 counties × 10 grassroots units; households sit in the units, helpers in the units and in the county and
city unions, with 1–3 free slots each; causes and kinds of help drawn at random (seeded). No database is used.

    ./dev bench pairing
"""

from __future__ import annotations

import random
import statistics
import time

from dossiers.pairing_solver import CANDIDATES, LOAD, HelperIndex, HelperOffer, HouseholdNeed, propose

RUNS = 3
SIZES = [(2_000, 600), (20_000, 6_000)]
KINDS = ["employment", "social_insurance", "medical", "education", "legal", "relief", "care"]
PROVINCE = "/100000/410000/"


def instance(households: int, helpers: int, seed: int = 2026):
    rng = random.Random(seed)

    def unit() -> str:
        city = f"41{rng.randint(1, 10):02d}"
        return f"{PROVINCE}{city}00/{city}{rng.randint(1, 8):02d}/U{rng.randint(1, 10)}/"

    def helper_union() -> str:
        path = unit()
        return path if rng.random() < 0.7 else path.rsplit("/", 2)[0] + "/"  # a county's cadres

    needs = [HouseholdNeed(i, unit(), frozenset(rng.sample(range(1, 11), rng.randint(1, 3))))
             for i in range(households)]
    offers = [HelperOffer(100_000 + i, helper_union(), frozenset(rng.sample(KINDS, rng.randint(1, 3))),
                          rng.randint(1, 3), rng.randint(0, 1)) for i in range(helpers)]
    return needs, offers


def greedy(needs, offers) -> tuple[int, int]:
    """Each household in turn takes its cheapest helper that still has a slot: (households assigned, total cost)."""
    index = HelperIndex(offers)
    left = {offer.id: offer.free for offer in offers}
    given = dict.fromkeys(left, 0)
    assigned = total = 0
    for need in needs:
        options = [(line.cost + LOAD * given[line.helper_id], line.helper_id)
                   for line in index.best(need, CANDIDATES) if left[line.helper_id]]
        if options:
            cost, helper_id = min(options)
            left[helper_id] -= 1
            given[helper_id] += 1
            assigned, total = assigned + 1, total + cost
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
        greedy_time, (greedy_assigned, greedy_cost) = _timed(greedy, needs, offers)
        optimal_time, proposal = _timed(propose, needs, offers)
        rows.append({
            "households": households, "helpers": helpers, "slots": sum(offer.free for offer in offers),
            "greedy s": greedy_time, "optimal s": optimal_time, "time ratio": optimal_time / greedy_time,
            "greedy assigned": greedy_assigned, "optimal assigned": len(proposal.lines),
            "greedy cost": greedy_cost, "optimal cost": proposal.total_cost,
            "cost saved %": 100 * (greedy_cost - proposal.total_cost) / greedy_cost if greedy_cost else 0.0,
        })
    return rows
