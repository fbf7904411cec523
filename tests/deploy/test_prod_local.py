"""The production topology as real processes (``make prod-local``: supervisord,
gunicorn with production settings, batch and model workers, the sweeper, Redis)
under the hostile requests of bench/abuse.py: every answer is the right 4xx or
202 in the JSON error shape, a web process's peak memory (VmHWM, read from
/proc) stays under the stated budget, nothing is written past a limit, and a
worker killed half-way is started again while the site keeps answering and the
batch finishes. Needs PostgreSQL (CI)."""

import importlib.util
import json
import os
import signal
import subprocess
import time
import zipfile
from pathlib import Path

import pytest

from tests.classification.images import jpeg

ROOT = Path(__file__).resolve().parent.parent.parent


def _bench(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "bench" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


abuse = _bench("abuse")  # the hostile files
prod_local = abuse.site_  # the site and its processes

# The budget README's "Limits and abuse" states for a web process with the
# default limits (each case also passes when run alone).
WEB_BUDGET_MB = 512


def _postgres() -> bool:
    return subprocess.run(["pg_isready", "-h", "127.0.0.1", "-q"], check=False).returncode == 0


@pytest.fixture(scope="module")
def site():
    if not _postgres():
        pytest.skip("PostgreSQL is not running on 127.0.0.1:5432")
    limits = {
        "DJANGO_BATCH_LEASE_SECONDS": "5",
        "DJANGO_THROTTLE_BATCH": "1000/hour",
        "DJANGO_THROTTLE_EXAMPLES": "1000/hour",
    }
    with prod_local.prod_local(limits) as running:
        yield running


def _webs(site) -> list[int]:
    named = prod_local.roles(site["process"].pid)
    webs = [pid for pid, name in named.items() if name.startswith("web")]
    assert len(webs) == 2, named
    return webs


def _peak_of_webs(site, send) -> tuple[object, float]:
    """Runs ``send()`` with the web processes' peaks reset; returns its answer
    and the highest peak (MB) any web process reached meanwhile."""
    webs = _webs(site)
    prod_local.reset_peaks(webs)
    answer = send()
    peaks = [prod_local.peak_mb(pid) for pid in webs]
    assert all(peak is not None for peak in peaks), "a web process died"
    return answer, max(peaks)


def _error_code(answer) -> str:
    status, content_type, body = answer
    assert "application/json" in content_type, (status, body[:300])
    return json.loads(body)["error"]["code"]


def test_many_huge_images_in_one_request_are_refused_within_the_budget(site):
    grey = abuse.png_zeros(6324)  # 40 megapixels in 39 KB
    answer, peak = _peak_of_webs(
        site,
        lambda: site["client"].post_files(
            "/api/v1/classifications/",
            {"store": "false"},
            [("file", f"zeros-{n}.png", grey) for n in range(20)],
        ),
    )
    assert answer[0] == 413 and _error_code(answer) == "too_many_pixels"
    assert peak < WEB_BUDGET_MB, peak  # was 3.4 GB


@pytest.mark.parametrize("mode", ["L", "I;16", "RGBA"])
def test_a_huge_image_is_classified_within_the_budget(site, mode):
    data = abuse.png_zeros(6324, mode=mode)
    answer, peak = _peak_of_webs(
        site,
        lambda: site["client"].post_files(
            "/api/v1/classifications/", {"store": "true"}, [("file", "zeros.png", data)]
        ),
    )
    assert answer[0] == 201, answer[2][:300]
    assert peak < WEB_BUDGET_MB, peak  # the 16-bit one alone was 1.57 GB


def test_huge_images_sent_at_once_by_many_clients_stay_within_the_budget(site):
    """Each web process serves several requests at once (threads): big
    pictures are decoded one at a time per process, so they do not add up."""
    from concurrent.futures import ThreadPoolExecutor

    data = abuse.png_zeros(6324, mode="RGBA")

    def send(_number):
        return site["client"].post_files(
            "/api/v1/classifications/", {"store": "false"}, [("file", "zeros.png", data)]
        )

    def all_at_once():
        with ThreadPoolExecutor(max_workers=8) as pool:
            return list(pool.map(send, range(8)))

    answers, peak = _peak_of_webs(site, all_at_once)
    assert [answer[0] for answer in answers] == [200] * 8, [a[2][:200] for a in answers]
    assert peak < WEB_BUDGET_MB, peak


def test_a_zip_of_huge_examples_is_answered_at_once_and_checked_by_a_worker(site):
    big = abuse.png_zeros(6324)
    archive = abuse.zip_of(
        [(f"{folder}/{n}.png", big) for folder in ("red", "blue") for n in range(15)],
        method=zipfile.ZIP_STORED,
    )
    started = time.monotonic()
    answer, peak = _peak_of_webs(
        site,
        lambda: site["client"].post_files(
            f"/api/v1/classifiers/{site['classifier']}/examples/",
            {},
            [("archive", "colours.zip", archive)],
        ),
    )
    assert answer[0] == 202, answer[2][:300]
    assert peak < WEB_BUDGET_MB, peak
    job = prod_local.wait_for_job(site["client"], json.loads(answer[2])["url"], seconds=600)
    assert job["status"] == "succeeded", job
    # The same picture 30 times: added once per class, the rest recognised.
    assert (job["added"], job["duplicates"], job["failed"]) == (2, 28, 0)
    assert time.monotonic() - started < 600


def test_a_zip_that_unpacks_to_almost_a_gigabyte_writes_only_itself(site):
    archive = abuse.bomb_zip(46, 20 * 2**20, ratio=47)  # 46 x 20 MiB, under every limit
    before = prod_local.folder_bytes(site["media"])
    watch = prod_local.DiskWatch(site["media"])
    answer, peak = _peak_of_webs(
        site,
        lambda: site["client"].post_files(
            "/api/v1/batches/", {"store": "false"}, [("archive", "d.zip", archive)]
        ),
    )
    assert answer[0] == 202, answer[2][:300]
    assert peak < WEB_BUDGET_MB, peak  # was 1.37 GB
    job = prod_local.wait_for_job(site["client"], json.loads(answer[2])["url"])
    written = watch.finish()
    assert (job["status"], job["done"], job["failed"]) == ("succeeded", 0, 46), job
    assert written <= len(archive) * 1.1, written  # was 921 MB of extracted members
    assert prod_local.folder_bytes(site["media"]) <= before + 4096  # the archive left with the job


def test_a_zip_bomb_or_an_oversized_zip_is_refused_before_anything_is_stored(site):
    bomb = abuse.zip_of([("bomb.jpg", bytes(15 * 2**20))])  # compresses 1000 times
    answer = site["client"].post_files(
        "/api/v1/batches/", {"store": "false"}, [("archive", "bomb.zip", bomb)]
    )
    assert answer[0] == 400 and _error_code(answer) == "zip_bomb"


def _supervisorctl(site, *args: str) -> str:
    env = {
        **os.environ,
        "PICSORT_RUN_DIR": str(site["run"]),
        "PICSORT_ROOT": str(ROOT),
        "HOST": "127.0.0.1",
        "PORT": str(site["port"]),
    }
    return subprocess.run(
        [str(ROOT / ".venv/bin/supervisorctl"), "-c", "config/supervisord.conf", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    ).stdout


def test_a_killed_worker_is_started_again_and_the_batch_finishes(site):
    client = site["client"]
    photos = [(f"{n:03}.jpg", jpeg(640, 480, seed=n)) for n in range(80)]
    archive = abuse.zip_of(photos, method=zipfile.ZIP_STORED)
    answer = client.post_files(
        "/api/v1/batches/", {"store": "true"}, [("archive", "p.zip", archive)]
    )
    assert answer[0] == 202, answer[2][:300]
    url = json.loads(answer[2])["url"]

    def progress() -> int:
        status, _type, body = client.send("GET", url)
        return json.loads(body)["done"] if status == 200 else -1

    deadline = time.monotonic() + 120
    while progress() < 5 and time.monotonic() < deadline:
        time.sleep(0.2)
    victim = int(_supervisorctl(site, "pid", "worker:worker1").strip())
    os.kill(victim, signal.SIGKILL)

    answers = []
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:  # the site keeps answering meanwhile
        answers.append(client.send("GET", "/healthz", timeout=10)[0])
        status = _supervisorctl(site, "status", "worker:worker1")
        if "RUNNING" in status and str(victim) not in status:
            break
        time.sleep(0.5)
    assert "RUNNING" in status and str(victim) not in status, status
    assert answers and set(answers) == {200}, answers

    job = prod_local.wait_for_job(client, url, seconds=600)
    assert (job["status"], job["done"], job["failed"]) == ("succeeded", 80, 0), job
    results = []
    next_url = job["results_url"]
    while next_url:
        status, _type, body = client.send(
            "GET", next_url.replace(f"http://127.0.0.1:{site['port']}", "")
        )
        page = json.loads(body)
        results += page["results"]
        next_url = page.get("next")
    assert len(results) == 80 and {r["status"] for r in results} == {"done"}
