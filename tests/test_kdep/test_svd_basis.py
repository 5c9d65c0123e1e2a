# Copyright (c) mmsd contributors. All rights reserved.
import pytest
import torch

from mmsd.kdep import SVDBasis


def features(num: int = 120, dim: int = 12, seed: int = 0) -> torch.Tensor:
    """Off-centre features with well separated singular values."""
    gen = torch.Generator().manual_seed(seed)
    scales = torch.linspace(4.0, 0.2, dim)
    rotation, _ = torch.linalg.qr(torch.randn(dim, dim, generator=gen))
    base = torch.randn(num, dim, generator=gen) * scales
    return base @ rotation.t() + 3.0


def independent_svd(feats: torch.Tensor):
    centred = feats.double() - feats.double().mean(dim=0)
    u, s, vh = torch.linalg.svd(centred, full_matrices=False)
    return centred, u, s, vh


def test_basis_matches_torch_svd_of_centred_features():
    feats = features()
    basis = SVDBasis.compute(feats, k=5)
    _, _, s, vh = independent_svd(feats)
    torch.testing.assert_close(basis.mean, feats.mean(dim=0))
    torch.testing.assert_close(basis.singular_values, s[:5].float())
    assert basis.components.shape == (5, 12)
    signs = torch.sign((basis.components.double() * vh[:5]).sum(dim=1))
    assert torch.all(signs.abs() == 1)
    torch.testing.assert_close(
        basis.components.double(),
        vh[:5] * signs[:, None],
        atol=1e-5,
        rtol=1e-5)
    assert int(basis.num_samples) == 120


def test_projection_gives_the_top_k_principal_components():
    feats = features()
    basis = SVDBasis.compute(feats, k=4)
    centred, u, s, vh = independent_svd(feats)
    projected = basis.project(feats).double()
    principal = u[:, :4] * s[:4]  # == centred @ vh[:4].T
    torch.testing.assert_close(principal, centred @ vh[:4].t())
    signs = torch.sign((projected * principal).sum(dim=0))
    torch.testing.assert_close(
        projected, principal * signs, atol=1e-4, rtol=1e-4)
    # Uncorrelated components with decreasing variance.
    cov = projected.t() @ projected
    torch.testing.assert_close(cov, torch.diag(s[:4]**2), atol=1e-2, rtol=1e-4)


def test_sign_convention_is_deterministic():
    feats = features()
    basis = SVDBasis.compute(feats, k=6)
    components = basis.components
    pivots = components.abs().argmax(dim=1)
    assert torch.all(components[torch.arange(6), pivots] > 0)
    shuffled = SVDBasis.compute(feats[torch.randperm(120)], k=6)
    torch.testing.assert_close(
        shuffled.components, components, atol=1e-5, rtol=1e-5)


def test_save_and_load_tensors_only(tmp_path):
    basis = SVDBasis.compute(features(), k=3)
    path = str(tmp_path / 'sub' / 'basis.pth')
    basis.save(path)
    raw = torch.load(path, weights_only=True)
    assert set(raw) == {'mean', 'components', 'singular_values', 'num_samples'}
    loaded = SVDBasis.load(path)
    assert loaded.filename == path and (loaded.k, loaded.dim) == (3, 12)
    for key, value in basis.state_dict().items():
        torch.testing.assert_close(getattr(loaded, key), value)
        torch.testing.assert_close(raw[key], value)
    assert not list(tmp_path.glob('sub/*.tmp*'))


def test_missing_file_names_the_path_and_the_fix(tmp_path):
    path = str(tmp_path / 'nope.pth')
    with pytest.raises(FileNotFoundError, match='nope.pth') as err:
        SVDBasis.load(path)
    assert 'tools/compute_svd_basis.py' in str(err.value)
    assert 'SVDBasisHook' in str(err.value)


def test_invalid_files_are_rejected(tmp_path):
    bad = str(tmp_path / 'bad.pth')
    torch.save(dict(mean=torch.zeros(4)), bad)
    with pytest.raises(ValueError, match=r"bad.pth' lacks \['components'"):
        SVDBasis.load(bad)
    torch.save(
        dict(
            mean=torch.zeros(4),
            components=torch.zeros(2, 5),
            singular_values=torch.zeros(2)), bad)
    with pytest.raises(ValueError, match='inconsistent shapes'):
        SVDBasis.load(bad)
    text = tmp_path / 'text.pth'
    text.write_text('not a basis')
    with pytest.raises(ValueError, match='Cannot read the SVD basis'):
        SVDBasis.load(str(text))


def test_k_must_fit_the_features():
    with pytest.raises(ValueError, match='k=13 must be in'):
        SVDBasis.compute(features(dim=12), k=13)
    with pytest.raises(ValueError, match='needs more than 8 samples'):
        SVDBasis.compute(features(num=8), k=8)
    nan = features()
    nan[0, 0] = float('nan')
    with pytest.raises(ValueError, match='not finite'):
        SVDBasis.compute(nan, k=2)
