"""Does a conditional digit model draw the digit it is asked for? Measured in real styles, by an independent judge.

    python training/evaluate_conditional.py pretrained/mnist-cond-ae-2 pretrained/mnist-cond-ae-5 \\
        pretrained/mnist-cond-vae-2 pretrained/mnist-cond-vae-5

The judge is a small MLP (784 → 256 → 10) trained here on the 60,000 MNIST training digits (3 epochs, Adam 1e-3,
seed 0) — never on any model's drawings. The styles are the latents of the first 500 MNIST test digits, each
encoded with its own label and decoded as every digit 0–9 (:func:`latentlab.analysis.asked_label_accuracy`). Each
folder gets ``conditional_evaluation.json`` and its card is re-rendered with the numbers.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import torch
from torch import nn

from latentlab.analysis import asked_label_accuracy
from latentlab.data import load_mnist
from latentlab.models import load_pretrained

from .model_card import command_line, write_model_card

STYLES = 500


def train_judge(seed: int = 0) -> tuple[nn.Module, float]:
    """The MLP judge and its accuracy on the 10,000 MNIST test digits."""
    torch.manual_seed(seed)
    train = load_mnist("mnist", "train")
    net = nn.Sequential(nn.Flatten(), nn.Linear(784, 256), nn.ReLU(), nn.Linear(256, 10))
    optimizer = torch.optim.Adam(net.parameters(), lr=1e-3)
    x, y = train.float_images(), train.labels
    for _ in range(3):
        for idx in torch.randperm(len(x)).split(128):
            loss = nn.functional.cross_entropy(net(x[idx]), y[idx])
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
    net.eval()
    test = load_mnist("mnist", "test")
    with torch.no_grad():
        accuracy = float((net(test.float_images()).argmax(1) == test.labels).float().mean())
    return net, accuracy


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folders", nargs="+", type=Path, help="conditional MNIST model folders")
    args = parser.parse_args()
    judge, judge_accuracy = train_judge()
    styles = load_mnist("mnist", "test").subset(slice(0, STYLES))
    command = command_line(__file__)
    for folder in args.folders:
        model = load_pretrained(str(folder)).eval()
        shares = asked_label_accuracy(model, judge, styles.float_images(), styles.labels)
        result = {"command": command, "styles": STYLES, "per_label": shares, "mean": sum(shares) / len(shares),
                  "judge": {"model": "MLP 784-256-10, ReLU", "trained_on": "MNIST train (60,000), 3 epochs, Adam 1e-3, seed 0",
                            "test_accuracy": judge_accuracy}}  # fmt: skip
        (folder / "conditional_evaluation.json").write_text(json.dumps(result, indent=1))
        write_model_card(folder)
        print(f"{folder.name}: asked digit drawn {100 * result['mean']:.1f}% ({', '.join(f'{100 * a:.0f}' for a in shares)})")
