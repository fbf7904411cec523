#!/usr/bin/env python3
"""Builds models_registry/data/wordnet/hierarchy.json: the WordNet 3.0 hypernyms
of ImageNet-1k's 1000 classes, up to the root "entity".

ImageNet's class keys are WordNet 3.0 noun offsets (``n02085620`` is offset
02085620 in WordNet 3.0's ``data.noun``), so the hierarchy must come from that
version. It was built once, offline, from Debian's ``wordnet-base`` package
(1:3.0-37, which ships Princeton's WordNet 3.0 database files):

    apt-get download wordnet-base
    dpkg-deb -x wordnet-base_*.deb /tmp/wordnet
    python3 scripts/build_wordnet_hierarchy.py /tmp/wordnet/usr/share/wordnet/data.noun

(or ``apt-get install wordnet-base`` and pass /usr/share/wordnet/data.noun).
Only the synsets above the 1000 classes are kept, each with its English name
(the first lemma) and its hypernyms (``@`` and instance ``@i`` pointers), so
the file stays small. Spanish names of the upper synsets live beside it in
``names_es.json`` (written by hand). WordNet's licence is ``LICENSE`` there.
Standard library only; the output is deterministic (sorted keys).
"""

import json
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IMAGENET = ROOT / "models_registry" / "data" / "imagenet1k.json"
OUTPUT = ROOT / "models_registry" / "data" / "wordnet" / "hierarchy.json"
ENTITY = "n00001740"


def read_data_noun(path: Path) -> dict[str, tuple[str, list[str]]]:
    """``{wnid: (first lemma, [hypernym wnids])}`` for every noun synset."""
    synsets = {}
    with path.open(encoding="utf-8", errors="replace") as handle:
        for line in handle:
            if line.startswith("  "):  # the licence header
                continue
            fields = line.split(" ")
            offset, word_count = fields[0], int(fields[3], 16)
            name = fields[4].replace("_", " ")
            at = 4 + 2 * word_count
            pointer_count = int(fields[at])
            parents = []
            for i in range(pointer_count):
                symbol, target, pos = fields[at + 1 + 4 * i : at + 4 + 4 * i]
                if symbol in ("@", "@i") and pos == "n":
                    parents.append("n" + target)
            synsets["n" + offset] = (name, parents)
    return synsets


def build(data_noun: Path) -> dict:
    synsets = read_data_noun(data_noun)
    keys = [row["key"] for row in json.loads(IMAGENET.read_text(encoding="utf-8"))]
    kept: dict[str, dict] = {}
    pending = list(keys)
    while pending:
        wnid = pending.pop()
        if wnid in kept:
            continue
        if wnid not in synsets:
            raise SystemExit(f"{wnid} is not a WordNet 3.0 noun synset")
        name, parents = synsets[wnid]
        kept[wnid] = {"name": name, "parents": parents}
        pending.extend(parents)
    if ENTITY not in kept:
        raise SystemExit("the hierarchy does not reach 'entity'")
    return {
        "source": "WordNet 3.0 (Princeton University), data.noun of Debian's wordnet-base "
        "1:3.0-37; built by scripts/build_wordnet_hierarchy.py",
        "licence": "WordNet 3.0 license: see LICENSE beside this file",
        "root": ENTITY,
        "classes": len(keys),
        "synsets": dict(sorted(kept.items())),
    }


def main() -> None:
    if len(sys.argv) != 2:
        raise SystemExit(__doc__)
    data = build(Path(sys.argv[1]))
    synsets = data.pop("synsets")
    head = json.dumps(data, ensure_ascii=False, separators=(",", ":"))
    # One synset a line: small, and diffs stay readable.
    lines = [
        json.dumps(key) + ":" + json.dumps(value, ensure_ascii=False, separators=(",", ":"))
        for key, value in synsets.items()
    ]
    text = head[:-1] + ',"synsets":{\n' + ",\n".join(lines) + "\n}}\n"
    OUTPUT.write_text(text, encoding="utf-8")
    data["synsets"] = synsets
    print(f"{OUTPUT}: {len(data['synsets'])} synsets, {OUTPUT.stat().st_size} bytes")


if __name__ == "__main__":
    main()
