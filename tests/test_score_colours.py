"""The score colours without branca are branca's, value for value."""

from __future__ import annotations

import branca.colormap as cm
import numpy as np

from sitematch.export._sitefacts import SCORE_COLOURS


def test_score_colours_equal_brancas_linear_colormap() -> None:
    branca = cm.LinearColormap(["#d7301f", "#fdae61", "#ffffbf", "#a6d96a", "#1a9641"], vmin=0, vmax=100)
    values = [-5.0, 0.0, 0.1, 12.5, 24.999, 25.0, 33.3, 50.0, 66.6, 75.0, 99.99, 100.0, 140.0]
    values += np.random.default_rng(0).uniform(0, 100, 500).tolist()
    assert [SCORE_COLOURS(v) for v in values] == [branca(v) for v in values]
    assert SCORE_COLOURS(0.0) == "#d7301fff" and SCORE_COLOURS(100.0) == "#1a9641ff"
