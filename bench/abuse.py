"""Hostile requests against the production topology: what each costs and answers.

    .venv/bin/python -P bench/abuse.py [--only A1,B,...]

Starts ``make prod-local`` (scripts/prod-local) on a scratch PostgreSQL
database and port, makes a user with a token and a two-class classifier, then
replays the abuse cases below one at a time. Before each case the peak
resident memory of every web (gunicorn) and worker process is reset
(``/proc/PID/clear_refs``); after it, each process's peak (VmHWM) is printed
with the status codes and the bytes the case wrote under the media folder.

A1  20 copies of a 6324x6324 greyscale PNG of zeros (39 KB each) in one
    POST /api/v1/classifications/ (store=false)
A2  the same with 10 copies
A3  one 16-bit greyscale PNG of 6324x6324 (77 KB)
B   a zip with 170 copies of a 40-megapixel PNG in each of red/ and blue/ to
    POST /api/v1/classifiers/<id>/examples/
D   a 20.5 MB zip of 46 members of 20 MiB each (compression ratio 47) to
    POST /api/v1/batches/; the workers then process it
C   POST /api/v1/batches/ until it answers 429, then 20 more batches through
    the page POST /classify/batches/ with a session of the same user

Run it as root (clear_refs needs to write to other processes' /proc files).
"""

import argparse
import importlib.util
import io
import json
import os
import time
import zipfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
_spec = importlib.util.spec_from_file_location("prod_local", ROOT / "bench" / "prod_local.py")
site_ = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(site_)
Client = site_.Client


# Hostile files
# ------------------------------------------------------------------------------


def png_zeros(side: int, *, mode: str = "L") -> bytes:
    from PIL import Image

    buffer = io.BytesIO()
    Image.new(mode, (side, side), 0).save(buffer, "PNG", optimize=True)
    return buffer.getvalue()


def zip_of(members: list[tuple[str, bytes]], *, method: int = zipfile.ZIP_DEFLATED) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", method) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def bomb_zip(members: int, member_bytes: int, ratio: float) -> bytes:
    """Members that compress ``ratio`` times: random bytes diluted with zeros."""
    chunk = 1 << 16
    random_share = int(chunk / ratio * 0.73)  # deflate's overhead on random bytes
    block = b"".join(
        os.urandom(random_share) + bytes(chunk - random_share) for _ in range(member_bytes // chunk)
    )
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        for number in range(members):
            archive.writestr(f"photo-{number}.jpg", block)
    return buffer.getvalue()


# The cases
# ------------------------------------------------------------------------------


def describe(status: int, content_type: str, body: bytes) -> str:
    if status == 0:
        return f"no answer ({content_type})"
    kind = "json" if "json" in content_type else ("html" if "html" in content_type else "-")
    code = ""
    if kind == "json":
        try:
            code = (json.loads(body).get("error") or {}).get("code", "")
        except (ValueError, AttributeError):
            code = "?"
    return f"{status} {kind}{' ' + code if code else ''}"


def case_classify(client: Client, images: list[tuple[str, bytes]]) -> list[str]:
    answer = client.post_files(
        "/api/v1/classifications/",
        {"store": "false"},
        [("file", name, data) for name, data in images],
    )
    return [describe(*answer)]


def case_examples(client: Client, classifier_id: int, archive: bytes) -> list[str]:
    answer = client.post_files(
        f"/api/v1/classifiers/{classifier_id}/examples/", {}, [("archive", "colours.zip", archive)]
    )
    out = [describe(*answer)]
    if answer[0] == 202:
        started = time.monotonic()
        state = site_.wait_for_job(client, json.loads(answer[2])["url"])
        out.append(
            f"import {state.get('status')} after {time.monotonic() - started:.0f} s in a worker: "
            f"{state.get('added')} added, {state.get('duplicates')} already there, "
            f"{state.get('failed')} refused"
        )
    return out


def case_pages_skip_limits(client: Client, page_client: Client, small_zip: bytes) -> list[str]:
    api_statuses = []
    for _attempt in range(200):
        status, _content_type, _body = client.post_files(
            "/api/v1/batches/", {"store": "false"}, [("archive", "few.zip", small_zip)]
        )
        api_statuses.append(status)
        if status == 429:
            break
    accepted = 0
    if not site_.sign_in(page_client):
        return [f"API: {len(api_statuses)} posts, last {api_statuses[-1]}", "page: sign-in failed"]
    token = site_.csrf_for(page_client, "/classify/batches/")
    page_statuses = []
    for _attempt in range(20):
        status, _type, _body = page_client.post_files(
            "/classify/batches/",
            {"csrfmiddlewaretoken": token, "model": "default", "store": "on"},
            [("archive", "few.zip", small_zip)],
            extra_headers={"Referer": f"http://127.0.0.1:{page_client.port}/classify/batches/"},
        )
        page_statuses.append(status)
        accepted += status in (302, 303)
    counts: dict[int, int] = {}
    for status in page_statuses:
        counts[status] = counts.get(status, 0) + 1
    return [
        f"API: 429 after {len(api_statuses) - 1} accepted",
        "pages after that: " + ", ".join(f"{n}x {s}" for s, n in sorted(counts.items())),
        f"{accepted} page batches accepted",
    ]


def case_disk(client: Client, archive: bytes) -> list[str]:
    answer = client.post_files(
        "/api/v1/batches/", {"store": "false"}, [("archive", "d.zip", archive)]
    )
    out = [describe(*answer)]
    if answer[0] == 202:
        job = json.loads(answer[2])
        state = site_.wait_for_job(client, f"/api/v1/batches/{job['id']}/")
        out.append(
            f"job {state.get('status')}: {state.get('done')} classified, "
            f"{state.get('failed')} failed"
        )
    return out


def hostile_files() -> dict[str, bytes]:
    from PIL import Image

    grey = png_zeros(6324)  # 40 megapixels in 39 KB; the same bytes in every folder
    small = io.BytesIO()
    Image.new("RGB", (64, 48), (200, 30, 30)).save(small, "JPEG")
    return {
        "grey": grey,
        "grey16": png_zeros(6324, mode="I;16"),
        "examples_zip": zip_of(
            [(f"{folder}/{n}.png", grey) for folder in ("red", "blue") for n in range(170)],
            method=zipfile.ZIP_STORED,
        ),
        "disk_zip": bomb_zip(46, 20 * 2**20, ratio=47),
        "small_zip": zip_of([("a.jpg", small.getvalue())]),
    }


def cases(site: dict, files: dict) -> dict:
    client, port = site["client"], site["port"]
    grey = files["grey"]
    return {
        "A1": (
            "20 x 40 MP greyscale PNG, classify",
            lambda: case_classify(client, [(f"zeros-{n}.png", grey) for n in range(20)]),
        ),
        "A2": (
            "10 x 40 MP greyscale PNG, classify",
            lambda: case_classify(client, [(f"zeros-{n}.png", grey) for n in range(10)]),
        ),
        "A3": (
            "1 x 40 MP 16-bit PNG, classify",
            lambda: case_classify(client, [("zeros16.png", files["grey16"])]),
        ),
        "B": (
            "340 x 40 MP PNG in a zip, examples",
            lambda: case_examples(client, site["classifier"], files["examples_zip"]),
        ),
        "D": (
            "46 x 20 MiB zip members, batch",
            lambda: case_disk(client, files["disk_zip"]),
        ),
        "C": (
            "batches: API until 429, then pages",
            lambda: case_pages_skip_limits(client, site_.Client(port), files["small_zip"]),
        ),
    }


def run_case(site: dict, key: str, title: str, run) -> None:
    """Runs one case with every process's peak reset, then prints what it cost."""
    root = site["process"].pid
    named = site_.roles(root)
    site_.reset_peaks(named)
    disk = site_.DiskWatch(site["media"])
    started = time.monotonic()
    outcome = run()
    took = time.monotonic() - started
    written = disk.finish()
    time.sleep(0.5)
    after = site_.roles(root)
    peaks = {name: site_.peak_mb(pid) for pid, name in after.items() if pid in named}
    restarted = sorted(
        set(named.values()) - set(peaks) | {name for pid, name in after.items() if pid not in named}
    )
    print(f"\n{key}  {title}  ({took:.1f} s)", flush=True)
    for line in outcome:
        print(f"    answer: {line}")
    for name, peak in sorted(peaks.items()):
        print(f"    {name:<32} peak {peak or 0:8.0f} MB")
    if restarted:
        print(f"    processes gone or restarted: {', '.join(restarted)}")
    print(f"    media written (peak): {written / 2**20:.1f} MB", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", default="A1,A2,A3,B,D,C")
    wanted = set(parser.parse_args().only.split(","))
    print("building the hostile files...", flush=True)
    files = hostile_files()
    print(
        "  " + ", ".join(f"{name} {len(data) / 1e6:.2f} MB" for name, data in files.items()),
        flush=True,
    )
    limits = {"DJANGO_THROTTLE_BATCH": "10/hour", "DJANGO_THROTTLE_CLASSIFY": "10000/minute"}
    with site_.prod_local(limits, keep=bool(os.environ.get("ABUSE_KEEP"))) as site:
        for key, (title, run) in cases(site, files).items():
            if key in wanted:
                run_case(site, key, title, run)


if __name__ == "__main__":
    main()
