"""How sitematch drives a real browser (tests, benchmark, screenshots): Debian's Chromium.

Never a downloaded browser. The flags keep a headless Chromium, run as root on a closed network,
from trying to reach the internet on its own.
"""

from __future__ import annotations

#: Debian's chromium package.
CHROMIUM = "/usr/bin/chromium"
#: Launch flags: headless as root, no GPU, no background network traffic.
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
