"""The vendored assets are the files their manifest pins, served by the service itself with a
long cache; /docs and the pages load nothing from elsewhere."""

from __future__ import annotations

import hashlib
import re

from fastapi.testclient import TestClient

from api.pages.kit import assets

VENDOR = assets.STATIC / "vendor"
SCRIPT = re.compile(r"<script\b([^>]*)>(.*?)</script>", re.S | re.I)
URL = re.compile(r"""(?:src|href)\s*=\s*["']([^"']+)["']|url\(\s*["']?([^"')]+)""")


def test_every_vendored_file_is_in_the_manifest_with_its_hash() -> None:
    listed = {}
    for package in assets.manifest()["packages"]:
        assert package["version"] and package["source"].startswith("https://registry.npmjs.org/")
        assert "LICENSE" in package["files"], package["name"]
        for name, pinned in package["files"].items():
            listed[f"{package['directory']}/{name}"] = pinned["sha256"]
    on_disk = {p.relative_to(VENDOR).as_posix() for p in VENDOR.rglob("*") if p.is_file()} - {"MANIFEST.json"}
    assert on_disk == set(listed)
    for name, sha256 in listed.items():
        assert hashlib.sha256((VENDOR / name).read_bytes()).hexdigest() == sha256, name


def test_static_files_are_served_under_their_digest_with_a_year_long_cache(client: TestClient) -> None:
    for name, kind in (
        ("grader.css", "text/css"),
        ("vendor/htmx/htmx.min.js", "javascript"),
        ("vendor/katex/fonts/KaTeX_Main-Regular.woff2", "font/woff2"),
    ):
        response = client.get(assets.asset_url(name))
        assert response.status_code == 200 and kind in response.headers["content-type"]
        assert response.headers["cache-control"] == assets.CACHE_CONTROL
        assert response.content == (assets.STATIC / name).read_bytes()
    assert client.get(f"/static/{'0' * 12}/grader.css").status_code == 404  # another release's digest


def local_urls(client: TestClient, html: str) -> list[str]:
    """Every URL the page loads or links, each asserted to be a path of this service (or a
    fragment of the page itself, or inline data: the empty favicon)."""
    urls = [a or b for a, b in URL.findall(html)]
    for url in urls:
        assert url.startswith(("/", "#", "data:")) and not url.startswith("//"), url
    return urls


def test_docs_load_swagger_ui_from_the_service_itself(client: TestClient) -> None:
    page = client.get("/docs")
    assert page.status_code == 200
    urls = local_urls(client, page.text)
    assert "http" not in page.text
    assert assets.asset_url("vendor/swagger-ui/swagger-ui-bundle.js") in urls
    assert assets.asset_url("docs.js") in urls  # starts it: the page has no inline script
    scripts = SCRIPT.findall(page.text)
    assert len(scripts) == 2 and all("src=" in attributes and not body.strip() for attributes, body in scripts)
    assert not re.search(r"\son[a-z]+\s*=", page.text)  # nor inline event handlers
    for url in urls:
        assert client.get(url).status_code == 200, url
    assert client.get("/openapi.json").status_code == 200
    assert client.get("/redoc").status_code == 404


def test_the_pages_and_the_stylesheets_reference_only_local_files(client: TestClient) -> None:
    page = client.get("/")
    assert page.status_code == 200
    for url in local_urls(client, page.text):
        if url.startswith("/static/"):
            assert client.get(url).status_code == 200, url
    for css in ("grader.css", "vendor/katex/katex.min.css"):
        text = (assets.STATIC / css).read_text()
        for url in (a or b for a, b in URL.findall(text)):
            assert not re.match(r"^[a-z]+:|^//", url), url
