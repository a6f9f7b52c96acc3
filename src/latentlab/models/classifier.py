"""A multi-label CelebA attribute classifier: the project's judge of whether a latent edit worked.

Attribute editing is only as good as its effect on the picture. To measure it, the evaluation needs an
independent judge: a classifier trained on the *images* and the 40 CelebA labels of the training split, never on
the VAE's latents. It then reads, for a test face and its edit, whether the target attribute changed and how much the
other 39 moved (the measure of Shen et al., "Interpreting the Latent Space of GANs for Semantic Face Editing",
CVPR 2020, and of the attribute-classifier evaluations of Lample et al., "Fader Networks", NeurIPS 2017).

Architecture (≈1.3 M parameters)::

    x (B, 3, 64, 64) ─ 4 × [Conv 3×3 → BN → ReLU → Conv 3×3 stride 2 → BN → ReLU]  (32/64/128/256 filters)
                     ─ flatten (B, 256·4·4) → dropout → Linear → logits (B, 40)

Trained with binary cross-entropy per attribute (mean over attributes and batch) by the same loop as every model
(``training/train.py`` with ``model.type: attribute-classifier``), with random horizontal flips (every CelebA label
is unchanged by a mirror image).
"""

from __future__ import annotations

import torch
from torch import nn

from ..data import CELEBA_ATTRIBUTES
from .base import HubModel


class AttributeClassifier(
    nn.Module,
    HubModel,
    library_name="latentlab",
    tags=["image-classification", "celeba", "face-attributes", "multi-label"],
    repo_url="https://github.com/latent-lab/latentlab",
):
    """Multi-label attribute classifier for square face images.

    Args:
        in_channels: image channels C (3).
        image_size: square input side S in pixels (64); divisible by ``2 ** len(hidden_channels)``.
        hidden_channels: filters of each stage (one stride-1 and one stride-2 conv per stage).
        attribute_names: the K attribute names, in logit order (default: CelebA's 40, in file order).
        dropout: dropout probability before the linear head (training only).

    Raises:
        ValueError: sizes that do not fit, or no attribute names.

    Example::

        clf = AttributeClassifier.from_pretrained("pretrained/celeba-attribute-classifier")
        p = clf.predict_proba(images)          # images (B, 3, 64, 64) float in [0, 1] → (B, 40) in [0, 1]
        smiling = p[:, clf.index("Smiling")] > 0.5
    """

    model_type = "attribute-classifier"

    def __init__(
        self,
        in_channels: int = 3,
        image_size: int = 64,
        hidden_channels: list[int] | tuple[int, ...] = (32, 64, 128, 256),
        attribute_names: list[str] | tuple[str, ...] = CELEBA_ATTRIBUTES,
        dropout: float = 0.3,
    ):
        super().__init__()
        hidden_channels, attribute_names = list(hidden_channels), list(attribute_names)
        if not hidden_channels or min(hidden_channels) <= 0 or in_channels <= 0:
            raise ValueError("hidden_channels must be a non-empty list of positive filter counts")
        if image_size % (2 ** len(hidden_channels)) != 0:
            raise ValueError(f"image_size={image_size} is not divisible by 2**{len(hidden_channels)}")
        if not attribute_names:
            raise ValueError("attribute_names must name at least one attribute")
        self.in_channels, self.image_size = in_channels, image_size
        self.attribute_names = tuple(attribute_names)
        layers, prev = [], in_channels
        for c in hidden_channels:
            for stride in (1, 2):
                layers += [nn.Conv2d(prev, c, 3, stride=stride, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU()]
                prev = c
        self.features = nn.Sequential(*layers)
        side = image_size // 2 ** len(hidden_channels)
        self.head = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(prev * side * side, len(attribute_names)))

    def index(self, name: str) -> int:
        """Logit column of an attribute; raises ``KeyError`` listing the known names."""
        try:
            return self.attribute_names.index(name)
        except ValueError:
            raise KeyError(f"unknown attribute {name!r}; known: {', '.join(self.attribute_names)}") from None

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """Logits (B, K) float of images ``x`` (B, C, S, S) float in [0, 1]."""
        if x.ndim != 4 or tuple(x.shape[1:]) != (self.in_channels, self.image_size, self.image_size):
            raise ValueError(f"expected images (B, {self.in_channels}, {self.image_size}, {self.image_size}), "
                             f"got {tuple(x.shape)}")  # fmt: skip
        return self.head(self.features(x))

    @torch.no_grad()
    def predict_proba(self, x: torch.Tensor, batch_size: int = 512) -> torch.Tensor:
        """P(attribute | image), (B, K) float32 in [0, 1], in eval mode, ``batch_size`` images at a time."""
        was_training = self.training
        self.eval()
        out = torch.cat([torch.sigmoid(self(x[i : i + batch_size]).float()) for i in range(0, len(x), batch_size)])
        self.train(was_training)
        return out

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())
