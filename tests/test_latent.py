import math

import pytest
import torch

from latentlab import latent


def test_morph_ends_are_exact_and_steps_even():
    torch.manual_seed(0)
    za, zb = torch.randn(200), torch.randn(200)
    for method in ("linear", "spherical"):
        path = latent.morph(za, zb, 16, method)
        assert path.shape == (16, 200)
        assert torch.equal(path[0], za) and torch.equal(path[-1], zb)
    lin = latent.morph(za, zb, 5)
    torch.testing.assert_close(lin[2], (za + zb) / 2)
    torch.testing.assert_close(lin[1] - lin[0], lin[4] - lin[3])


def test_morph_is_batched():
    za, zb = torch.randn(3, 8), torch.randn(3, 8)
    path = latent.morph(za, zb, 4, "spherical")
    assert path.shape == (3, 4, 8)
    torch.testing.assert_close(path[1], latent.morph(za[1], zb[1], 4, "spherical"))


def test_slerp_follows_the_great_circle():
    za, zb = torch.tensor([[1.0, 0.0]]), torch.tensor([[0.0, 2.0]])
    mid = latent.slerp(za, zb, torch.tensor([0.5]))[0, 0]
    angle = math.atan2(mid[1].item(), mid[0].item())
    assert angle == pytest.approx(math.pi / 4, abs=1e-5)
    assert mid.norm().item() == pytest.approx(1.5, abs=1e-5)  # norms interpolated linearly
    # parallel vectors fall back to lerp instead of dividing by sin(0)
    par = latent.slerp(za, 3 * za, torch.tensor([0.5]))
    torch.testing.assert_close(par[0, 0], torch.tensor([2.0, 0.0]))


def test_morph_rejects_bad_arguments():
    z = torch.zeros(4)
    with pytest.raises(ValueError, match="at least 2"):
        latent.morph(z, z, 1)
    with pytest.raises(ValueError, match="method"):
        latent.morph(z, z, 3, "cubic")
    with pytest.raises(ValueError, match="same shape"):
        latent.morph(z, torch.zeros(5), 3)


def test_edit_adds_weighted_directions():
    z = torch.zeros(2, 3)
    d = torch.tensor([[1.0, 0.0, 0.0], [0.0, 1.0, 0.0]])
    torch.testing.assert_close(latent.edit(z, d, [2.0, -1.0]), torch.tensor([[2.0, -1.0, 0.0]] * 2))
    torch.testing.assert_close(latent.edit(z, d[0], 0.5), torch.tensor([[0.5, 0.0, 0.0]] * 2))
    per_row = latent.edit(z, d, torch.tensor([[1.0, 0.0], [0.0, 3.0]]))
    torch.testing.assert_close(per_row, torch.tensor([[1.0, 0.0, 0.0], [0.0, 3.0, 0.0]]))


def test_sampling_is_reproducible_by_seed():
    a = latent.sample(36, 200, seed=7)
    assert a.shape == (36, 200) and a.dtype == torch.float32
    assert torch.equal(a, latent.sample(36, 200, seed=7))
    assert not torch.equal(a, latent.sample(36, 200, seed=8))
    torch.testing.assert_close(latent.sample(36, 200, seed=7, temperature=0.5), 0.5 * a)
    assert 0.9 < a.std().item() < 1.1
    with pytest.raises(ValueError):
        latent.sample(0, 200)


def test_attribute_directions_recover_a_planted_shift():
    torch.manual_seed(0)
    n, d = 4000, 16
    labels = torch.randint(0, 2, (n, 2))
    shift = torch.zeros(2, d)
    shift[0, 3], shift[1, 5] = 2.0, -1.5
    z = torch.randn(n, d) + labels.float() @ shift
    directions, n_pos, n_neg = latent.attribute_directions(z, labels)
    assert directions.shape == (2, d)
    torch.testing.assert_close(directions, shift, atol=0.15, rtol=0)
    assert torch.equal(n_pos + n_neg, torch.tensor([n, n]))
    # an attribute that never occurs gets a zero direction, not NaN
    zero, _, _ = latent.attribute_directions(z, torch.zeros(n, 1, dtype=torch.long))
    assert torch.equal(zero, torch.zeros(1, d))


def _confounded(n=20000, d=8, seed=0):
    """Two correlated labels: "beard" is almost only present with "male"; each moves its own latent axis."""
    g = torch.Generator().manual_seed(seed)
    male = (torch.rand(n, generator=g) < 0.4).long()
    beard = male * (torch.rand(n, generator=g) < 0.5).long()
    labels = torch.stack([male, beard], 1)
    effect = torch.zeros(2, d)
    effect[0, 0], effect[1, 1] = 2.0, 1.0
    return torch.randn(n, d, generator=g) * 0.5 + labels.float() @ effect, labels, effect


def test_regression_directions_leave_out_what_correlated_labels_explain():
    z, labels, effect = _confounded()
    plain, _, _ = latent.attribute_directions(z, labels)
    regression, n_pos, n_neg = latent.attribute_directions(z, labels, "regression")
    assert regression.shape == plain.shape and regression.dtype == torch.float32
    # the mean difference of "beard" drags "male" along (beard faces are all male); the regression's does not
    assert plain[1, 0].item() > 1.0
    assert abs(regression[1, 0].item()) < 0.05
    torch.testing.assert_close(regression[1] / regression[1].norm(), effect[1] / effect[1].norm(), atol=0.03, rtol=0)
    # its length moves a face along the beard's mean-difference axis by the whole gap
    along = (regression * plain).sum(1) / plain.norm(dim=1)
    torch.testing.assert_close(along, plain.norm(dim=1), rtol=1e-4, atol=0)
    assert torch.equal(n_pos, labels.sum(0)) and torch.equal(n_neg, len(z) - labels.sum(0))
    # ridge shrinkage moves each row from the regression's orientation towards the mean difference
    cosine = torch.nn.functional.cosine_similarity
    cos = [cosine(latent.attribute_directions(z, labels, "regression", lam)[0][1], plain[1], dim=0).item()
           for lam in (0.0, 1.0, 1e6)]  # fmt: skip
    assert cos[0] < cos[1] < cos[2] and cos[2] == pytest.approx(1.0, abs=1e-4)


def test_regression_directions_handle_degenerate_labels_and_refuse_bad_arguments():
    z, labels, _ = _confounded(n=4000)
    labels = torch.cat([labels, labels[:, :1], torch.zeros(len(z), 1, dtype=torch.long)], 1)  # a duplicate, a never
    plain, _, _ = latent.attribute_directions(z, labels)
    regression, _, _ = latent.attribute_directions(z, labels, "regression")
    assert torch.isfinite(regression).all()
    assert torch.equal(regression[3], torch.zeros(z.shape[1]))  # never present: zero, as with the mean difference
    # "male" and its duplicate cannot be told apart: both get the same direction, male's effect without beard's
    torch.testing.assert_close(regression[0], regression[2], atol=1e-4, rtol=0)
    assert torch.nn.functional.cosine_similarity(regression[0], torch.eye(z.shape[1])[0], dim=0).item() > 0.99
    # a label whose own effect is nearly across its mean difference (here: almost nothing but "male") keeps m_k,
    # instead of a direction stretched many times over to reach the mean-difference gap
    male, echo = labels[:, 0], labels[:, 0] * (torch.rand(len(z), generator=torch.Generator().manual_seed(1)) < 0.9)
    z2 = torch.zeros(len(z), 2)
    z2[:, 0], z2[:, 1] = 2.0 * male, 0.05 * echo
    pair = torch.stack([male, echo.long()], 1)
    fallback, _, _ = latent.attribute_directions(z2, pair, "regression")
    assert torch.equal(fallback[1], latent.attribute_directions(z2, pair)[0][1])
    with pytest.raises(ValueError, match="unknown direction method"):
        latent.attribute_directions(z, labels, "lda")
    with pytest.raises(ValueError, match="shrinkage"):
        latent.attribute_directions(z, labels, "regression", -1.0)


def test_project_out_removes_the_kept_directions():
    g = torch.Generator().manual_seed(0)
    d, keep = torch.randn(16, generator=g), torch.randn(3, 16, generator=g)
    out = latent.project_out(d, keep)
    assert out.shape == d.shape and out.dtype == d.dtype
    torch.testing.assert_close(keep @ out, torch.zeros(3), atol=1e-5, rtol=0)  # orthogonal to every kept direction
    assert out.norm().item() == pytest.approx(d.norm().item(), rel=1e-6)  # rescaled to the input's norm
    short = latent.project_out(d, keep, rescale=False)
    torch.testing.assert_close(short / short.norm(), out / out.norm())
    assert short.norm() < d.norm()
    # by hand in 3-d: removing e2 from (1, 1, 0) leaves e1 (rescaled to √2 unless asked not to)
    e = torch.eye(3)
    torch.testing.assert_close(latent.project_out(e[0] + e[1], e[1], rescale=False), e[0])
    torch.testing.assert_close(latent.project_out(e[0] + e[1], e[1]), e[0] * math.sqrt(2))
    # dependent kept rows (a duplicate) are the same span; nothing kept changes nothing; batches work
    torch.testing.assert_close(latent.project_out(d, torch.cat([keep, keep[:1] * 2])), out, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(latent.project_out(d, torch.zeros(0, 16)), d)
    both = latent.project_out(torch.stack([d, 2 * d]), keep)
    torch.testing.assert_close(both[0], out)
    torch.testing.assert_close(both[1], 2 * out)


def test_project_out_refuses_a_direction_inside_the_kept_span():
    keep = torch.eye(4)[:2]
    with pytest.raises(ValueError, match="span"):
        latent.project_out(torch.tensor([1.0, -2.0, 0.0, 0.0]), keep)
    with pytest.raises(ValueError, match="latent size"):
        latent.project_out(torch.ones(4), torch.ones(1, 5))


def test_independent_directions_are_orthogonal_to_the_others_and_the_kept():
    g = torch.Generator().manual_seed(3)
    base = torch.randn(3, 16, generator=g)
    directions = base + 0.8 * base[[1, 2, 0]]  # correlated with each other
    keep = torch.randn(2, 16, generator=g)
    moved = latent.independent_directions(directions, keep)
    assert moved.shape == directions.shape
    for i in range(3):
        others = torch.cat([directions[torch.arange(3) != i], keep])
        assert (others @ moved[i]).abs().max() < 1e-4 * moved[i].norm()  # nothing along the others or the kept
    torch.testing.assert_close(moved.norm(dim=1), directions.norm(dim=1))  # rescaled to the inputs' norms
    # one direction alone and nothing kept is unchanged; with rescale=False the projected length is kept
    torch.testing.assert_close(latent.independent_directions(directions[:1]), directions[:1])
    assert (latent.independent_directions(directions, keep, rescale=False).norm(dim=1) < directions.norm(dim=1)).all()


def test_independent_directions_keep_the_other_rows_axes_still():
    g = torch.Generator().manual_seed(4)
    directions, axes, keep = torch.randn(3, 16, generator=g), torch.randn(3, 16, generator=g), torch.randn(1, 16, generator=g)
    moved = latent.independent_directions(directions, keep, axes=axes)
    for i in range(3):
        others = torch.cat([axes[torch.arange(3) != i], keep])
        assert (others @ moved[i]).abs().max() < 1e-4 * moved[i].norm()  # nothing along the other rows' axes
        assert (directions[torch.arange(3) != i] @ moved[i]).abs().max() > 1e-2  # the directions themselves: not asked
    with pytest.raises(ValueError, match="one axis per direction"):
        latent.independent_directions(directions, keep, axes=axes[:2])


def test_independent_directions_refuse_a_direction_inside_the_others():
    a, b = torch.randn(2, 8, generator=torch.Generator().manual_seed(0))
    with pytest.raises(ValueError, match="inside the span"):
        latent.independent_directions(torch.stack([a, b, a + b]))
