"""ImageNet's classes in WordNet 3.0's hypernym hierarchy (shipped offline in
``data/wordnet/``; built by ``scripts/build_wordnet_hierarchy.py``).

Two uses: groupings an administrator makes from it (a level of the tree, or a
chosen set of synsets), and the broader classes a hedged answer can fall back
to (``selectors.broader_classes``). Pure data: no database access here.
"""

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path

WORDNET_DIR = Path(__file__).resolve().parent / "data" / "wordnet"
HIERARCHY_FILE = WORDNET_DIR / "hierarchy.json"
NAMES_ES_FILE = WORDNET_DIR / "names_es.json"


@dataclass(frozen=True)
class Synset:
    key: str
    name: str
    parents: tuple[str, ...]
    translations: dict  # {"es": ...} where one is written


class WordNet:
    def __init__(self, data: dict, names_es: dict[str, str]) -> None:
        self.root: str = data["root"]
        self.synsets = {
            key: Synset(
                key=key,
                name=row["name"],
                parents=tuple(row["parents"]),
                translations={"es": names_es[key]} if key in names_es else {},
            )
            for key, row in data["synsets"].items()
        }

    def __contains__(self, key: str) -> bool:
        return key in self.synsets

    def ancestors(self, key: str) -> set[str]:
        """Every hypernym of ``key`` on any path to the root (not ``key`` itself)."""
        seen: set[str] = set()
        pending = list(self.synsets[key].parents)
        while pending:
            parent = pending.pop()
            if parent not in seen:
                seen.add(parent)
                pending.extend(self.synsets[parent].parents)
        return seen

    def path(self, key: str) -> list[str]:
        """From the root down to ``key`` through each synset's first hypernym:
        the path that levels of the tree are counted on (the root is level 0)."""
        path = [key]
        while parents := self.synsets[path[-1]].parents:
            path.append(parents[0])
        return path[::-1]

    def members(self, keys: list[str]) -> dict[str, set[str]]:
        """``{synset: the classes among keys below it}`` for every synset above
        at least one of ``keys`` (keys WordNet does not know are left out)."""
        below: dict[str, set[str]] = {}
        for key in keys:
            if key not in self.synsets:
                continue
            for ancestor in self.ancestors(key):
                below.setdefault(ancestor, set()).add(key)
        return below


@cache
def wordnet() -> WordNet:
    data = json.loads(HIERARCHY_FILE.read_text(encoding="utf-8"))
    names_es = json.loads(NAMES_ES_FILE.read_text(encoding="utf-8"))
    return WordNet(data, names_es)


def covers(keys: list[str]) -> bool:
    """Whether these classes are WordNet synsets (ImageNet's label sets are)."""
    tree = wordnet()
    return bool(keys) and sum(key in tree for key in keys) >= len(keys) / 2


@dataclass(frozen=True)
class Group:
    key: str
    name: str
    translations: dict
    members: list[str]


def groups_at_level(keys: list[str], level: int) -> list[Group]:
    """Each class under its hypernym ``level`` steps below the root (on its
    first-hypernym path); a class less deep than that stays a group of its own."""
    tree = wordnet()
    grouped: dict[str, list[str]] = {}
    for key in keys:
        if key not in tree:
            continue
        path = tree.path(key)
        grouped.setdefault(path[min(level, len(path) - 1)], []).append(key)
    return [_group(tree, synset, members) for synset, members in grouped.items()]


def groups_for_synsets(keys: list[str], synsets: list[str]) -> tuple[list[Group], list[str]]:
    """A group per chosen synset, each class under the most specific chosen
    synset above it; and the classes no chosen synset holds."""
    tree = wordnet()
    below = tree.members(keys)
    for synset in synsets:  # a chosen class is a group of itself
        below.setdefault(synset, {synset} & set(keys))
    chosen = sorted(synsets, key=lambda s: len(below.get(s, ())))
    grouped: dict[str, list[str]] = {s: [] for s in synsets}
    rest = []
    for key in keys:
        home = next((s for s in chosen if key in below.get(s, ())), None)
        if home is None:
            rest.append(key)
        else:
            grouped[home].append(key)
    return [_group(tree, s, members) for s, members in grouped.items() if members], rest


def _group(tree: WordNet, synset: str, members: list[str]) -> Group:
    node = tree.synsets[synset]
    return Group(key=synset, name=node.name, translations=node.translations, members=members)


def level_sizes(keys: list[str], *, deepest: int = 12) -> list[tuple[int, int]]:
    """``(level, number of groups)`` for the levels worth offering: more than
    one group, and fewer groups than classes."""
    sizes = []
    for level in range(1, deepest + 1):
        count = len(groups_at_level(keys, level))
        if 1 < count < len(keys):
            sizes.append((level, count))
    return sizes


def synset_choices(keys: list[str], *, minimum: int = 2) -> list[tuple[str, str, int]]:
    """``(synset, English name, number of classes below)`` for the synsets
    above at least ``minimum`` of ``keys``, broadest first."""
    tree = wordnet()
    below = tree.members(keys)
    rows = [
        (synset, tree.synsets[synset].name, len(members))
        for synset, members in below.items()
        if len(members) >= minimum and len(members) < len(keys)
    ]
    return sorted(rows, key=lambda row: (-row[2], row[1]))
