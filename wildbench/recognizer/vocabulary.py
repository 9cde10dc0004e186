"""The recognizer's vocabulary: classes keyed by action keys ``(motion_bank_id, motion_id)``.

Built from a table of training counts (action segments of the tracked player per key), by
two rules, so that the real release's long tail (450+ clips, many seen a handful of times)
gives classes a network can learn:

1. a key seen in at least ``min_count`` training segments is a class of its own;
2. the rarer keys of a bank are folded into that bank's *folded class* ``(bank, *)``, kept when
   they add up to at least ``min_count`` segments; otherwise they have no class (``dropped``).

``class_of(key)`` gives a key's own class, else its bank's folded class (also for a key never
seen in training), else ``None``. The group of a class is its bank. Keys, not a store's own
action indices, name the classes: a recognizer trained on one store applies to any store of
the same game.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Mapping

from .errors import RecognizerError

__all__ = ["ActionKey", "ActionClass", "Vocabulary", "build_vocabulary"]

ActionKey = tuple[int, int]


@dataclass(frozen=True)
class ActionClass:
    """One class: an action key, or a bank's folded class (``motion_id is None``)."""

    bank: int
    motion_id: int | None
    count: int  # training segments of the class
    folded: tuple[ActionKey, ...] = ()  # the keys a folded class stands for

    def __post_init__(self) -> None:
        if self.motion_id is not None and self.folded:
            raise RecognizerError(f"class {self.label}: only a folded class (motion_id None) folds keys")
        if any(bank != self.bank for bank, _ in self.folded):
            raise RecognizerError(f"class {self.label}: folds keys of another bank {self.folded}")
        if self.count < 0:
            raise RecognizerError(f"class {self.label}: count {self.count} < 0")

    @property
    def key(self) -> ActionKey | None:
        return None if self.motion_id is None else (self.bank, self.motion_id)

    @property
    def label(self) -> str:
        return f"{self.bank}:{'*' if self.motion_id is None else self.motion_id}"

    def to_json(self) -> dict[str, Any]:
        return {"bank": self.bank, "motion_id": self.motion_id, "count": self.count,
                "folded": [list(key) for key in self.folded]}


def _order(item: ActionClass) -> tuple[int, int, int]:
    return (item.bank, 1 if item.motion_id is None else 0, item.motion_id or 0)


@dataclass(frozen=True)
class Vocabulary:
    """Classes in a fixed order (by bank, then motion id, each bank's folded class last)."""

    classes: tuple[ActionClass, ...]
    min_count: int
    dropped: tuple[ActionKey, ...] = ()  # keys too rare even folded: no class
    _exact: dict = field(default_factory=dict, compare=False, repr=False)
    _folded: dict = field(default_factory=dict, compare=False, repr=False)

    def __post_init__(self) -> None:
        if list(self.classes) != sorted(self.classes, key=_order):
            raise RecognizerError("vocabulary classes are not in their canonical order (bank, motion id, folded last)")
        for index, item in enumerate(self.classes):
            table = self._folded if item.motion_id is None else self._exact
            slot = item.bank if item.motion_id is None else item.key
            if slot in table:
                raise RecognizerError(f"vocabulary: class {item.label} appears twice")
            table[slot] = index
        for index, item in enumerate(self.classes):
            for key in item.folded:
                if key in self._exact:
                    raise RecognizerError(f"vocabulary: key {key} is a class and is folded into {item.label}")

    def __len__(self) -> int:
        return len(self.classes)

    @property
    def labels(self) -> tuple[str, ...]:
        return tuple(item.label for item in self.classes)

    @property
    def banks(self) -> tuple[int, ...]:
        """The groups, in order of first appearance."""
        return tuple(dict.fromkeys(item.bank for item in self.classes))

    def class_of(self, key: ActionKey) -> int | None:
        """The class of an action key: its own, else its bank's folded class, else ``None``."""
        bank, motion = int(key[0]), int(key[1])
        exact = self._exact.get((bank, motion))
        return exact if exact is not None else self._folded.get(bank)

    def group_of(self, class_index: int) -> int:
        """The group (bank) of a class."""
        if not 0 <= int(class_index) < len(self.classes):
            raise RecognizerError(f"class index {class_index} is outside the vocabulary (0..{len(self.classes) - 1})")
        return self.classes[int(class_index)].bank

    def to_json(self) -> dict[str, Any]:
        return {"min_count": self.min_count, "classes": [item.to_json() for item in self.classes],
                "dropped": [list(key) for key in self.dropped]}

    @classmethod
    def from_json(cls, data: Any, *, path: object = "vocabulary") -> "Vocabulary":
        try:
            classes = tuple(
                ActionClass(int(c["bank"]), None if c["motion_id"] is None else int(c["motion_id"]), int(c["count"]),
                            tuple((int(b), int(m)) for b, m in c.get("folded", ())))
                for c in data["classes"]
            )
            return cls(classes, int(data["min_count"]), tuple((int(b), int(m)) for b, m in data.get("dropped", ())))
        except RecognizerError as exc:
            raise RecognizerError(f"{path}: {exc}") from None
        except (KeyError, TypeError, ValueError) as exc:
            raise RecognizerError(f"{path}: not a recognizer vocabulary ({type(exc).__name__}: {exc})") from None


def build_vocabulary(counts: Mapping[ActionKey, int], *, min_count: int) -> Vocabulary:
    """Classes from training segment counts per key (the rules in the module docstring)."""
    if not isinstance(min_count, int) or isinstance(min_count, bool) or min_count < 1:
        raise RecognizerError(f"min_count={min_count!r} must be an integer >= 1")
    classes: list[ActionClass] = []
    rare: dict[int, list[tuple[ActionKey, int]]] = defaultdict(list)
    for (bank, motion), count in counts.items():
        key, count = (int(bank), int(motion)), int(count)
        if count <= 0:
            continue
        if count >= min_count:
            classes.append(ActionClass(key[0], key[1], count))
        else:
            rare[key[0]].append((key, count))
    dropped: list[ActionKey] = []
    for bank, members in rare.items():
        total = sum(count for _, count in members)
        keys = tuple(sorted(key for key, _ in members))
        if total >= min_count:
            classes.append(ActionClass(bank, None, total, keys))
        else:
            dropped.extend(keys)
    return Vocabulary(tuple(sorted(classes, key=_order)), min_count, tuple(sorted(dropped)))
