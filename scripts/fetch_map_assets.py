"""Fetch the JavaScript/CSS a Folium map needs from the npm registry, for offline maps.

Run once by a developer (``python scripts/fetch_map_assets.py``); the result is committed in
``sitematch/export/assets/`` with the packages' licence files and ``manifest.json`` (package,
version, files). Images and fonts a stylesheet refers to are inlined as data URIs, so a map can
carry every file inside one HTML page. Needs ``npm`` and the npm registry; nothing at run time.
"""

from __future__ import annotations

import base64
import json
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

ASSETS = Path(__file__).resolve().parent.parent / "sitematch" / "export" / "assets"

#: npm package → (version, {target file: source path inside the package}, licence files, licence name)
PACKAGES: dict[str, tuple[str, dict[str, str], list[str], str]] = {
    "leaflet": (
        "1.9.3",
        {"leaflet.js": "dist/leaflet.js", "leaflet.css": "dist/leaflet.css"},
        ["LICENSE"],
        "BSD-2-Clause",
    ),
    "d3": ("3.5.5", {"d3.min.js": "d3.min.js"}, ["LICENSE"], "BSD-3-Clause (used by branca's colour legend)"),
    "jquery": ("3.7.1", {"jquery.min.js": "dist/jquery.min.js"}, ["LICENSE.txt"], "MIT"),
    "bootstrap": (
        "5.2.2",
        {
            "bootstrap.bundle.min.js": "dist/js/bootstrap.bundle.min.js",
            "bootstrap.min.css": "dist/css/bootstrap.min.css",
        },
        ["LICENSE"],
        "MIT",
    ),
    "@fortawesome/fontawesome-free": (
        "6.2.0",
        {
            "fontawesome.css": "css/fontawesome.min.css",
            "solid.css": "css/solid.min.css",
            "regular.css": "css/regular.min.css",
        },
        ["LICENSE.txt"],
        "Font Awesome Free: icons CC BY 4.0, fonts SIL OFL 1.1, code MIT",
    ),
    "leaflet.markercluster": (
        "1.1.0",
        {
            "leaflet.markercluster.js": "dist/leaflet.markercluster.js",
            "MarkerCluster.css": "dist/MarkerCluster.css",
            "MarkerCluster.Default.css": "dist/MarkerCluster.Default.css",
        },
        ["MIT-LICENCE.txt"],
        "MIT",
    ),
    "drmonty-leaflet-awesome-markers": (
        "2.0.2",
        {
            "leaflet.awesome-markers.js": "js/leaflet.awesome-markers.min.js",
            "leaflet.awesome-markers.css": "css/leaflet.awesome-markers.css",
        },
        [],
        "MIT (Leaflet.awesome-markers 2.0.2 by Lennard Voogdt)",
    ),
}

MIME = {".png": "image/png", ".woff2": "font/woff2", ".gif": "image/gif", ".svg": "image/svg+xml"}
URL = re.compile(r"url\((['\"]?)([^)'\"]+)\1\)")


def _inline_urls(css: str, base: Path) -> str:
    """Replace url(relative file) by a data URI; drop TrueType fallbacks (woff2 is enough)."""
    css = re.sub(r",\s*url\([^)]*\.ttf\)\s*format\([\"']truetype[\"']\)", "", css)

    def repl(m: re.Match[str]) -> str:
        target = m.group(2)
        if target.startswith(("data:", "#", "http")):
            return m.group(0)
        path = (base / target).resolve()
        if not path.is_file() or path.suffix not in MIME:
            return m.group(0)
        data = base64.b64encode(path.read_bytes()).decode()
        return f"url(data:{MIME[path.suffix]};base64,{data})"

    return URL.sub(repl, css)


def main() -> int:
    if shutil.which("npm") is None:
        print("npm is needed to fetch the map assets (apt-get install npm)", file=sys.stderr)
        return 1
    manifest = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for name, (ver, files, licences, licence) in PACKAGES.items():
            subprocess.run(["npm", "pack", f"{name}@{ver}", "--silent"], cwd=tmp, check=True, capture_output=True)
            tgz = next(tmp.glob(f"{name.lstrip('@').replace('/', '-')}-{ver}.tgz"))
            unpacked = tmp / tgz.stem
            with tarfile.open(tgz) as tf:
                tf.extractall(unpacked, filter="data")
            pkg = unpacked / "package"
            folder = ASSETS / name.split("/")[-1]
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            for target, source in files.items():
                src = pkg / source
                if target.endswith(".css"):
                    (folder / target).write_text(
                        _inline_urls(src.read_text(encoding="utf-8"), src.parent), encoding="utf-8"
                    )
                else:
                    shutil.copyfile(src, folder / target)
            for lic in licences:
                shutil.copyfile(pkg / lic, folder / lic)
            if not licences:
                (folder / "LICENSE").write_text(f"{name} {ver}: {licence}\n", encoding="utf-8")
            manifest.append({"package": name, "version": ver, "licence": licence, "files": sorted(files)})
            print(f"{name}@{ver}: {', '.join(files)}")
    (ASSETS / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
