"""The repository as a Hugging Face Space: README front matter, requirements, and the bundled models' cards."""

import json
import re
import tomllib
from pathlib import Path

import gradio
import pytest
from huggingface_hub import ModelCard, SpaceCard

REPO = Path(__file__).resolve().parents[1]

FOLDERS = sorted(p for p in (REPO / "pretrained").iterdir() if (p / "config.json").is_file())


def pyproject_dependencies() -> dict[str, str]:
    deps = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]["dependencies"]
    return {re.split(r"[<>=!~ ]", d, maxsplit=1)[0].lower(): d.replace(" ", "") for d in deps}


def test_front_matter_is_a_valid_gradio_space():
    card = SpaceCard.load(REPO / "README.md")
    data = card.data
    assert data.sdk == "gradio" and data.app_file == "app.py" and (REPO / data.app_file).is_file()
    # the Space runs the gradio the project pins and tests with
    assert data.sdk_version == gradio.__version__
    assert pyproject_dependencies()["gradio[mcp]"] == f"gradio[mcp]=={data.sdk_version}"  # with the MCP server's
    assert data.python_version == "3.11" and data.title and data.license
    emoji, short = data.to_dict()["emoji"], data.to_dict()["short_description"]
    assert emoji and 0 < len(short) <= 60  # the Hub's limit for short_description
    # models: the Hub ids of exactly the bundled folders (the app's defaults under LATENTLAB_HUB_OWNER)
    assert sorted(data.models) == sorted(f"latent-lab/{p.name}" for p in FOLDERS)
    # the face models are downloaded while the Space is built, not at its first start (served from the Hub)
    from latentlab.ui import BUNDLED_FACE_MODELS

    assert data.to_dict()["preload_from_hub"] == [f"latent-lab/{name}" for name in BUNDLED_FACE_MODELS]
    # the README's top is still the two commands
    body = card.text.lstrip()
    assert body.startswith("# Latent Lab") and body.count("```bash") >= 2
    commands = re.findall(r"```bash\n(.*?)\n```", body, flags=re.S)[:2]
    assert commands[0].endswith("python app.py") and commands[1].endswith("python -m pytest")


def test_requirements_match_pyproject():
    """A Space installs requirements.txt, the README's commands install pyproject.toml: the same pins."""
    lines = [ln.split("#")[0].strip() for ln in (REPO / "requirements.txt").read_text().splitlines()]
    reqs = {re.split(r"[<>=!~ ]", ln, maxsplit=1)[0].lower(): ln.replace(" ", "") for ln in lines
            if ln and not ln.startswith("-")}  # fmt: skip
    assert reqs == pyproject_dependencies()
    assert "torchvision" not in reqs


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_bundled_card_is_generated_from_the_record(folder):
    """Each bundled card is exactly what model_card.py renders from the folder's record, with every field."""
    from latentlab.training.model_card import card_is_generated, render_model_card

    text = (folder / "README.md").read_text(encoding="utf-8")
    assert text == render_model_card(folder), f"{folder.name}: card is stale; run training/model_card.py {folder}"
    assert card_is_generated(text) and not card_is_generated(text.replace("## Intended use", "## Uses"))
    record = json.loads((folder / "training_log.json").read_text())
    card = ModelCard.load(folder / "README.md")
    assert card.data.license and card.data.eval_results, "license and model-index results"
    assert card.data.model_name == folder.name
    generative = json.loads((folder / "config.json").read_text()).get("model_type") != "attribute-classifier"
    for needed in ("## Intended use", "Out of scope", "## How to use", f'"latent-lab/{folder.name}"',
                   f"{record['parameters']:,} parameters", record["command"], "## Training", "min on",
                   "## Pictures" if generative else "## Test accuracy", "## Limitations"):  # fmt: skip
        assert needed in text, f"{folder.name}: card lacks {needed!r}"
    images = re.findall(r"!\[[^\]]*\]\(([^)]+)\)", text)
    if generative:
        assert "reconstructions.png" in images and "samples.png" in images
    for image in images:
        assert (folder / image).is_file(), f"{folder.name}: card shows {image}, which is not in the folder"
    terms = {"celeba": "non-commercial", "mnist": "CC BY-SA 3.0", "fashion-mnist": "MIT"}
    assert terms[record["config"]["data"].get("name", "celeba")] in text


def test_face_card_explains_directions_and_biases():
    text = (REPO / "pretrained" / "celeba-vae-64" / "README.md").read_text(encoding="utf-8")
    assert 'attribute_directions["Smiling"]' in text and "attribute_directions.safetensors" in text
    assert "Limitations and biases" in text and "label" in text and "light-skinned" in text


@pytest.mark.parametrize("folder", FOLDERS, ids=lambda p: p.name)
def test_a_fine_tune_names_its_base_model_for_the_hub(folder):
    """``huggingface_hub`` reads ``base_model`` (the Hub's model tree) from every card of a model that started from
    another bundled model's weights, as its record's chain says; none for one trained from scratch or from an
    earlier version of itself."""
    data = ModelCard.load(folder / "README.md").data
    record = json.loads((folder / "training_log.json").read_text())
    source = record.get("initialized_from") or record.get("frozen_from")
    expected = f"latent-lab/{source['name']}" if source and source["name"] != folder.name else None
    assert data.base_model == expected
    assert data.to_dict().get("base_model_relation") == ("finetune" if expected else None)
    if folder.name == "celeba-vae-64-sharp":  # the decoder trained against a discriminator under the default's encoder
        assert data.base_model == "latent-lab/celeba-vae-64"
