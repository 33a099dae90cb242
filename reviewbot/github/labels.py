"""Labels synced from the review: the bot owns a few families and never touches anything else."""

from __future__ import annotations

from reviewbot.names import HUMAN_REVIEW_LABEL, MANAGED_LABEL_PREFIXES


def is_managed(name: str) -> bool:
    return name.startswith(MANAGED_LABEL_PREFIXES) or name == HUMAN_REVIEW_LABEL


def label_changes(current: list[str], wanted: list[str]) -> tuple[list[str], list[str]]:
    """(to add, to remove). A family the review does not mention keeps its label: an infrastructure
    failure sets only `status:`, and the proof, rating, priority and human-review labels of the last
    completed review stay. A completed review (it sets `proof:`) owns all of them."""
    wanted_set = set(wanted)
    families = {name.split(": ", 1)[0] for name in wanted if ": " in name}
    completed = "proof" in families
    remove = [
        name
        for name in current
        if is_managed(name) and name not in wanted_set and (completed or name.split(": ", 1)[0] in families)
    ]
    add = [name for name in wanted if name not in set(current)]
    return add, remove
