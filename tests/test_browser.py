"""The app in a real browser (Debian's Chromium driven by Playwright): the page renders every component, a click on
two example faces plus Morph shows the frames, and a non-image upload shows the short message.

Needs /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it). Without it the tests are skipped,
unless LATENTLAB_REQUIRE_BROWSER=1 (set by CI), where they fail.
"""

import os
import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    if os.environ.get("LATENTLAB_REQUIRE_BROWSER") == "1":
        raise RuntimeError("LATENTLAB_REQUIRE_BROWSER=1 but no chromium is installed (apt-get install chromium)")
    pytest.skip("chromium is not installed", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def page(served_app):
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])  # fmt: skip
        page = browser.new_page(viewport={"width": 1280, "height": 1400})
        page.goto(served_app, wait_until="networkidle")
        yield page
        browser.close()


def test_morph_from_example_faces(page):
    page.get_by_role("tab", name="Morph").click()
    examples = page.locator("button.gallery-item:visible")
    expect(examples).to_have_count(24, timeout=30_000)  # 12 test faces under each of face A and face B
    examples.nth(0).click()
    examples.nth(12 + 3).click()
    page.get_by_role("button", name="Morph", exact=True).click()
    strip = page.locator("img[alt*='reconstruction of A']")  # the output image is labelled by its component
    expect(strip.or_(page.locator("img[src*='image.png']")).first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)


def test_non_image_upload_shows_a_message(page, tmp_path):
    junk = tmp_path / "face.png"
    junk.write_text("definitely not a PNG")
    page.get_by_role("tab", name="Edit").click()
    page.get_by_role("tabpanel").locator("input[type=file]").first.set_input_files(str(junk))
    page.get_by_role("button", name="Edit", exact=True).click()
    expect(page.get_by_text("not an image we can read").first).to_be_visible(timeout=60_000)
