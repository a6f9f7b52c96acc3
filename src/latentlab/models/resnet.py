"""A residual convolutional VAE: the project's face model recipe, beside the book's :mod:`.conv` model.

Architecture (defaults: 64×64 RGB, widths 32/64/128/128/256, one residual block per level, ≈7.3 M parameters)::

    x (B, 3, 64, 64) ─ Conv 3×3 → w₀
      ─ per level i: ResBlock(→ wᵢ) × blocks_per_level, then Conv 3×3 stride 2 (not after the last level)
      ─ GroupNorm → SiLU → flatten (B, w₋₁ · 4 · 4) → Dense → mean (B, z_dim), Dense → logvar (B, z_dim)
    z ─ Dense → (B, d₋₁, 4, 4)               (dᵢ: decoder_widths, by default the same as widths)
      ─ per level, widest first: ResBlock(→ dᵢ) × blocks_per_level, then nearest ×2 upsampling + Conv 3×3
      ─ GroupNorm → SiLU → Conv 3×3 → 3 channels → sigmoid

    ResBlock(c_in → c): h = Conv3×3(SiLU(GN(x))); h = Conv3×3(SiLU(GN(h))); return skip(x) + h
    (skip = identity, or a 1×1 conv when c_in ≠ c)

This is the encoder/decoder layout of the latent-diffusion autoencoder (Rombach et al., "High-Resolution Image
Synthesis with Latent Diffusion Models", CVPR 2022; pre-activation residual blocks of He et al. 2016, GroupNorm of
Wu & He 2018, SiLU), without attention and with a dense bottleneck, so the latent is one vector ``z`` that can be
morphed, edited and sampled like the book's. The decoder doubles the resolution by nearest-neighbour upsampling and
a convolution (no checkerboard artifacts: Odena, Dumoulin & Olah, Distill 2016), computed without materialising
the upsampled tensor (:func:`upsample_conv`, 2.25× fewer multiply-adds for those layers, same result). GroupNorm,
unlike BatchNorm, makes every image's output independent of the rest of its batch, in training and in the app alike.

Trained as a σ-VAE (``decoder_variance="optimal"``, Rybkin et al. 2021; see :mod:`latentlab.objectives`), see
``training/configs/celeba_vae_64.yaml``.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from .autoencoder import SpatialAutoencoder


def group_norm(channels: int) -> nn.GroupNorm:
    """GroupNorm with up to 32 groups of at least 4 channels (32 channels → 8 groups, ≥ 128 → 32)."""
    return nn.GroupNorm(max(1, min(32, channels // 4)), channels, eps=1e-6)


def upsample_conv(x: torch.Tensor, conv: nn.Conv2d) -> torch.Tensor:
    """``conv(nearest_upsample_2x(x))`` for a 3×3, padding-1, stride-1 ``conv``, without the upsampled tensor.

    Each output pixel (2i + a, 2j + b) of phase (a, b) ∈ {0, 1}² sees only 2×2 input pixels, so the four phases are
    one 2×2 convolution of ``x`` (padding 1, 4 × C_out channels, kernels summed from ``conv``'s taps) whose outputs
    are interleaved: 16 instead of 36 multiply-adds per input pixel and channel pair, the same result up to float
    rounding (the sub-pixel view of resize-convolutions: Shi et al., CVPR 2016; Odena et al., Distill 2016).
    Differentiable; works for any memory format (returns channels_last when ``x`` is).

    Args:
        x: (B, C_in, H, W) float tensor.
        conv: ``nn.Conv2d(C_in, C_out, 3, padding=1)``.

    Returns:
        (B, C_out, 2H, 2W), equal to ``conv(F.interpolate(x, scale_factor=2, mode="nearest"))``.
    """
    b, _, h, w = x.shape
    out_channels = conv.out_channels
    kernel, bias = _phase_kernel(conv)
    y = F.conv2d(x, kernel, bias, padding=1)  # (B, 4·C_out, H+1, W+1); phase (a, b) is valid on [a:a+H, b:b+W]
    y = y.permute(0, 2, 3, 1).reshape(b, h + 1, w + 1, 2, 2, out_channels)  # a view for channels_last
    out = y.new_empty(b, h, 2, w, 2, out_channels)
    for a in (0, 1):
        for c in (0, 1):
            out[:, :, a, :, c] = y[:, a : a + h, c : c + w, a, c]
    out = out.view(b, 2 * h, 2 * w, out_channels).permute(0, 3, 1, 2)  # channels_last (B, C_out, 2H, 2W)
    return out if x.is_contiguous(memory_format=torch.channels_last) else out.contiguous()


def _phase_kernel(conv: nn.Conv2d) -> tuple[torch.Tensor, torch.Tensor | None]:
    """The (4·C_out, C_in, 2, 2) kernel and (4·C_out,) bias of :func:`upsample_conv`, phases (a, b) in that order.
    Without autograd (the app, evaluation) they are kept on the module until its weights change."""
    weight, bias = conv.weight, conv.bias
    key = (weight.data_ptr(), weight._version, weight.dtype, weight.device,
           None if bias is None else (bias.data_ptr(), bias._version))  # fmt: skip
    cached = getattr(conv, "_phase_kernel_cache", None)
    if not torch.is_grad_enabled() and cached is not None and cached[0] == key:
        return cached[1], cached[2]
    # rows combined by the taps of phase a, columns by those of phase b: two sums of 3×3 taps into 2×2
    rows = [torch.stack([weight[:, :, 0], weight[:, :, 1] + weight[:, :, 2]], 2),
            torch.stack([weight[:, :, 0] + weight[:, :, 1], weight[:, :, 2]], 2)]  # fmt: skip
    kernel = torch.cat([torch.stack(cols, -1) for r in rows
                        for cols in ((r[..., 0], r[..., 1] + r[..., 2]), (r[..., 0] + r[..., 1], r[..., 2]))])  # fmt: skip
    bias = None if bias is None else bias.repeat(4)
    if not torch.is_grad_enabled():
        conv._phase_kernel_cache = (key, kernel, bias)
    return kernel, bias


def _is_upsample_conv(upsample: nn.Module, conv: nn.Module) -> bool:
    return (isinstance(upsample, nn.Upsample) and upsample.mode == "nearest" and upsample.size is None
            and upsample.scale_factor in (2, 2.0, (2, 2), (2.0, 2.0)) and isinstance(conv, nn.Conv2d)
            and conv.kernel_size == (3, 3) and conv.stride == (1, 1) and conv.padding == (1, 1)
            and conv.dilation == (1, 1) and conv.groups == 1 and conv.padding_mode == "zeros")  # fmt: skip


class Decoder(nn.Sequential):
    """``nn.Sequential`` that runs each ``nn.Upsample(×2, nearest) → nn.Conv2d(3×3, padding 1)`` pair as one
    :func:`upsample_conv`. Same layers, same parameter names and the same outputs as the plain ``nn.Sequential``
    (float rounding aside), so weights saved from either load into the other.

    ``fuse_upsampling = False`` runs the plain layers instead: when training on a few images at a time (pivotal
    tuning of one face, :mod:`latentlab.pivotal`), building the phase kernels and the backward pass of their
    interleaving cost more than the multiply-adds they save (≈ 1.4× slower per step at 1–3 images on a 2-core CPU).
    """

    fuse_upsampling = True

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not self.fuse_upsampling:
            return super().forward(x)
        layers = list(self)
        i = 0
        while i < len(layers):
            if i + 1 < len(layers) and _is_upsample_conv(layers[i], layers[i + 1]):
                x = upsample_conv(x, layers[i + 1])
                i += 2
            else:
                x = layers[i](x)
                i += 1
        return x


class ResBlock(nn.Module):
    """Pre-activation residual block: ``skip(x) + Conv(SiLU(GN(Conv(SiLU(GN(x))))))``, (B, c_in, H, W) → (B, c, H, W)."""

    def __init__(self, in_channels: int, channels: int):
        super().__init__()
        self.body = nn.Sequential(
            group_norm(in_channels), nn.SiLU(), nn.Conv2d(in_channels, channels, 3, padding=1),
            group_norm(channels), nn.SiLU(), nn.Conv2d(channels, channels, 3, padding=1),
        )  # fmt: skip
        self.skip = nn.Identity() if in_channels == channels else nn.Conv2d(in_channels, channels, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.skip(x) + self.body(x)


class ResNetAutoencoder(
    SpatialAutoencoder,
    library_name="latentlab",
    tags=["autoencoder", "vae", "image-generation", "latent-space", "celeba"],
    repo_url="https://github.com/latent-lab/latentlab",
):
    """Residual convolutional (variational) autoencoder with a vector latent — the project's face VAE.

    Same API as every Latent Lab model (``encode``/``decode``/``forward``, strict
    ``from_pretrained``); every choice is an ``__init__`` argument recorded in ``config.json``.

    Args:
        in_channels: image channels C (3 for RGB faces).
        image_size: square input side H = W in pixels; divisible by ``2 ** (len(widths) - 1)`` (× 2 with
            ``stem_stride=2``).
        widths: channels of each resolution level, highest resolution first (one stride-2 conv between levels).
        blocks_per_level: residual blocks at each level of the encoder (and of the decoder, unless
            ``decoder_blocks_per_level`` is given).
        decoder_blocks_per_level: residual blocks at each level of the decoder (default: ``blocks_per_level``).
        decoder_widths: channels of each decoder level, highest resolution first (default: ``widths``); a narrower
            decoder is a cheaper morph / sample (the decoder runs once per output face, the encoder once per photo).
        stem_stride: 1, or 2 to halve the image in the stem convolution, so the first level runs at H/2 and the
            full resolution only sees the stem and the output convolution (3.6× cheaper on an AVX2 CPU at 64 px;
            the shipped face model).
        z_dim: latent size.
        variational: a VAE (``mean``/``logvar`` heads) or a plain autoencoder.
        num_classes: > 0 makes the model conditional (one-hot label maps beside the image; label joined to ``z``).

    Raises:
        ValueError: ``image_size`` not divisible by the total downsampling, sizes not positive, ``decoder_widths``
            not one positive width per level, or ``stem_stride`` not 1 or 2.

    Example::

        vae = load_pretrained("pretrained/celeba-vae-64")   # picks this class from config.json
        z = vae.encode(images).mode()                       # images: (B, 3, 64, 64) float in [0, 1] → (B, z_dim)
        faces = vae.decode(z)                               # (B, 3, 64, 64) float in [0, 1]
    """

    model_type = "resnet"

    def __init__(
        self,
        in_channels: int = 3,
        image_size: int = 64,
        widths: list[int] | tuple[int, ...] = (32, 64, 128, 128, 256),
        blocks_per_level: int = 1,
        decoder_blocks_per_level: int | None = None,
        decoder_widths: list[int] | tuple[int, ...] | None = None,
        stem_stride: int = 1,
        z_dim: int = 200,
        variational: bool = True,
        num_classes: int = 0,
    ):
        super().__init__()
        widths = list(widths)
        decoder_widths = widths if decoder_widths is None else list(decoder_widths)
        decoder_blocks = blocks_per_level if decoder_blocks_per_level is None else decoder_blocks_per_level
        if not widths or min(widths) <= 0 or min(blocks_per_level, decoder_blocks) < 1:
            raise ValueError("widths must be a non-empty list of positive channel counts, blocks per level ≥ 1")
        if len(decoder_widths) != len(widths) or min(decoder_widths) <= 0:
            raise ValueError(f"decoder_widths must be {len(widths)} positive channel counts (one per level of widths), "
                             f"got {decoder_widths}")
        if stem_stride not in (1, 2):
            raise ValueError(f"stem_stride must be 1 or 2, got {stem_stride}")
        halvings = len(widths) - 1 + (stem_stride == 2)
        down = 2**halvings
        if image_size % down != 0:
            raise ValueError(f"image_size={image_size} is not divisible by 2**{halvings} (one halving per level)")
        self._init_family((in_channels, image_size, image_size), z_dim, variational, num_classes)

        layers: list[nn.Module] = [nn.Conv2d(in_channels + num_classes, widths[0], 3, stride=stem_stride, padding=1)]
        prev = widths[0]
        for i, w in enumerate(widths):
            for _ in range(blocks_per_level):
                layers.append(ResBlock(prev, w))
                prev = w
            if i < len(widths) - 1:
                layers.append(nn.Conv2d(w, w, 3, stride=2, padding=1))
        layers += [group_norm(prev), nn.SiLU()]
        self.encoder = nn.Sequential(*layers)
        side = image_size // down
        self._init_heads(prev * side * side)

        prev = decoder_widths[-1]
        self._bottleneck = (prev, side, side)  # the decoder's input
        self.decoder_input = nn.Linear(z_dim + num_classes, prev * side * side)
        layers = []
        for i, w in enumerate(reversed(decoder_widths)):
            for _ in range(decoder_blocks):
                layers.append(ResBlock(prev, w))
                prev = w
            if i < len(widths) - 1:
                layers += [nn.Upsample(scale_factor=2, mode="nearest"), nn.Conv2d(w, w, 3, padding=1)]
        layers += [group_norm(prev), nn.SiLU()]
        if stem_stride == 2:  # the stem's halving undone at the output: the full resolution has only this conv
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
        layers.append(nn.Conv2d(prev, in_channels, 3, padding=1))
        self.decoder = Decoder(*layers)
