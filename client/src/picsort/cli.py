"""The picsort command: classify, sort and train from the shell.

    picsort classify photos/ --model default --csv out.csv
    picsort sort photos/ --into sorted/
    picsort train ./examples --name Soils

The server and token come from --url/--token or $PICSORT_URL/$PICSORT_TOKEN.
"""

from __future__ import annotations

import argparse
import csv
import json
import re
import shutil
import sys
from collections.abc import Sequence
from pathlib import Path

from picsort.client import Client
from picsort.errors import PicsortError
from picsort.files import is_folder
from picsort.results import Result

UNSURE = "unsure"
FAILED = "failed"


def main(argv: Sequence[str] | None = None) -> int:
    args = parser().parse_args(argv)
    try:
        with Client(
            args.url,
            args.token,
            language=args.lang,
            progress=not args.quiet,
            wait_timeout=args.wait_timeout,
        ) as client:
            return args.run(client, args)
    except PicsortError as error:
        print(f"picsort: {error}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        return 130


def parser() -> argparse.ArgumentParser:
    root = argparse.ArgumentParser(prog="picsort", description=__doc__.split("\n\n")[0])
    _common_options(root, default=None)
    # The same options after the command too (picsort sort photos/ --into x -q).
    common = argparse.ArgumentParser(add_help=False)
    _common_options(common, default=argparse.SUPPRESS)
    subparsers = root.add_subparsers(required=True, metavar="COMMAND")

    def add(name: str, **kwargs) -> argparse.ArgumentParser:
        return subparsers.add_parser(name, parents=[common], **kwargs)

    classify = add("classify", help="classify photos; a folder becomes a batch")
    _classify_options(classify)
    classify.add_argument("--csv", type=Path, help="write every result to this CSV file")
    classify.add_argument("--json", action="store_true", help="print the results as JSON lines")
    classify.set_defaults(run=run_classify)

    sort = add("sort", help="copy each photo into a folder named by its class")
    _classify_options(sort)
    sort.add_argument("--into", type=Path, required=True, help="the folder to sort into")
    sort.set_defaults(run=run_sort)

    train = add("train", help="a classifier from a folder of class folders")
    train.add_argument("folder", type=Path, help="one subfolder of example photos per class")
    train.add_argument("--name", required=True, help="the classifier's name")
    train.add_argument("--download", type=Path, help="save the trained model (zip) here")
    train.set_defaults(run=run_train)

    for name, what in (("me", "who the token belongs to"), ("classifiers", "your classifiers")):
        command = add(name, help=what)
        command.set_defaults(run=lambda client, args, name=name: _print_json(_read(client, name)))
    history = add("history", help="your latest classifications")
    history.add_argument("--limit", type=int, default=20)
    history.set_defaults(run=lambda client, args: _print_json(client.history(limit=args.limit)))

    download = add("download", help="download one of your trained models")
    download.add_argument("model", type=int, help="the model id (a classifier's version)")
    download.add_argument("-o", "--output", type=Path, required=True)
    download.add_argument("--kind", default="zip", choices=["zip", "keras", "onnx", "labels"])
    download.set_defaults(
        run=lambda client, args: client.model_download(args.model, args.output, kind=args.kind)
    )
    return root


def _common_options(parser: argparse.ArgumentParser, *, default) -> None:
    parser.add_argument("--url", default=default, help="the server (default: $PICSORT_URL)")
    parser.add_argument("--token", default=default, help="an API token (default: $PICSORT_TOKEN)")
    parser.add_argument(
        "--lang", default=default, help="language of class names and messages, such as es"
    )
    parser.add_argument(
        "--wait-timeout",
        type=float,
        default=default,
        metavar="SECONDS",
        help="give up waiting for a batch or training after this long (default: no limit)",
    )
    parser.add_argument(
        "-q",
        "--quiet",
        action="store_true",
        default=False if default is None else default,
        help="no progress bars",
    )


def _classify_options(command: argparse.ArgumentParser) -> None:
    command.add_argument("paths", nargs="+", type=Path, help="photos, or folders of photos")
    command.add_argument("--model", default="default", help="an alias or a model id")
    command.add_argument("--top-k", type=int, default=5)
    command.add_argument("--no-store", action="store_true", help="keep no photo in your history")


def classify_paths(client: Client, args: argparse.Namespace) -> list[Result]:
    """Each folder as its own batch, the files given one by one together."""
    options = {"model": args.model, "top_k": args.top_k, "store": not args.no_store}
    files = [path for path in args.paths if not is_folder(path)]
    results = client.classify(*files, **options) if files else []
    for folder in (path for path in args.paths if is_folder(path)):
        results += client.classify(folder, **options)
    return results


def run_classify(client: Client, args: argparse.Namespace) -> int:
    results = classify_paths(client, args)
    for result in results:
        if args.json:
            print(json.dumps(_row(result), ensure_ascii=False))
        elif result.ok and result.top:
            print(f"{_shown(result)}\t{result.top.name}\t{result.top.probability:.2f}")
        else:
            print(f"{_shown(result)}\t{FAILED}: {result.error}")
    if args.csv:
        with args.csv.open("w", newline="", encoding="utf-8") as handle:
            writer = csv.DictWriter(handle, fieldnames=list(_row(Result(name="", index=0))))
            writer.writeheader()
            writer.writerows(_row(result) for result in results)
    return 0 if all(result.ok for result in results) else 1


def run_sort(client: Client, args: argparse.Namespace) -> int:
    results = classify_paths(client, args)
    sorted_count = 0
    for result in results:
        if result.source is None:
            continue
        if not result.ok:
            print(f"{_shown(result)}\t{FAILED}: {result.error}", file=sys.stderr)
            continue
        folder = args.into / (
            UNSURE if result.none_of_these or not result.top else _safe(result.top.name)
        )
        folder.mkdir(parents=True, exist_ok=True)
        target = _free_name(folder / result.source.name)
        shutil.copy2(result.source, target)
        sorted_count += 1
        print(f"{_shown(result)}\t{target}")
    print(f"{sorted_count} of {len(results)} photos sorted into {args.into}", file=sys.stderr)
    return 0 if sorted_count == len(results) else 1


def run_train(client: Client, args: argparse.Namespace) -> int:
    classifier = client.classifier_from_folder(args.folder, args.name)
    run = client.train(classifier["id"])
    print(f"classifier {classifier['id']} trained: model {run['model']}")
    if args.download:
        client.model_download(run["model"], args.download)
        print(f"saved {args.download}")
    return 0


def _read(client: Client, name: str):
    return client.me() if name == "me" else client.classifiers()


def _print_json(value) -> int:
    print(json.dumps(value, ensure_ascii=False, indent=2))
    return 0


def _shown(result: Result) -> str:
    return str(result.source) if result.source else result.name


def _row(result: Result) -> dict[str, object]:
    top = result.top
    return {
        "file": _shown(result),
        "class_key": top.key if top and result.ok else "",
        "class": top.name if top and result.ok else "",
        "probability": round(top.probability, 4) if top and result.ok else "",
        "none_of_these": result.none_of_these,
        "error_code": result.error_code,
        "error": result.error,
    }


def _safe(name: str) -> str:
    """A class name as a folder name: no separators or control characters."""
    cleaned = re.sub(r'[\x00-\x1f/\\:*?"<>|]+', "_", name).strip(" .")
    return cleaned[:100] or "unnamed"


def _free_name(path: Path) -> Path:
    """``path``, or ``name-2.jpg``, ``name-3.jpg``... when it is taken."""
    candidate, number = path, 1
    while candidate.exists():
        number += 1
        candidate = path.with_name(f"{path.stem}-{number}{path.suffix}")
    return candidate


if __name__ == "__main__":
    sys.exit(main())
