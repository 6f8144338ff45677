"""Loaded first by the upload readers' fork server: silences runpy's warning that a child process,
preparing itself by running the parent's main module again (``python -m sitematch.cli``), finds
that module already loaded — loading it once in the fork server is the point (see
:func:`sitematch.upload._sandbox.preload`). Forked children inherit the filter.
"""

import warnings

warnings.filterwarnings("ignore", message=r".*found in sys\.modules after import of package", category=RuntimeWarning)
