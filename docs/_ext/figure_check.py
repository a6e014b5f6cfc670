"""Fail the docs build on a gallery figure whose text is cut off.

sphinx-gallery saves each figure at its own size, without a tight bounding
box, so an axis label or a legend that falls outside the figure is lost from
the page without an error. ``checked_matplotlib_scraper`` stands in for
sphinx-gallery's matplotlib scraper (``image_scrapers`` in conf.py): it
draws every open figure as it will be saved and raises if a piece of text
reaches past the figure's edges, then saves the figures as the plain
scraper does. ``texts_outside`` is the check alone, which the tests apply to
the displays' own figures.
"""

# SPDX-License-Identifier: BSD-3-Clause

import numpy as np

# Anti-aliasing can put the edge of a glyph half a pixel past a bound that
# the text touches.
TOLERANCE_PX = 1.0


def _describe(text):
    return repr(text.get_text().replace("\n", " "))


def texts_outside(fig):
    """Describe each drawn piece of text of ``fig`` that reaches past its edges.

    Parameters
    ----------
    fig : matplotlib Figure
        The figure, as it will be saved (its layout engine runs first).

    Returns
    -------
    problems : list of str
        One line per piece of text outside the figure; empty when all of it
        is inside.
    """
    from matplotlib.text import Text

    fig.draw_without_rendering()  # runs constrained layout, places the titles
    renderer = fig.canvas.get_renderer()
    width, height = fig.bbox.width, fig.bbox.height

    def outside(bbox):
        if bbox is None or not np.all(np.isfinite(bbox.extents)):
            return False
        return (
            bbox.x0 < -TOLERANCE_PX
            or bbox.y0 < -TOLERANCE_PX
            or bbox.x1 > width + TOLERANCE_PX
            or bbox.y1 > height + TOLERANCE_PX
        )

    def where(bbox):
        return (
            f"x {bbox.x0:.0f}..{bbox.x1:.0f}, y {bbox.y0:.0f}..{bbox.y1:.0f} px "
            f"in a {width:.0f} x {height:.0f} px figure"
        )

    problems = []
    tick_labels = set()
    for ax in fig.get_axes():
        for axis in (ax.xaxis, ax.yaxis):
            ticks = axis.get_major_ticks() + axis.get_minor_ticks()
            tick_labels.update(id(t.label1) for t in ticks)
            tick_labels.update(id(t.label2) for t in ticks)
            if not (ax.get_visible() and ax.axison and axis.get_visible()):
                continue
            # The axis' box holds only the tick labels that are drawn (those
            # inside the view limits), its label and its offset text.
            bbox = axis.get_tightbbox(renderer)
            if outside(bbox):
                name = "x" if axis is ax.xaxis else "y"
                problems.append(
                    f"the {name} axis (labelled {_describe(axis.label)}) of the "
                    f"axes titled {_describe(ax.title)}: {where(bbox)}"
                )
    for text in fig.findobj(Text):
        if id(text) in tick_labels or not text.get_text().strip():
            continue
        if not text.get_visible() or (text.axes and not text.axes.get_visible()):
            continue
        bbox = text.get_window_extent(renderer)
        if outside(bbox):
            problems.append(f"text {_describe(text)}: {where(bbox)}")
    return problems


def checked_matplotlib_scraper(block, block_vars, gallery_conf, **kwargs):
    """sphinx-gallery's matplotlib scraper, after :func:`texts_outside`."""
    import matplotlib.pyplot as plt
    from sphinx_gallery.scrapers import matplotlib_scraper

    for number in plt.get_fignums():
        problems = texts_outside(plt.figure(number))
        if problems:
            raise RuntimeError(
                f"{block_vars['src_file']}: figure {number} would be saved with "
                "text cut off at its edges (give it layout='constrained' or more "
                "room):\n  " + "\n  ".join(problems)
            )
    return matplotlib_scraper(block, block_vars, gallery_conf, **kwargs)
