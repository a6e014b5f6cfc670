"""The network of the user guide: input, sigmoid hidden layer, decoder output.

Run by matplotlib's plot directive while the documentation builds
(``.. plot:: figures/network.py`` in user_guide.rst).
"""

import matplotlib.pyplot as plt
from matplotlib.patches import Circle

RADIUS = 0.3
# x position, unit labels (None: a column of dots), has a bias unit, colour
LAYERS = [
    (0.0, ["$x_1$", "$x_2$", None, "$x_d$"], True, "#d6e6f5"),
    (4.0, ["$a_1$", "$a_2$", "$a_3$", None, "$a_h$"], True, "#fde0c5"),
    (8.0, ["$\\hat{x}_1$", "$\\hat{x}_2$", None, "$\\hat{x}_d$"], False, "#d6e6f5"),
]
CAPTIONS = [
    "input $x$\n$d$ features",
    "hidden layer, sigmoid\n$a = \\sigma(x W_1 + b_1)$\n$h$ units, few active",
    "reconstruction\n$\\hat{x} = g(a W_2 + b_2)$\n$g$: sigmoid or identity",
]


def circle(ax, xy, label, colour, fontsize=12, edge="black"):
    ax.add_patch(Circle(xy, RADIUS, facecolor=colour, edgecolor=edge, zorder=3))
    ax.text(*xy, label, ha="center", va="center", fontsize=fontsize, zorder=4)


fig, ax = plt.subplots(figsize=(6.5, 4.4), layout="constrained")
units, biases = [], []
for x, labels, has_bias, colour in LAYERS:
    top = (len(labels) - 1) / 2
    layer = []
    for i, label in enumerate(labels):
        xy = (x, top - i)
        if label is None:
            ax.text(*xy, "$\\vdots$", ha="center", va="center", fontsize=16)
        else:
            circle(ax, xy, label, colour)
            layer.append(xy)
    units.append(layer)
    bias = (x, top - len(labels) - 0.2) if has_bias else None
    if bias is not None:
        circle(ax, bias, "$+1$", "white", fontsize=10, edge="grey")
    biases.append(bias)

# Every unit of a layer, and its bias, feeds every unit of the next layer.
for layer in range(len(LAYERS) - 1):
    for x0, y0 in units[layer] + [biases[layer]]:
        for x1, y1 in units[layer + 1]:
            ax.plot([x0, x1], [y0, y1], color="grey", linewidth=0.6, zorder=1)

ax.text(2.0, 2.85, "encoder $W_1, b_1$", ha="center", fontsize=11)
ax.text(6.0, 2.85, "decoder $W_2, b_2$", ha="center", fontsize=11)
for (x, *_), caption in zip(LAYERS, CAPTIONS):
    ax.text(x, -3.8, caption, ha="center", va="top", fontsize=10, linespacing=1.5)
ax.set(xlim=(-1.6, 9.6), ylim=(-5.9, 3.3), aspect="equal")
ax.set_axis_off()
