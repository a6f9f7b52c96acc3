"""The app in a real browser (Debian's Chromium driven by Playwright): the page renders every component, a click on
two example faces plus Morph shows the frames, uploaded photos are aligned (the crop is shown; a group photo offers
its faces by number and by a click on a face; a photo without a face gets the message once, clears what was shown
and is logged as one line), and a non-image upload shows the short message.

Needs /usr/bin/chromium (`apt-get install chromium`; .ci/run installs it). Without it the tests are skipped,
unless LATENTLAB_REQUIRE_BROWSER=1 (set by CI), where they fail.
"""

import os
import shutil

import pytest
from PIL import Image

from .conftest import FACES
from latentlab.scenes import background, group_photo, place_face

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
if not os.path.exists(CHROMIUM):
    if os.environ.get("LATENTLAB_REQUIRE_BROWSER") == "1":
        raise RuntimeError("LATENTLAB_REQUIRE_BROWSER=1 but no chromium is installed (apt-get install chromium)")
    pytest.skip("chromium is not installed", allow_module_level=True)

from playwright.sync_api import expect, sync_playwright  # noqa: E402


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
            "--no-first-run", "--disable-sync"])  # fmt: skip
        yield browser
        browser.close()


@pytest.fixture
def page(browser, served_app):
    """A fresh page per test, so one test's error toasts cannot leak into the next."""
    page = browser.new_page(viewport={"width": 1280, "height": 1400})
    page.goto(served_app, wait_until="networkidle")
    yield page
    page.close()


def _shots(tmp_path) -> str:
    """Where screenshots go: ``$LATENTLAB_SCREENSHOTS``, else the test's tmp folder."""
    shots = os.environ.get("LATENTLAB_SCREENSHOTS") or str(tmp_path)
    os.makedirs(shots, exist_ok=True)
    return shots


def pick_two_example_faces(page):
    """Morph tab: click the first test face under face A and the fourth under face B, and wait until both inputs
    show their face (an example click loads the file from the server: Morph before that finds an empty input)."""
    page.get_by_role("tab", name="Faces").click()
    page.get_by_role("tab", name="Morph").click()
    examples = page.locator("button.gallery-item:visible")
    expect(examples).to_have_count(24, timeout=30_000)  # 12 test faces under each of face A and face B
    examples.nth(0).click()
    examples.nth(12 + 3).click()
    for key in ("face-a", "face-b"):
        expect(page.locator(f"#{key}-photo img")).to_be_visible(timeout=30_000)
        expect(page.locator(f"#{key}-crop img")).to_be_visible(timeout=30_000)  # the aligned preview: as it is


def test_morph_from_example_faces(page):
    pick_two_example_faces(page)
    page.get_by_role("button", name="Morph", exact=True).click()
    expect(page.locator("#morph-frames img")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)


def test_non_image_upload_shows_a_message(page, tmp_path):
    """A text file renamed .png, dropped into a face input: one message, and the box is emptied (no broken-image
    icon left in it); the same in the Novelty tab's upload."""
    junk = tmp_path / "face.png"
    junk.write_text("definitely not a PNG")
    page.get_by_role("tab", name="Faces").click()
    page.get_by_role("tab", name="Edit").click()
    page.get_by_role("tabpanel").last.locator("input[type=file]").first.set_input_files(str(junk))
    expect(page.get_by_text("not an image we can read").first).to_be_visible(timeout=60_000)
    expect(page.get_by_text("not an image we can read")).to_have_count(1)
    expect(page.locator("#edit-face-photo img")).to_have_count(0)
    expect(page.locator("#edit-face-photo input[type=file]")).to_have_count(1)  # an empty box, ready again
    page.get_by_role("button", name="Edit", exact=True).click()
    expect(page.get_by_text("Face is empty: upload a photo").first).to_be_visible(timeout=60_000)

    page.get_by_role("tab", name="Digits & clothes").click()
    page.get_by_role("tab", name="Novelty").click()
    panel = page.get_by_role("tabpanel").last
    panel.locator("input[type=file]").first.set_input_files(str(junk))
    expect(page.get_by_text("not an image we can read")).to_have_count(2, timeout=60_000)  # one more toast
    expect(page.locator("#novelty-upload img")).to_have_count(0)


def _overlaps(page, selector: str) -> list[str]:
    """Pictures in ``selector`` that a label or an icon button is drawn over: "label: box" for each."""
    return page.evaluate("""(selector) => {
        const hits = [];
        const inter = (a, b) => a.left < b.right - 1 && b.left < a.right - 1 && a.top < b.bottom - 1 && b.top < a.bottom - 1;
        for (const block of document.querySelectorAll(selector)) {
            const img = block.querySelector('img');
            if (!img || !img.getBoundingClientRect().height) continue;
            const r = img.getBoundingClientRect();
            for (const over of block.querySelectorAll('label.float, .icon-button-wrapper')) {
                const o = over.getBoundingClientRect();
                if (o.height && inter(r, o)) hits.push(block.innerText.split('\\n')[0] + ': ' + over.className);
            }
        }
        return hits;
    }""", selector)


def test_no_label_or_button_covers_a_picture(page):
    """Digit rows, charts and morph strips are drawn without Gradio's floating label or icon buttons over them."""
    page.get_by_role("tab", name="Digits & clothes").click()
    for tab, button in [("Conditional", "Generate"), ("Novelty", "Score")]:
        page.get_by_role("tab", name=tab).click()
        panel = page.get_by_role("tabpanel").last
        page.get_by_role("button", name=button, exact=True).click()
        expect(panel.locator("img").first).to_be_visible(timeout=60_000)
        page.wait_for_timeout(500)
        assert panel.locator("img").count() >= 2
        assert not _overlaps(page, ".block:has(img)"), _overlaps(page, ".block:has(img)")
    pick_two_example_faces(page)
    _set_slider(page.get_by_role("tabpanel").last, "Frames (both ends included)", 32)
    page.get_by_role("button", name="Morph", exact=True).click()
    expect(page.locator("#morph-frames img")).to_be_visible(timeout=60_000)
    strip = page.locator("#morph-frames img")
    natural, shown = strip.evaluate("e => [e.naturalHeight, e.getBoundingClientRect().height]")
    assert shown >= 4 * 60  # 32 frames wrap into 4 rows of 8, each shown about a face high
    assert not _overlaps(page, "#morph-frames"), _overlaps(page, "#morph-frames")


def test_sampled_faces_arrive_at_native_size_and_are_shown_enlarged_with_crisp_pixels(page):
    page.get_by_role("tab", name="Faces").click()
    page.get_by_role("tab", name="Sample").click()
    page.get_by_role("button", name="Sample", exact=True).click()
    grid = page.locator("#sample-grid img")
    expect(grid).to_be_visible(timeout=60_000)
    natural, shown, rendering = grid.evaluate(
        "e => [e.naturalWidth, e.getBoundingClientRect().width, getComputedStyle(e).imageRendering]")
    assert natural == 6 * 66 + 2  # 36 faces of 64 px, sent as they are decoded
    assert shown >= 1.9 * natural and rendering == "pixelated"  # the page enlarges them, nearest-neighbour


def test_clicking_the_latent_scatter_decodes_that_point(page):
    page.get_by_role("tab", name="Digits & clothes").click()
    page.get_by_role("tab", name="Latent plane").click()
    scatter = page.locator("#plane-scatter img")  # shown as the page opens
    expect(scatter).to_be_visible(timeout=60_000)
    page.wait_for_function("() => { const e = document.querySelector('#plane-scatter img');"
                           " return e && e.complete && e.naturalWidth > 0 }")
    x_box = page.locator("input[type=number][aria-label*='z[0]']:visible").first  # the slider's number box
    assert float(x_box.input_value()) == 0.0
    box = scatter.bounding_box()
    page.mouse.click(box["x"] + 0.2 * box["width"], box["y"] + 0.3 * box["height"])  # upper left of the plot
    expect(x_box).not_to_have_value("0", timeout=30_000)
    assert float(x_box.input_value()) < 0  # left of the axes' middle → negative z[0]
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)


def test_decorrelated_edit_from_the_keep_menu(page):
    """Edit tab: pick an example face, choose Blond_Hair and 'keep unchanged: Male' in the multiselect, Edit."""
    page.get_by_role("tab", name="Faces").click()
    page.get_by_role("tab", name="Edit").click()
    panel = page.get_by_role("tabpanel").last
    panel.locator("button.gallery-item:visible").first.click()  # the first test face
    attribute = panel.get_by_label("Attribute", exact=True)
    attribute.click()
    attribute.fill("Blond_Hair")
    attribute.press("Enter")  # the one option left by the filter
    attribute.press("Escape")
    keep = panel.get_by_label("Keep unchanged", exact=True)
    keep.click()
    keep.fill("Male")
    keep.press("Enter")
    keep.press("Escape")
    expect(panel.locator("div.token")).to_have_text(["Male"])  # the one chosen token of the multiselect
    page.get_by_role("button", name="Edit", exact=True).click()
    expect(page.locator("#edit-comparison img")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)


def test_switching_the_face_model_changes_the_morph(page, tmp_path):
    """Faces tab: morph two example faces with our model (the default), then with the sharp decoder of the same
    latent space, then with the book's model: other frames come back each time. Screenshots of the states are kept
    under ``$LATENTLAB_SCREENSHOTS`` (default: the test's tmp folder)."""
    shots = _shots(tmp_path)
    pick_two_example_faces(page)
    expect(page.get_by_label("celeba-vae-64 (ours, MSE-trained decoder: soft)")).to_be_checked()  # the default
    page.get_by_role("button", name="Morph", exact=True).click()
    strip = page.locator("#morph-frames img")
    expect(strip).to_be_visible(timeout=60_000)
    first = strip.get_attribute("src")
    page.screenshot(path=os.path.join(shots, "morph-ours.png"), full_page=True)
    page.get_by_label("celeba-vae-64-sharp (ours, decoder trained against a discriminator: sharp)").check()
    page.get_by_role("button", name="Morph", exact=True).click()
    expect(strip).not_to_have_attribute("src", first, timeout=60_000)
    sharp = strip.get_attribute("src")
    page.screenshot(path=os.path.join(shots, "morph-sharp.png"), full_page=True)
    page.get_by_label("celeba-vae-64-book (the book's VAE, ch. 3)").check()
    page.get_by_role("button", name="Morph", exact=True).click()
    expect(strip).not_to_have_attribute("src", sharp, timeout=60_000)
    page.screenshot(path=os.path.join(shots, "morph-book.png"), full_page=True)
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)


def test_uploaded_photos_are_aligned_then_morphed(page, tmp_path):
    """Morph tab: upload two photos with a face somewhere in them (rotated, enlarged); each input shows the aligned
    crop and the faces found; Morph runs on the crops. Screenshot: ``morph-uploads.png``."""
    paths = []
    for i, (face, angle, centre) in enumerate([(FACES[0], 20, (300, 250)), (FACES[5], -15, (520, 330))]):
        photo, _ = place_face(Image.open(face), scale=3.5, angle=angle, centre=centre, seed=i)
        paths.append(tmp_path / f"photo_{i}.jpg")
        photo.save(paths[-1], quality=92)
    page.get_by_role("tab", name="Faces").click()
    page.get_by_role("tab", name="Morph").click()
    for key, path in zip(("face-a", "face-b"), paths):
        page.locator(f"#{key}-photo input[type=file]").set_input_files(str(path))
        expect(page.locator(f"#{key}-crop img")).to_be_visible(timeout=60_000)
        expect(page.locator(f"#{key}-found img")).to_be_visible(timeout=60_000)
    page.get_by_role("button", name="Morph", exact=True).click()
    expect(page.locator("#morph-frames img")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)
    page.screenshot(path=os.path.join(_shots(tmp_path), "morph-uploads.png"), full_page=True)


def upload_group_photo_to_edit(page, tmp_path, background_seed: int):
    """Edit tab: upload a 1000×700 photo of two test faces (the larger at (700, 380), the smaller at (250, 300));
    also writes ``landscape.jpg``, a photo without a face, beside it."""
    photo = group_photo([(Image.open(FACES[2]), 2.5, (250, 300)), (Image.open(FACES[7]), 4.0, (700, 380))], seed=6)
    photo.save(tmp_path / "group.jpg", quality=92)
    background((800, 600), background_seed).save(tmp_path / "landscape.jpg")
    page.get_by_role("tab", name="Faces").click()
    page.get_by_role("tab", name="Edit").click()
    page.locator("#edit-face-photo input[type=file]").set_input_files(str(tmp_path / "group.jpg"))


def test_a_group_photo_offers_its_faces_and_a_photo_without_one_gets_the_message(page, tmp_path):
    """Edit tab: a two-face photo shows the face-number box; face 2 changes the aligned crop; Edit works on it. Then a
    photo without a face: the "No face found" message, and the app keeps answering. Screenshot: ``edit-group.png``."""
    upload_group_photo_to_edit(page, tmp_path, background_seed=3)
    number = page.locator("#edit-face-number input[type=number]")
    expect(number).to_be_visible(timeout=60_000)
    crop = page.locator("#edit-face-crop img")
    expect(crop).to_be_visible(timeout=60_000)
    largest = crop.get_attribute("src")
    number.fill("2")
    number.press("Enter")
    expect(crop).not_to_have_attribute("src", largest, timeout=60_000)
    page.get_by_role("button", name="Edit", exact=True).click()
    expect(page.locator("#edit-comparison img")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)
    page.screenshot(path=os.path.join(_shots(tmp_path), "edit-group.png"), full_page=True)
    page.locator("#edit-face-photo input[type=file]").set_input_files(str(tmp_path / "landscape.jpg"))
    expect(page.get_by_text("No face found — try a frontal photo").first).to_be_visible(timeout=60_000)
    expect(number).to_be_hidden(timeout=30_000)  # the group photo's face-number box goes with it
    page.screenshot(path=os.path.join(_shots(tmp_path), "edit-no-face.png"), full_page=True)


def _click_at(page, image, x: float, y: float):
    """Click a shown picture (a locator of its ``img``) at (x, y) of its own pixels (the page may show it smaller)."""
    box = image.bounding_box()
    natural = image.evaluate("img => [img.naturalWidth, img.naturalHeight]")
    # object-fit: contain — the picture is scaled to fit the box and centred in it
    scale = min(box["width"] / natural[0], box["height"] / natural[1])
    left = box["x"] + (box["width"] - natural[0] * scale) / 2
    top = box["y"] + (box["height"] - natural[1] * scale) / 2
    page.mouse.click(left + x * scale, top + y * scale)


def test_a_click_on_a_face_picks_it_one_toast_per_error_and_old_results_go(page, tmp_path, served):
    """Edit tab: a two-face photo; a click on the smaller face in "Faces found" makes it the face (its number
    shows 2, the crop changes) and clears the edit made before; a photo without a face then shows its message
    once, clears the preview, and the server logs it as one line without a traceback. Screenshot:
    ``edit-click-to-pick.png``."""
    _, log = served
    upload_group_photo_to_edit(page, tmp_path, background_seed=4)
    crop, found = page.locator("#edit-face-crop img"), page.locator("#edit-face-found img")
    expect(found).to_be_visible(timeout=60_000)
    expect(page.locator("#edit-face-number input[type=number]")).to_have_value("1", timeout=30_000)
    largest = crop.get_attribute("src")
    page.get_by_role("button", name="Edit", exact=True).click()
    comparison = page.locator("#edit-comparison img")
    expect(comparison).to_be_visible(timeout=60_000)
    scale = 768 / 1000  # "Faces found" is the 1000×700 photo at 768 px
    _click_at(page, found, 250 * scale, 300 * scale)  # the smaller face: number 2
    expect(page.locator("#edit-face-number input[type=number]")).to_have_value("2", timeout=60_000)
    expect(crop).not_to_have_attribute("src", largest, timeout=60_000)
    expect(comparison).to_have_count(0, timeout=30_000)  # the edit of face 1 is gone
    page.locator("#edit-face-found").scroll_into_view_if_needed()
    page.screenshot(path=os.path.join(_shots(tmp_path), "edit-click-to-pick.png"), full_page=True)
    logged = len(log)
    page.locator("#edit-face-photo input[type=file]").set_input_files(str(tmp_path / "landscape.jpg"))
    toasts = page.locator(".toast-body", has_text="No face found — try a frontal photo")
    expect(toasts.first).to_be_visible(timeout=60_000)
    page.wait_for_timeout(2_000)  # a second toast would have come by now
    expect(toasts).to_have_count(1)
    expect(crop).to_have_count(0)
    expect(found).to_have_count(0)
    printed = "".join(log[logged:])
    assert "Traceback" not in printed
    lines = [line for line in printed.splitlines() if "No face found" in line]
    assert len(lines) == 1 and "latentlab.app: No face found: Face: No face found" in lines[0], printed
    # an example face brings its preview back; clearing the input takes it away
    page.get_by_role("tabpanel").last.locator("button.gallery-item:visible").nth(1).click()
    expect(crop).to_be_visible(timeout=60_000)
    page.locator("#edit-face-photo").get_by_role("button", name="Remove Image").click()
    expect(crop).to_have_count(0, timeout=30_000)


def _set_slider(panel, label: str, value: float):
    """Type a value into a Gradio slider's number box (the way a user sets it exactly) and commit it."""
    box = panel.locator(f"input[type=number][aria-label='number input for {label}']")
    if not box.count():
        box = panel.get_by_label(label, exact=True).locator("xpath=..").locator("input[type=number]")
    box.first.fill(str(value))
    box.first.press("Enter")


def test_several_sliders_at_once(page, tmp_path):
    """Edit tab: pick an example face, set three sliders (Smiling, Young, Eyeglasses); the edits mapping shows all
    three; Apply all gives the edited face. Screenshot: ``edit-many.png``."""
    page.get_by_role("tab", name="Faces").click()
    page.get_by_role("tab", name="Edit").click()
    panel = page.get_by_role("tabpanel").last
    panel.locator("button.gallery-item:visible").nth(2).click()
    expect(page.locator("#edit-face-crop img")).to_be_visible(timeout=30_000)
    for label, value in [("Smiling", 1.5), ("Young", -1), ("Eyeglasses", 2)]:
        _set_slider(panel, label, value)
    edits = page.locator("#edit-many-edits")
    for text in ("Smiling", "Young", "Eyeglasses"):
        expect(edits).to_contain_text(text, timeout=30_000)
    page.get_by_role("button", name="Apply all", exact=True).click()
    expect(page.locator("#edit-many-result img")).to_be_visible(timeout=60_000)
    expect(page.locator("#edit-many-comparison img")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)
    page.locator("#edit-many-edits").scroll_into_view_if_needed()
    page.screenshot(path=os.path.join(_shots(tmp_path), "edit-many.png"), full_page=True)


def test_screenshots_of_every_tab(page, tmp_path):
    """One picture of each tab after using it, as the README shows them (JPEG, 1280 px wide). Regenerate the
    README's with ``LATENTLAB_SCREENSHOTS=docs/screenshots python -m pytest tests/test_browser.py -k screenshots``."""
    shots = _shots(tmp_path)

    def shot(name: str, anchor):
        anchor.scroll_into_view_if_needed()
        page.wait_for_timeout(300)  # let images finish painting
        page.screenshot(path=os.path.join(shots, f"{name}.jpg"), type="jpeg", quality=80, full_page=True)

    pick_two_example_faces(page)
    page.get_by_role("button", name="Morph", exact=True).click()
    expect(page.locator("#morph-gif img")).to_be_visible(timeout=60_000)
    shot("faces-morph", page.locator("#morph-frames"))

    page.get_by_role("tab", name="Edit").click()
    panel = page.get_by_role("tabpanel").last
    panel.locator("button.gallery-item:visible").nth(2).click()
    expect(page.locator("#edit-face-crop img")).to_be_visible(timeout=30_000)
    page.get_by_role("button", name="Edit", exact=True).click()
    expect(page.locator("#edit-comparison img")).to_be_visible(timeout=60_000)
    expect(page.locator("#edit-slider img")).to_have_count(2, timeout=60_000)  # before / after: both pictures shown
    for label, value in [("Smiling", 1.5), ("Young", -1), ("Eyeglasses", 2)]:
        _set_slider(panel, label, value)
    expect(page.locator("#edit-many-edits")).to_contain_text("Eyeglasses", timeout=30_000)
    page.get_by_role("button", name="Apply all", exact=True).click()
    expect(page.locator("#edit-many-result img")).to_be_visible(timeout=60_000)
    shot("faces-edit", page.locator("#edit-comparison"))

    photo, _ = place_face(Image.open(FACES[5]), size=(900, 600), scale=3.5, angle=-20, centre=(560, 280), seed=11)
    photo.save(tmp_path / "photo.jpg", quality=92)
    page.get_by_role("tab", name="Align").click()
    panel = page.get_by_role("tabpanel").last
    panel.locator("input[type=file]").first.set_input_files(str(tmp_path / "photo.jpg"))
    page.get_by_role("button", name="Align", exact=True).click()
    expect(panel.locator("img")).to_have_count(3, timeout=60_000)  # the photo, the crop, the marked photo
    shot("faces-align", panel)

    page.get_by_role("tab", name="Sample").click()
    page.get_by_role("button", name="Sample", exact=True).click()
    expect(page.get_by_text("Sampled from")).to_be_visible(timeout=60_000)
    shot("faces-sample", page.get_by_text("Sampled from"))

    page.get_by_role("tab", name="Digits & clothes").click()
    for tab, button in [("Latent plane", "Decode"), ("Interpolate", "Interpolate"), ("Conditional", "Generate"),
                        ("Novelty", "Score")]:  # fmt: skip
        page.get_by_role("tab", name=tab).click()
        panel = page.get_by_role("tabpanel").last
        page.get_by_role("button", name=button, exact=True).click()
        expect(panel.locator("img").first).to_be_visible(timeout=60_000)
        page.wait_for_timeout(500)
        shot("digits-" + tab.lower().replace(" ", "-"), panel)
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)
    assert len([f for f in os.listdir(shots) if f.endswith(".jpg")]) >= 8


def test_old_and_new_digit_models_side_by_side(page, tmp_path):
    """Conditional tab: one test digit's style drawn as the asked digit by the conditional AE and the conditional
    VAE; Novelty tab: a noisy 0 scored by the plain and the denoising autoencoder at once. Screenshots:
    ``conditional-side-by-side.png``, ``novelty-side-by-side.png``."""
    page.get_by_role("tab", name="Digits & clothes").click()
    page.get_by_role("tab", name="Conditional").click()
    page.get_by_role("button", name="Draw with both", exact=True).click()
    expect(page.locator("#cond-compare img")).to_be_visible(timeout=60_000)
    page.locator("#cond-compare").scroll_into_view_if_needed()
    page.screenshot(path=os.path.join(_shots(tmp_path), "conditional-side-by-side.png"), full_page=True)
    page.get_by_role("tab", name="Novelty").click()
    panel = page.get_by_role("tabpanel").last
    panel.get_by_label("gaussian").check()
    page.get_by_role("button", name="Score", exact=True).click()
    for k in (0, 1):
        expect(page.locator(f"#novelty-pair-{k} img")).to_be_visible(timeout=60_000)
    expect(panel.get_by_text("higher than")).to_have_count(2, timeout=30_000)  # one verdict per model
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)
    page.screenshot(path=os.path.join(_shots(tmp_path), "novelty-side-by-side.png"), full_page=True)


def test_an_uploaded_close_up_keeps_its_person_and_the_box_turns_the_tuning_off(page, tmp_path):
    """Edit tab: a close-up photo (a held-out test face filling the frame) is edited with the decoder fitted to it
    (the default), then again with "Keep the person" unticked: the reconstruction changes, and the fitted one is
    the closer to the aligned photo."""
    import io

    import numpy as np

    from latentlab.scenes import close_up

    close_up(Image.open(FACES[8]), 0.7, 640).save(tmp_path / "close-up.jpg", quality=92)
    page.get_by_role("tab", name="Faces").click()
    page.get_by_role("tab", name="Edit").click()
    panel = page.get_by_role("tabpanel").last
    panel.locator("input[type=file]").first.set_input_files(str(tmp_path / "close-up.jpg"))
    expect(page.locator("#edit-face-crop img")).to_be_visible(timeout=30_000)
    keep_person = page.locator("#edit-keep-person input[type=checkbox]")
    expect(keep_person).to_be_checked()

    def reconstruction_and_crop():
        """The comparison's reconstruction and original panels as the page shows them (3× enlarged, 2-px gaps)."""
        img = page.locator("#edit-comparison img")
        expect(img).to_be_visible(timeout=90_000)
        src = img.get_attribute("src")
        data = page.request.get(src if src.startswith("http") else page.url.rstrip("/") + src).body()
        with Image.open(io.BytesIO(data)) as im:
            rgb = np.asarray(im.convert("RGB"), np.float64)
        return rgb[6:198, 204:396], rgb[6:198, 6:198]

    page.get_by_role("button", name="Edit", exact=True).click()
    tuned, crop = reconstruction_and_crop()
    keep_person.uncheck()
    old = page.locator("#edit-comparison img").get_attribute("src")
    page.get_by_role("button", name="Edit", exact=True).click()
    expect(page.locator("#edit-comparison img")).not_to_have_attribute("src", old, timeout=60_000)
    plain, _ = reconstruction_and_crop()
    assert np.mean((tuned - crop) ** 2) * 3 < np.mean((plain - crop) ** 2)
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)


def test_a_new_photo_in_align_starts_again_from_its_largest_face(page, tmp_path):
    """Align tab: face 2 of a two-face photo, then a one-face photo and Align: its face, not "Face 2 was asked for"."""
    photo = group_photo([(Image.open(FACES[2]), 2.5, (250, 300)), (Image.open(FACES[7]), 4.0, (700, 380))], seed=6)
    photo.save(tmp_path / "group.jpg", quality=92)
    place_face(Image.open(FACES[4]), size=(800, 600), scale=4.0, seed=2)[0].save(tmp_path / "one.jpg", quality=92)
    page.get_by_role("tab", name="Faces").click()
    page.get_by_role("tab", name="Align").click()
    number = page.locator("#align-number input[type=number]")
    page.locator("#align-photo input[type=file]").set_input_files(str(tmp_path / "group.jpg"))
    number.fill("2")
    page.get_by_role("button", name="Align", exact=True).click()
    expect(page.locator("#align-crop img")).to_be_visible(timeout=60_000)
    page.locator("#align-photo input[type=file]").set_input_files(str(tmp_path / "one.jpg"))
    expect(number).to_have_value("1", timeout=30_000)
    page.get_by_role("button", name="Align", exact=True).click()
    expect(page.locator("#align-crop img")).to_be_visible(timeout=60_000)
    expect(page.get_by_text("was asked for")).to_have_count(0)
    expect(page.get_by_text("Error", exact=True)).to_have_count(0)


def test_first_load_explains_itself_and_the_examples_show_what_they_say(page):
    """What a new user sees before pressing anything: the face model choice says a switch clears the results, the
    latent plane already shows its scatter plot, and the Edit examples table shows every column's header in full,
    with the keep-Male pair of one face."""
    expect(page.get_by_text("Switching clears the results shown on every Faces tab").first).to_be_visible()
    page.get_by_role("tab", name="Faces").click()
    page.get_by_role("tab", name="Edit").click()
    table = page.get_by_role("tabpanel").last.locator("table").first
    expect(table).to_be_visible(timeout=30_000)
    headers = table.locator("th")
    assert [h.strip() for h in headers.all_inner_texts()] == ["Face", "Attribute", "Strength", "Keep unchanged"]
    cut = headers.evaluate_all("hs => hs.filter(h => h.scrollWidth > h.clientWidth + 1).map(h => h.innerText)")
    assert not cut, cut
    expect(table.get_by_text("Heavy_Makeup")).to_have_count(2)
    page.get_by_role("tab", name="Digits & clothes").click()
    page.get_by_role("tab", name="Latent plane").click()
    scatter = page.locator("#plane-scatter img")
    expect(scatter).to_be_visible(timeout=30_000)  # no Decode pressed
    assert scatter.evaluate("e => e.naturalWidth") > 200
