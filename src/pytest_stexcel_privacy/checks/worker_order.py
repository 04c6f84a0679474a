"""The order an xdist worker runs the checks in, so no worker ends alone on a long one.

Every worker sorts its collection alike (xdist requires the same collection on
each). The costly checks (``CheckSpec.cost``) go first, longest first, so a
worker pulling tests as it finishes (``--dist load``) starts them early.

``--dist worksteal`` instead hands each worker a contiguous share of the
collection at the start (as many tests each, the last shares one longer), and
an idle worker later takes the tail of the longest queue. So for it the
collection is laid out as one *lane* per worker, of exactly those sizes: the
costly checks are dealt to the lane with the least cost so far (largest
first), the short ones fill the remaining places in their collected order, and
each lane runs its costly checks first, leaving short ones at its tail for a
worker that runs out to take.
"""

from __future__ import annotations

import pytest

from .registry import CHECKS


def cost_of(item: pytest.Item) -> int:
    spec = CHECKS.get(getattr(item, "originalname", item.name))
    return 0 if spec is None else spec.cost


def long_checks_first(items: list[pytest.Item]) -> None:
    """In place: the costly checks first, longest first; ties and the short ones keep
    their collected order."""
    items.sort(key=lambda item: -cost_of(item))


def lanes_for_worksteal(items: list[pytest.Item], workers: int) -> None:
    """In place: one lane per worker, each of the size worksteal's first share gives it,
    costly checks spread over the lanes by cost."""
    if workers < 2 or len(items) < workers:
        long_checks_first(items)
        return
    sizes, left = [], len(items)
    for lane in range(workers):  # as worksteal shares out: what is left, evenly
        size = left // (workers - lane)
        sizes.append(size)
        left -= size
    lanes: list[list[pytest.Item]] = [[] for _ in sizes]
    loads = [0] * workers
    costly = sorted((item for item in items if cost_of(item)), key=lambda item: -cost_of(item))
    for item in costly:
        open_lanes = [lane for lane in range(workers) if len(lanes[lane]) < sizes[lane]]
        lane = min(open_lanes, key=lambda lane: (loads[lane], lane))
        lanes[lane].append(item)
        loads[lane] += cost_of(item)
    short = iter(item for item in items if not cost_of(item))
    for members, size in zip(lanes, sizes, strict=True):
        members.extend(next(short) for _ in range(size - len(members)))
    items[:] = [item for lane in lanes for item in lane]
