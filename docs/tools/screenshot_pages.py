"""Screenshot every page of the built site in a headless Chromium, offline.

For looking at the site as a reader sees it::

    bash .ci/build_docs
    .venv/bin/python docs/tools/screenshot_pages.py /tmp/shots

needs Debian's ``chromium`` (``apt-get install chromium``) and Pillow (in the
docs extra). Each page is rendered at 1400 px wide from its file:// address,
so nothing can come from a CDN: what renders here renders offline. The
screenshots are cut below the page's content and split into parts of at most
2,000 px, a size an image viewer shows legibly.
"""

import pathlib
import shutil
import subprocess
import sys

import numpy as np
from PIL import Image

HTML = pathlib.Path(__file__).resolve().parents[1] / "_build" / "html"
WIDTH, TALL, PART, FOOTER = 1400, 14000, 2000, 160


def pages():
    skip = {"search.html", "genindex.html", "py-modindex.html"}
    for path in sorted(HTML.rglob("*.html")):
        if path.name not in skip and "_static" not in path.parts:
            yield path


def screenshot(browser, page, target):
    subprocess.run(
        [
            browser,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--hide-scrollbars",
            f"--window-size={WIDTH},{TALL}",
            "--virtual-time-budget=8000",  # let MathJax typeset
            f"--screenshot={target}",
            page.as_uri(),
        ],
        check=True,
        capture_output=True,
        timeout=120,
    )
    image = Image.open(target).convert("RGB")
    # The footer sits at the bottom of the (very tall) window; the content
    # ends at the last row with more than a few non-background pixels (the
    # sidebars' borders run the whole height).
    pixels = np.asarray(image.convert("L"), dtype=np.int16)[:-FOOTER]
    background = np.median(pixels[-1])
    busy = np.flatnonzero((np.abs(pixels - background) > 12).sum(axis=1) > 6)
    height = int(busy[-1]) + 30 if busy.size else image.height
    image = image.crop((0, 0, WIDTH, min(height, image.height)))
    target.unlink()
    parts = []
    for number, top in enumerate(range(0, image.height, PART), start=1):
        part = target.with_name(f"{target.stem}_{number}.png")
        image.crop((0, top, WIDTH, min(top + PART, image.height))).save(part)
        parts.append(part)
    return image.height, parts


def main(out):
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        sys.exit("chromium not found: apt-get install chromium")
    out = pathlib.Path(out)
    out.mkdir(parents=True, exist_ok=True)
    for page in pages():
        name = str(page.relative_to(HTML).with_suffix("")).replace("/", "__")
        height, parts = screenshot(browser, page, out / f"{name}.png")
        print(f"{page.relative_to(HTML)}: {height} px, {len(parts)} part(s)")


if __name__ == "__main__":
    main(sys.argv[1] if len(sys.argv) > 1 else "screenshots")
