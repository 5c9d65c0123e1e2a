# Copyright (c) mmsd contributors. All rights reserved.
"""Non-parametric dimension alignment of KDEP: an SVD basis of the teacher's
features, computed once and stored as a tensors-only file.

The basis of ``N`` teacher features ``F`` (``N x D``) is the mean ``mu``
(``D``), the top-``k`` right singular vectors ``V_k`` of ``F - mu``
(``components``, ``k x D``) and the singular values. A teacher feature is
aligned to a ``k``-wide student by ``(f - mu) @ V_k.T``: its top-``k``
principal components.
"""
import os.path as osp
from typing import Dict, Optional

import torch

from mmsd.utils import atomic_save

BASIS_KEYS = ('mean', 'components', 'singular_values')


def compute_svd_basis(features: torch.Tensor,
                      k: int) -> Dict[str, torch.Tensor]:
    """Centre ``features`` and keep their top-``k`` right singular vectors.

    The SVD runs in float64 and each component's sign is fixed so that its
    entry of largest magnitude is positive, so that the same features always
    give the same file.

    Args:
        features (Tensor): Teacher features ``(N, D)``.
        k (int): Number of components, the student's feature width.

    Returns:
        dict[str, Tensor]: ``mean`` ``(D,)``, ``components`` ``(k, D)`` and
        ``singular_values`` ``(k,)``, in float32, plus ``num_samples`` (a
        0-d int64 tensor).
    """
    if features.dim() != 2:
        raise ValueError('compute_svd_basis: features must be (N, D), got '
                         f'shape {tuple(features.shape)}.')
    num, dim = features.shape
    if not 0 < k <= dim:
        raise ValueError(f'compute_svd_basis: k={k} must be in [1, {dim}], '
                         f'the teacher feature width.')
    if num <= k:
        raise ValueError(f'compute_svd_basis: {num} features give at most '
                         f'{num - 1} principal directions after centring; '
                         f'k={k} needs more than {k} samples.')
    if not torch.isfinite(features).all():
        raise ValueError('compute_svd_basis: the features are not finite.')
    features = features.detach().to('cpu', torch.float64)
    mean = features.mean(dim=0)
    _, singular_values, vh = torch.linalg.svd(
        features - mean, full_matrices=False)
    components = vh[:k]
    pivots = components.abs().argmax(dim=1, keepdim=True)
    signs = torch.sign(components.gather(1, pivots))
    components = components * signs
    return dict(
        mean=mean.float(),
        components=components.float().contiguous(),
        singular_values=singular_values[:k].float().contiguous(),
        num_samples=torch.tensor(num, dtype=torch.int64))


def project(features: torch.Tensor, basis: Dict[str,
                                                torch.Tensor]) -> torch.Tensor:
    """Top-``k`` principal components ``(f - mean) @ components.T``.

    Args:
        features (Tensor): Features ``(..., D)``.
        basis (dict[str, Tensor]): A basis from :func:`compute_svd_basis`.

    Returns:
        Tensor: ``(..., k)``.
    """
    mean = basis['mean'].to(features)
    components = basis['components'].to(features)
    return (features - mean) @ components.t()


def save_svd_basis(basis: Dict[str, torch.Tensor], filename: str) -> None:
    """Write ``basis`` as a tensors-only file, atomically.

    The file is written under a temporary name and renamed, so that a
    process reading it never sees a partial file.
    """
    check_svd_basis(basis, filename)
    atomic_save({key: value.detach().cpu()
                 for key, value in basis.items()}, filename)


def load_svd_basis(filename: str) -> Dict[str, torch.Tensor]:
    """Read a basis written by :func:`save_svd_basis`.

    Loads with ``torch.load(weights_only=True)``: the file holds tensors
    only and can run no code.

    Raises:
        FileNotFoundError: If ``filename`` does not exist, with the commands
            that write it.
        ValueError: If the file is not a valid basis.
    """
    if not osp.isfile(filename):
        raise FileNotFoundError(
            f'The SVD basis file {filename!r} does not exist. Write it with '
            '`python tools/compute_svd_basis.py CONFIG` or add '
            "dict(type='SVDBasisHook') to custom_hooks, which computes it "
            'before training.')
    try:
        basis = torch.load(filename, map_location='cpu', weights_only=True)
    except Exception as err:  # truncated file or unsafe pickle
        raise ValueError(f'Cannot read the SVD basis file {filename!r}: '
                         f'{err}') from err
    check_svd_basis(basis, filename)
    return basis


def check_svd_basis(basis: dict, filename: Optional[str] = None) -> None:
    """Raise a ``ValueError`` naming ``filename`` if ``basis`` is not a
    consistent ``mean``/``components``/``singular_values`` set."""
    where = f'The SVD basis file {filename!r}' if filename else 'The basis'
    if not isinstance(basis, dict):
        raise ValueError(f'{where} holds a {type(basis).__name__}, not a '
                         'dict of tensors.')
    missing = [key for key in BASIS_KEYS if key not in basis]
    if missing:
        raise ValueError(f'{where} lacks {missing}; it has '
                         f'{sorted(basis)}.')
    if not all(isinstance(value, torch.Tensor) for value in basis.values()):
        raise ValueError(f'{where} holds values that are not tensors.')
    mean, components = basis['mean'], basis['components']
    values = basis['singular_values']
    if (mean.dim() != 1 or components.dim() != 2
            or components.shape[1] != mean.shape[0]
            or values.shape != components.shape[:1]):
        raise ValueError(
            f'{where} has inconsistent shapes: mean {tuple(mean.shape)}, '
            f'components {tuple(components.shape)}, singular_values '
            f'{tuple(values.shape)} (expected (D,), (k, D), (k,)).')
