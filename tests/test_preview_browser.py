"""The preview page in a real headless browser (Debian's chromium driven by Playwright):
it loads from file:// with no console errors and no network requests, and shows a card
for every configured channel. `pytest tests/test_preview_browser.py --update-golden`
also refreshes docs/preview.png, the screenshot the README shows."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from chanpub.config import load_config
from chanpub.preview import write_preview

ROOT = Path(__file__).parent.parent
CHROMIUM = Path("/usr/bin/chromium")  # installed by .ci/setup.d/50-chromium.sh
ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]


@pytest.fixture(scope="module")
def browser(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A fresh chromium profile in a temporary folder; never Playwright's own browsers."""
    assert CHROMIUM.exists(), "chromium is missing: run bash .ci/setup.d/50-chromium.sh"
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        context = playwright.chromium.launch_persistent_context(
            tmp_path_factory.mktemp("profile"),
            executable_path=str(CHROMIUM),
            args=ARGS,
            headless=True,
            viewport={"width": 1280, "height": 900},
            locale="id-ID",
        )
        yield context
        context.close()


@pytest.fixture
def example(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The repository's channels.yaml and examples/, as a fresh office folder."""
    shutil.copy(ROOT / "channels.yaml", tmp_path / "channels.yaml")
    shutil.copytree(ROOT / "examples", tmp_path / "examples")
    monkeypatch.chdir(tmp_path)
    return tmp_path


def open_page(browser: Any, path: Path) -> tuple[Any, list[str], list[str]]:
    """Load the page; return it with the console errors and the URLs requested."""
    page = browser.new_page()
    errors: list[str] = []
    requests: list[str] = []
    page.on(
        "console",
        lambda message: (
            errors.append(message.text) if message.type in ("error", "warning") else None
        ),
    )
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.on("request", lambda request: requests.append(request.url))
    page.goto(path.resolve().as_uri(), wait_until="load")
    return page, errors, requests


def test_example_page_loads_offline_with_every_card(
    browser: Any, example: Path, update_golden: bool
) -> None:
    config = load_config(example / "channels.yaml")
    path = write_preview(Path("examples/release.md"), config, example / "out")
    page, errors, requests = open_page(browser, path)

    assert errors == []
    assert requests == [path.resolve().as_uri()]  # pictures are inline, nothing is fetched
    shown = page.eval_on_selector_all("section.card", "cards => cards.map(c => c.dataset.channel)")
    assert shown == list(config.channels)
    article = page.frame_locator("#channel-website iframe")
    assert article.locator("h1").inner_text().startswith("Pemkot Buka Layanan Adminduk")
    assert article.locator("figure img").evaluate("img => img.naturalWidth") > 0
    email = page.frame_locator("#channel-press iframe")
    assert "Baca selengkapnya" in email.locator("body").inner_text()
    assert len(page.locator("#content-hash").inner_text()) == 64

    # Frames outside the viewport are not painted: make the viewport as tall as the page.
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": height})
    screenshot = example / "preview.png"
    page.screenshot(path=str(screenshot), full_page=True)
    assert screenshot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    if update_golden:
        shutil.copy(screenshot, ROOT / "docs" / "preview.png")
    assert (ROOT / "docs" / "preview.png").is_file(), "run this test with --update-golden"
    page.close()


def test_unsent_channels_are_on_the_page_too(browser: Any, example: Path) -> None:
    config_path = example / "channels.yaml"  # the default one: Mastodon switched on, no token
    text = config_path.read_text(encoding="utf-8")
    switched_on = text.replace(
        "  mastodon:\n    type: mastodon\n    enabled: false\n", "  mastodon:\n    type: mastodon\n"
    )
    assert switched_on != text and "  telegram:\n    type: telegram\n    enabled: false\n" in text
    config_path.write_text(switched_on, encoding="utf-8")
    config = load_config(example / "channels.yaml")
    path = write_preview(Path("examples/release.md"), config, example / "out")
    page, errors, requests = open_page(browser, path)

    assert errors == [] and len(requests) == 1
    badges = page.eval_on_selector_all(
        "section.card",
        "cards => cards.map(c => [c.dataset.channel, c.querySelector('.badge').innerText])",
    )
    unsent = {channel.name for channel in config.channels.values() if not channel.ready}
    assert {"mastodon", "telegram"} <= unsent
    assert badges == [
        [name, "will not be sent" if name in unsent else "will be sent"] for name in config.channels
    ]
    assert "missing secret MASTODON_TOKEN" in page.locator("#checks").inner_text()
    page.close()


def test_the_page_speaks_the_officers_language(
    browser: Any, example: Path, update_golden: bool
) -> None:
    from chanpub.i18n import set_language

    config = load_config(example / "channels.yaml")
    set_language("id")
    try:
        path = write_preview(Path("examples/release.md"), config, example / "out")
    finally:
        set_language("en")
    page, errors, requests = open_page(browser, path)

    assert errors == [] and len(requests) == 1
    assert page.locator("#checks h2").inner_text() == "Periksa sebelum menyetujui"
    assert page.locator("#channel-website .badge").inner_text() == "akan dikirim"
    height = page.evaluate("document.documentElement.scrollHeight")
    page.set_viewport_size({"width": 1280, "height": height})
    page.screenshot(path=str(example / "preview-id.png"), full_page=True)
    if update_golden:  # the picture in docs/guide-officer.md
        shutil.copy(example / "preview-id.png", ROOT / "docs" / "preview-id.png")
    page.close()
