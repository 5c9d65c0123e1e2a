# Copyright (c) mmsd contributors. All rights reserved.
import os.path as osp
from typing import Dict, Optional

import torch

from mmsd.utils import atomic_save

BASIS_KEYS = ('mean', 'components', 'singular_values')


class SVDBasis:
    """The non-parametric dimension alignment of KDEP: an SVD basis of the
    teacher's features, computed once and stored as a tensors-only file.

    Part of `Knowledge Distillation as Efficient Pre-training
    <https://arxiv.org/abs/2203.05180>`_. The basis of ``N`` teacher features
    ``F`` (``N x D``) is the mean ``mu`` (``D``), the top-``k`` right
    singular vectors ``V_k`` of ``F - mu`` (``components``, ``k x D``) and
    the singular values. A teacher feature is aligned to a ``k``-wide
    student by :meth:`project`, ``(f - mu) @ V_k.T``: its top-``k``
    principal components. Build one with :meth:`compute` or :meth:`load`;
    every way checks that the shapes agree.

    Args:
        mean (Tensor): ``(D,)``.
        components (Tensor): ``(k, D)``.
        singular_values (Tensor): ``(k,)``.
        num_samples (Tensor, optional): Number of features it was computed
            on, a 0-d int64 tensor. Defaults to None.
        filename (str, optional): The file it came from, named in errors.
            Defaults to None.
    """

    def __init__(self,
                 mean: torch.Tensor,
                 components: torch.Tensor,
                 singular_values: torch.Tensor,
                 num_samples: Optional[torch.Tensor] = None,
                 filename: Optional[str] = None) -> None:
        self.filename = filename
        tensors = (mean, components, singular_values)
        if not all(isinstance(t, torch.Tensor)
                   for t in tensors) or not (num_samples is None or isinstance(
                       num_samples, torch.Tensor)):
            raise ValueError(f'{_where(filename)} holds values that are not '
                             'tensors.')
        if (mean.dim() != 1 or components.dim() != 2
                or components.shape[1] != mean.shape[0]
                or singular_values.shape != components.shape[:1]):
            raise ValueError(
                f'{_where(filename)} has inconsistent shapes: mean '
                f'{tuple(mean.shape)}, components {tuple(components.shape)}, '
                f'singular_values {tuple(singular_values.shape)} (expected '
                '(D,), (k, D), (k,)).')
        self.mean = mean
        self.components = components
        self.singular_values = singular_values
        self.num_samples = num_samples
        self._on: Dict[tuple, tuple] = {}  # (device, dtype) -> mean, V_k.T

    @property
    def k(self) -> int:
        """Number of components: the student's feature width."""
        return self.components.shape[0]

    @property
    def dim(self) -> int:
        """Width of the teacher features it was computed on."""
        return self.components.shape[1]

    def state_dict(self) -> Dict[str, torch.Tensor]:
        """The tensors, as the file holds them."""
        state = dict(
            mean=self.mean,
            components=self.components,
            singular_values=self.singular_values)
        if self.num_samples is not None:
            state['num_samples'] = self.num_samples
        return state

    @classmethod
    def from_dict(cls,
                  state: object,
                  filename: Optional[str] = None) -> 'SVDBasis':
        """A basis from a dict of tensors (a file's content), checked."""
        if not isinstance(state, dict):
            raise ValueError(f'{_where(filename)} holds a '
                             f'{type(state).__name__}, not a dict of tensors.')
        missing = [key for key in BASIS_KEYS if key not in state]
        if missing:
            raise ValueError(f'{_where(filename)} lacks {missing}; it has '
                             f'{sorted(state)}.')
        return cls(
            *(state[key] for key in BASIS_KEYS),
            num_samples=state.get('num_samples'),
            filename=filename)

    @classmethod
    def compute(cls, features: torch.Tensor, k: int) -> 'SVDBasis':
        """Centre ``features`` and keep their top-``k`` right singular
        vectors.

        The SVD runs in float64 and each component's sign is fixed so that
        its entry of largest magnitude is positive, so that the same features
        always give the same file. The tensors are stored in float32.

        Args:
            features (Tensor): Teacher features ``(N, D)``.
            k (int): Number of components, the student's feature width.
        """
        if features.dim() != 2:
            raise ValueError('SVDBasis.compute: features must be (N, D), got '
                             f'shape {tuple(features.shape)}.')
        num, dim = features.shape
        if not 0 < k <= dim:
            raise ValueError(f'SVDBasis.compute: k={k} must be in [1, {dim}],'
                             ' the teacher feature width.')
        if num <= k:
            raise ValueError(f'SVDBasis.compute: {num} features give at most '
                             f'{num - 1} principal directions after '
                             f'centring; k={k} needs more than {k} samples.')
        if not torch.isfinite(features).all():
            raise ValueError('SVDBasis.compute: the features are not finite.')
        features = features.detach().to('cpu', torch.float64)
        mean = features.mean(dim=0)
        _, singular_values, vh = torch.linalg.svd(
            features - mean, full_matrices=False)
        components = vh[:k]
        pivots = components.abs().argmax(dim=1, keepdim=True)
        components = components * torch.sign(components.gather(1, pivots))
        return cls(
            mean=mean.float(),
            components=components.float().contiguous(),
            singular_values=singular_values[:k].float().contiguous(),
            num_samples=torch.tensor(num, dtype=torch.int64))

    @classmethod
    def load(cls, filename: str) -> 'SVDBasis':
        """Read a basis written by :meth:`save`.

        Loads with ``torch.load(weights_only=True)``: the file holds tensors
        only and can run no code.

        Raises:
            FileNotFoundError: If ``filename`` does not exist, with the
                commands that write it.
            ValueError: If the file is not a valid basis.
        """
        if not osp.isfile(filename):
            raise FileNotFoundError(
                f'The SVD basis file {filename!r} does not exist. Write it '
                'with `python tools/compute_svd_basis.py CONFIG` or add '
                "dict(type='SVDBasisHook') to custom_hooks, which computes it "
                'before training.')
        try:
            state = torch.load(filename, map_location='cpu', weights_only=True)
        except Exception as err:  # truncated file or unsafe pickle
            raise ValueError(f'Cannot read the SVD basis file {filename!r}: '
                             f'{err}') from err
        return cls.from_dict(state, filename)

    def save(self, filename: str) -> None:
        """Write the tensors (on the CPU) to ``filename``, atomically
        (:func:`mmsd.utils.atomic_save`): a process reading it never sees a
        partial file."""
        atomic_save({
            key: value.detach().cpu()
            for key, value in self.state_dict().items()
        }, filename)
        self.filename = filename

    def check_widths(self, student_dim: Optional[int],
                     teacher_dim: Optional[int]) -> None:
        """Raise a ``ValueError`` naming the file if ``k`` is not the
        student's feature width or ``D`` not the teacher's (None: not known
        yet, not checked)."""
        where = _where(self.filename)
        if student_dim is not None and self.k != student_dim:
            raise ValueError(
                f'{where} has k={self.k} components, but the student feature '
                f'width is {student_dim}: k must equal the student width. '
                'Recompute the basis for this student '
                '(tools/compute_svd_basis.py).')
        if teacher_dim is not None and self.dim != teacher_dim:
            raise ValueError(
                f'{where} was computed on {self.dim}-d features, but the '
                f'teacher feature width is {teacher_dim}. Recompute the '
                'basis for this teacher (tools/compute_svd_basis.py).')

    def project(self, features: torch.Tensor) -> torch.Tensor:
        """Top-``k`` principal components ``(f - mean) @ components.T`` of
        features ``(..., D)``: ``(..., k)``."""
        key = (features.device, features.dtype)
        if key not in self._on:  # moved once per device and dtype
            self._on[key] = (self.mean.to(features),
                             self.components.to(features).t())
        mean, components_t = self._on[key]
        return (features - mean) @ components_t

    def explained_variance(self, features: torch.Tensor) -> float:
        """Share of the variance of ``features`` its components keep."""
        total = features.var(dim=0, unbiased=False).sum() * len(features)
        return float(self.singular_values.pow(2).sum() / total)


def _where(filename: Optional[str]) -> str:
    return f'The SVD basis file {filename!r}' if filename else 'The basis'
