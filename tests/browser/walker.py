"""What the page walker checks on every page, in the browser: the page fits the
screen, every table column can be reached, content images are big enough to
see, and axe-core finds no serious or critical accessibility problem."""

from pathlib import Path

from axe_playwright_python.sync_playwright import Axe

MIN_IMAGE_PX = 40

LAYOUT_PROBLEMS = (Path(__file__).parent / "walker.js").read_text()
SERIOUS = {"serious", "critical"}


def layout_problems(page, *, images: bool = True) -> list[str]:
    """Sideways scrolling, cut-off table columns and (``images``) content
    images smaller than MIN_IMAGE_PX."""
    return page.evaluate(LAYOUT_PROBLEMS, MIN_IMAGE_PX if images else 0)


_axe = None


def accessibility_problems(page, *, exclude: list[str] | None = None) -> list[str]:
    """axe-core's serious and critical violations, one line each; ``exclude``:
    CSS selectors of parts that are not ours to fix."""
    global _axe
    if _axe is None:
        _axe = Axe()  # the axe-core script shipped inside the wheel: nothing is fetched
    context = {"exclude": [[selector] for selector in exclude]} if exclude else None
    results = _axe.run(page, context=context)
    problems = []
    for violation in results.response["violations"]:
        if violation["impact"] not in SERIOUS:
            continue
        targets = ", ".join(str(node["target"][0]) for node in violation["nodes"][:3])
        problems.append(f"axe {violation['id']} ({violation['impact']}): {targets}")
    return problems
