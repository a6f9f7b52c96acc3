"""Latent-space operations: pure, batched tensor functions (no model, no UI).

Conventions: a latent batch ``z`` is a float tensor (B, D); an interpolation returns (B, T, D) for T frames.
Sources: linear/spherical interpolation — White, "Sampling Generative Networks" (2016), and Shoemake (1985) for
slerp; attribute vectors — *Generative Deep Learning*, 2nd ed., ch. 3 ("Latent space arithmetic"); decorrelated
directions (the paper's "conditional manipulation") — Shen, Gu, Tang & Zhou, "Interpreting the Latent Space of GANs
for Semantic Face Editing" (InterFaceGAN, CVPR 2020), sec. 2.2.
"""

from __future__ import annotations

import torch



def lerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor) -> torch.Tensor:
    """Linear interpolation ``(1 − t)·z0 + t·z1``.

    Args:
        z0, z1: (B, D) latents.
        t: (T,) fractions, 0 → ``z0``, 1 → ``z1``.

    Returns:
        (B, T, D); frame 0 equals ``z0`` and frame T−1 equals ``z1`` exactly when ``t`` starts at 0 and ends at 1.
    """
    t = t.to(z0.dtype).view(1, -1, 1)
    z0, z1 = z0.unsqueeze(1), z1.unsqueeze(1)
    return z0 + t * (z1 - z0)


def slerp(z0: torch.Tensor, z1: torch.Tensor, t: torch.Tensor, eps: float = 1e-7) -> torch.Tensor:
    """Spherical interpolation along the great circle between ``z0`` and ``z1`` (norms interpolated linearly).

    Under a Gaussian prior, points on the straight line between two samples have atypically small norms; slerp
    keeps them on the shell where the prior's mass lies (White, 2016). Falls back to :func:`lerp` for (anti)parallel
    pairs. Shapes as in :func:`lerp`; the end frames equal ``z0`` and ``z1``.
    """
    n0, n1 = z0.norm(dim=-1, keepdim=True), z1.norm(dim=-1, keepdim=True)
    u0, u1 = z0 / n0.clamp_min(eps), z1 / n1.clamp_min(eps)
    omega = torch.acos((u0 * u1).sum(-1, keepdim=True).clamp(-1 + eps, 1 - eps))  # (B, 1)
    tt = t.to(z0.dtype).view(1, -1, 1)
    so = torch.sin(omega).unsqueeze(1)  # (B, 1, 1)
    w0 = torch.sin((1 - tt) * omega.unsqueeze(1)) / so
    w1 = torch.sin(tt * omega.unsqueeze(1)) / so
    direction = w0 * u0.unsqueeze(1) + w1 * u1.unsqueeze(1)
    norm = n0.unsqueeze(1) + tt * (n1 - n0).unsqueeze(1)
    out = direction * norm
    parallel = (so.abs() < 1e-4).expand_as(out)
    return torch.where(parallel, lerp(z0, z1, t), out)


def morph(z_a: torch.Tensor, z_b: torch.Tensor, frames: int, method: str = "linear") -> torch.Tensor:
    """Evenly spaced latents from ``z_a`` to ``z_b``, both ends included.

    Args:
        z_a, z_b: (D,) or (B, D) latents (e.g. posterior means of two faces).
        frames: number of frames T ≥ 2.
        method: ``"linear"`` (lerp) or ``"spherical"`` (slerp).

    Returns:
        (T, D) for (D,) inputs, else (B, T, D). Frame 0 is exactly ``z_a``, frame T−1 exactly ``z_b``.

    Raises:
        ValueError: ``frames < 2``, unknown ``method`` or mismatched shapes.
    """
    if frames < 2:
        raise ValueError(f"frames must be at least 2 (both ends are included), got {frames}")
    if z_a.shape != z_b.shape:
        raise ValueError(f"z_a and z_b must have the same shape, got {tuple(z_a.shape)} and {tuple(z_b.shape)}")
    single = z_a.ndim == 1
    z_a, z_b = (z_a[None], z_b[None]) if single else (z_a, z_b)
    t = torch.linspace(0.0, 1.0, frames, device=z_a.device)
    if method == "linear":
        out = lerp(z_a, z_b, t)
    elif method == "spherical":
        out = slerp(z_a, z_b, t)
    else:
        raise ValueError(f"method must be 'linear' or 'spherical', got {method!r}")
    out[:, 0], out[:, -1] = z_a, z_b  # exact ends, whatever the float rounding
    return out[0] if single else out


def edit(z: torch.Tensor, directions: torch.Tensor, strengths) -> torch.Tensor:
    """Move latents along attribute directions: ``z + Σ_k strength_k · direction_k``.

    Args:
        z: (B, D) latents.
        directions: (K, D) attribute directions (or (D,) for one).
        strengths: scalar, (K,) one strength per direction, or (B, K) per latent. Strength 1 moves by one whole
            direction vector (for difference-of-means directions: the average gap between faces without and with
            the attribute); negative strengths remove the attribute.

    Returns:
        (B, D) edited latents.
    """
    directions = directions.reshape(-1, z.shape[-1]).to(z)
    strengths = torch.as_tensor(strengths, dtype=z.dtype, device=z.device)
    if strengths.ndim == 0:
        strengths = strengths.expand(directions.shape[0])
    return z + strengths @ directions if strengths.ndim == 2 else z + (strengths[:, None] * directions).sum(0)


def project_out(direction: torch.Tensor, keep: torch.Tensor, *, rescale: bool = True, rtol: float = 1e-6) -> torch.Tensor:
    """A decorrelated attribute direction: ``direction`` with its components along ``keep`` removed.

    InterFaceGAN's "conditional manipulation" (Shen et al., CVPR 2020, sec. 2.2): to change attribute A without
    changing attributes B, C, … that correlate with it in the data, move along the part of A's direction orthogonal
    to the span of theirs, ``d − P d`` with P the orthogonal projector onto span(keep). To first order the kept
    attributes' directions then see no movement. (InterFaceGAN uses unit normals of linear boundaries; the same
    projection applies to the difference-of-means directions used here.)

    Args:
        direction: (D,) or (K, D) directions to decorrelate.
        keep: (M, D) directions of the attributes to keep (or (D,) for one); M = 0 returns ``direction`` unchanged.
        rescale: give each result the norm of its input, so strength s still moves a face the same distance in
            latent space and edits compare at equal displacement (default); ``False`` keeps the projected length.
        rtol: singular values of ``keep`` below ``rtol`` × the largest count as zero (duplicate or dependent rows).

    Returns:
        Float tensor of ``direction``'s shape and dtype, orthogonal to every row of ``keep`` (up to rounding).

    Raises:
        ValueError: mismatched latent sizes, or a direction that lies (almost) inside span(keep), so nothing of it
            would be left to move along.
    """
    d = direction.reshape(-1, direction.shape[-1]).double()
    k = keep.reshape(-1, keep.shape[-1]).to(d) if keep.numel() else keep.reshape(0, d.shape[-1]).to(d)
    if k.shape[-1] != d.shape[-1]:
        raise ValueError(f"direction has latent size {d.shape[-1]}, keep has {k.shape[-1]}")
    if k.shape[0] == 0:
        return direction.clone()
    u, sv, _ = torch.linalg.svd(k.T, full_matrices=False)  # columns of u: an orthonormal basis of span(keep)
    basis = u[:, sv > rtol * sv.max()] if sv.max() > 0 else u[:, :0]
    residual = d - (d @ basis) @ basis.T
    norm_in, norm_out = d.norm(dim=-1, keepdim=True), residual.norm(dim=-1, keepdim=True)
    if bool((norm_out <= 1e-6 * norm_in.clamp_min(1e-30)).any()):
        raise ValueError("the direction lies inside the span of the directions to keep: nothing is left to move along")
    if rescale:
        residual = residual * (norm_in / norm_out)
    return residual.to(direction.dtype).reshape(direction.shape)


def independent_directions(directions: torch.Tensor, keep: torch.Tensor | None = None, *, axes: torch.Tensor | None = None,
                           rescale: bool = True, rtol: float = 1e-6) -> torch.Tensor:  # fmt: skip
    """Directions that move independently: each row with the span of the other rows' ``axes`` and of ``keep``
    projected out.

    For several attribute sliders applied together (InterFaceGAN's "conditional manipulation", Shen et al. 2020,
    applied to each direction in turn, :func:`project_out`): moving along row i then leaves, to first order, every
    other edited attribute and every kept attribute where it was, so each slider changes only its own attribute.

    Args:
        directions: (K, D) directions to edit along (K ≥ 1).
        keep: (M, D) directions of attributes to keep unchanged, or None / M = 0.
        axes: (K, D) what moving along another row must leave still for each edited attribute, e.g. their mean
            differences (:meth:`AttributeDirections.decorrelated`); default ``directions`` itself.
        rescale: give each result its input's norm (see :func:`project_out`).
        rtol: relative rank tolerance (see :func:`project_out`).

    Returns:
        (K, D) tensor of ``directions``' dtype; row i is orthogonal to every other row of ``axes`` and of ``keep``.

    Raises:
        ValueError: a direction lies (almost) inside the span of the others and the kept ones, or ``axes`` is not
            one row per direction.
    """
    directions = directions.reshape(-1, directions.shape[-1])
    keep = directions.new_zeros(0, directions.shape[-1]) if keep is None else keep.reshape(-1, directions.shape[-1]).to(directions)
    axes = directions if axes is None else axes.reshape(-1, axes.shape[-1]).to(directions)
    if axes.shape != directions.shape:
        raise ValueError(f"expected one axis per direction, {tuple(directions.shape)}; got {tuple(axes.shape)}")
    rows = []
    for i in range(directions.shape[0]):
        others = torch.cat([axes[:i], axes[i + 1 :], keep])
        rows.append(project_out(directions[i], others, rescale=rescale, rtol=rtol))
    return torch.stack(rows)


def sample(
    count: int, z_dim: int, *, seed: int | None = None, temperature: float = 1.0, device: str | torch.device = "cpu"
) -> torch.Tensor:
    """Draw ``count`` latents from the prior N(0, temperature² · I).

    Args:
        count: how many latents B.
        z_dim: latent size D.
        seed: the same seed gives the same latents (a private ``torch.Generator``; global RNG untouched).
        temperature: standard deviation scale (< 1 trades variety for typical, cleaner faces).

    Returns:
        (B, D) float32.

    Raises:
        ValueError: ``count < 1`` or ``temperature < 0``.
    """
    check_sample_args(count, temperature)
    return (torch.randn(count, z_dim, generator=seeded_generator(seed)) * temperature).to(device)


def check_sample_args(count: int, temperature: float) -> None:
    """Raise ValueError unless ``count ≥ 1`` and ``temperature ≥ 0`` (the arguments every prior's sampler takes)."""
    if count < 1:
        raise ValueError(f"count must be at least 1, got {count}")
    if temperature < 0:
        raise ValueError(f"temperature must be ≥ 0, got {temperature}")


def seeded_generator(seed: int | None) -> torch.Generator:
    """A private CPU ``torch.Generator``: seeded with ``seed``, or non-deterministically for ``None``, without
    touching the global RNG."""
    generator = torch.Generator(device="cpu")
    if seed is None:
        generator.seed()
    else:
        generator.manual_seed(int(seed))
    return generator


DIRECTION_METHODS = ("mean_difference", "regression")


def attribute_directions(z_mean: torch.Tensor, labels: torch.Tensor, method: str = "mean_difference",
                         shrinkage: float = 0.0) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:  # fmt: skip
    """Attribute directions from posterior means and 0/1 labels.

    ``method="mean_difference"`` (*Generative Deep Learning*, 2nd ed., ch. 3): m_k = mean(z | y_k = 1) − mean(z |
    y_k = 0). It carries everything that comes with the attribute in the data: CelebA's Goatee direction also makes a
    face male, because almost every face with a goatee is.

    ``method="regression"``: each attribute's effect with the other labels held fixed — the coefficients W of the
    multi-output least-squares fit z ≈ b + y·W of the posterior means on all K labels at once, the same
    "change one attribute, keep the others" aim as InterFaceGAN's "conditional manipulation" (Shen et al., CVPR 2020,
    sec. 2.2), but estimated jointly instead of by projection. ``shrinkage`` λ ≥ 0 is a ridge penalty relative to
    each label's variance, W = (C_yy + λ·diag C_yy)⁻¹ C_yz, which scales the labels' correlations by 1/(1 + λ):
    λ = 0 is plain least squares and λ → ∞ turns each row back into the mean-difference direction. Each row keeps the
    regression's orientation u_k = W_k/|W_k| and gets the length at which it moves a face along the attribute's own
    mean-difference axis by the whole gap, d_k = u_k·|m_k|² / ⟨u_k, m_k⟩: at strength 1 the attribute moves as far
    as with m_k, without the part that the other labels explain. A row whose regression points against or across
    its mean difference (⟨u_k, m_k⟩ ≤ 0.1·|m_k|: the labels cannot separate it, e.g. a duplicate label) falls back
    to m_k.

    Args:
        z_mean: (N, D) posterior means of N images.
        labels: (N, K) 0/1 labels of K attributes.
        method: one of :data:`DIRECTION_METHODS`.
        shrinkage: the ridge λ of ``"regression"`` (ignored by ``"mean_difference"``).

    Returns:
        ``(directions, positive_count, negative_count)``: (K, D) float32 directions and the (K,) int64 counts. An
        attribute with no positive or no negative example gets a zero direction.

    Raises:
        ValueError: mismatched shapes, an unknown method, or a negative shrinkage.
    """
    if z_mean.ndim != 2 or labels.ndim != 2 or z_mean.shape[0] != labels.shape[0]:
        raise ValueError(f"expected z_mean (N, D) and labels (N, K), got {tuple(z_mean.shape)}, {tuple(labels.shape)}")
    if method not in DIRECTION_METHODS:
        raise ValueError(f"unknown direction method {method!r}; known: {', '.join(DIRECTION_METHODS)}")
    if not shrinkage >= 0:
        raise ValueError(f"shrinkage must be ≥ 0, got {shrinkage}")
    z = z_mean.double()
    pos = labels.double()
    neg = 1.0 - pos
    n_pos, n_neg = pos.sum(0), neg.sum(0)
    mean_pos = (pos.T @ z) / n_pos.clamp_min(1)[:, None]
    mean_neg = (neg.T @ z) / n_neg.clamp_min(1)[:, None]
    varied = (n_pos > 0) & (n_neg > 0)
    directions = torch.where(varied[:, None], mean_pos - mean_neg, torch.zeros_like(mean_pos))
    if method == "regression" and bool(varied.any()):
        directions[varied] = _regression_rows(z, pos[:, varied], directions[varied], shrinkage)
    return directions.float(), n_pos.long(), n_neg.long()


def _regression_rows(z: torch.Tensor, y: torch.Tensor, mean_difference: torch.Tensor, shrinkage: float) -> torch.Tensor:
    """The ``"regression"`` rows of :func:`attribute_directions` for labels that vary (float64 in and out)."""
    y, z = y - y.mean(0), z - z.mean(0)
    c_yy, c_yz = y.T @ y / len(y), y.T @ z / len(y)
    weights = torch.linalg.lstsq(c_yy + shrinkage * torch.diag(torch.diag(c_yy)), c_yz).solution  # (K, D)
    unit = weights / weights.norm(dim=1, keepdim=True).clamp_min(1e-12)
    gap = mean_difference.norm(dim=1, keepdim=True)
    along = (unit * mean_difference).sum(1, keepdim=True)  # ⟨u_k, m_k⟩
    usable = along > 0.1 * gap
    return torch.where(usable, unit * gap**2 / along.clamp_min(1e-12), mean_difference)
