"""Fetch Swagger UI and ReDoc from the npm registry, so the service's ``/docs`` and ``/redoc`` work offline.

Run once by a developer (``python scripts/fetch_docs_assets.py``); the result is committed in
``sitematch/service/static/vendor/`` with the packages' licence files and ``manifest.json``
(package, version, licence, files, the tarball's sha512). Needs ``npm`` and the npm registry;
nothing at run time.
"""

from __future__ import annotations

import base64
import hashlib
import json
import shutil
import subprocess
import sys
import tarfile
import tempfile
from pathlib import Path

VENDOR = Path(__file__).resolve().parent.parent / "sitematch" / "service" / "static" / "vendor"

#: npm package → (version, {target file: source path inside the package}, licence files, licence name)
PACKAGES: dict[str, tuple[str, dict[str, str], list[str], str]] = {
    "swagger-ui-dist": (
        "5.36.0",
        {
            "swagger-ui-bundle.js": "swagger-ui-bundle.js",
            "swagger-ui.css": "swagger-ui.css",
            "favicon-32x32.png": "favicon-32x32.png",
        },
        ["LICENSE", "NOTICE"],
        "Apache-2.0",
    ),
    "redoc": ("2.5.4", {"redoc.standalone.js": "bundles/redoc.standalone.js"}, ["LICENSE"], "MIT"),
}
#: Edits to a vendored file, so that it loads nothing from elsewhere: (file, old text, new text, why).
PATCHES: list[tuple[str, str, str, str]] = [
    (
        "redoc/redoc.standalone.js",
        "https://cdn.redoc.ly/redoc/logo-mini.svg",
        "data:image/svg+xml,%3Csvg%20xmlns='http://www.w3.org/2000/svg'%20width='1'%20height='1'/%3E",
        "the side menu's 'API docs by Redocly' logo came from a CDN; an empty image instead (the words stay)",
    ),
]


def main() -> int:
    if shutil.which("npm") is None:
        print("npm is needed to fetch the documentation assets (apt-get install npm)", file=sys.stderr)
        return 1
    manifest = []
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        for name, (ver, files, licences, licence) in PACKAGES.items():
            subprocess.run(["npm", "pack", f"{name}@{ver}", "--silent"], cwd=tmp, check=True, capture_output=True)
            tgz = next(tmp.glob(f"{name}-{ver}.tgz"))
            sha512 = "sha512-" + base64.b64encode(hashlib.sha512(tgz.read_bytes()).digest()).decode()
            unpacked = tmp / tgz.stem
            with tarfile.open(tgz) as tf:
                tf.extractall(unpacked, filter="data")
            pkg = unpacked / "package"
            folder = VENDOR / name
            shutil.rmtree(folder, ignore_errors=True)
            folder.mkdir(parents=True)
            for target, source in files.items():
                shutil.copyfile(pkg / source, folder / target)
            present = [lic for lic in licences if (pkg / lic).is_file()]
            for lic in present:
                shutil.copyfile(pkg / lic, folder / lic)
            manifest.append(
                {"package": name, "version": ver, "licence": licence, "files": sorted(files), "licence_files": present,
                 "integrity": sha512}
            )  # fmt: skip
            print(f"{name}@{ver}: {', '.join(files)}")
    for target, old, new, why in PATCHES:
        path = VENDOR / target
        text = path.read_text(encoding="utf-8")
        if text.count(old) != 1:
            print(f"{target}: expected {old!r} once to patch", file=sys.stderr)
            return 1
        path.write_text(text.replace(old, new), encoding="utf-8")
        entry = next(m for m in manifest if m["package"] == target.split("/")[0])
        entry.setdefault("patched", []).append({"file": target.split("/")[1], "replaced": old, "why": why})
    (VENDOR / "manifest.json").write_text(json.dumps(manifest, indent=2) + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
