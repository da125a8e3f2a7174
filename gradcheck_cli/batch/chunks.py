"""How a batch's cases are handed to worker processes: chunks of cases, each model's cases
in one chunk (a worker prepares a model once), few round trips, and an end where the workers
finish together."""

from __future__ import annotations

import dataclasses
import math
from typing import Any

from gradcheck_cli.batch.casefile import CaseSpec

__all__ = ["CHUNKS_PER_WORKER", "chunks"]

CHUNKS_PER_WORKER = 8  # chunks of many small models: few round trips, a balanced end


def chunks(items: list[tuple[int, CaseSpec]], workers: int) -> list[list[tuple[int, CaseSpec]]]:
    """Group cases by model and options (a chunk prepares each model once); split groups
    over a fair share (a long seed sweep uses every worker); pack small groups, about
    ``CHUNKS_PER_WORKER`` chunks a worker (not a round trip per case), smaller towards the
    end (a quarter of each worker's share of what is left): the workers finish together."""
    groups: dict[Any, list[tuple[int, CaseSpec]]] = {}
    for index, spec in items:
        key = (spec.model, dataclasses.replace(spec, seed=0, name="", line=0))
        groups.setdefault(key, []).append((index, spec))
    share = max(1, math.ceil(len(items) / workers))
    size = max(1, math.ceil(len(items) / (workers * CHUNKS_PER_WORKER)))
    found: list[list[tuple[int, CaseSpec]]] = []
    left = len(items)  # not yet in a closed chunk
    for group in groups.values():
        for piece in (group[i : i + share] for i in range(0, len(group), share)):
            if found and len(found[-1]) + len(piece) <= min(size, -(-left // (4 * workers))):
                found[-1] = found[-1] + piece
            else:
                left -= len(found[-1]) if found else 0
                found.append(piece)
    return found
