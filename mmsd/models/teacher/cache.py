# Copyright (c) mmsd contributors. All rights reserved.
"""Reuse a frozen teacher's features across the epochs of a training run.

A frozen teacher in eval mode is a pure function of its input tensor. When
the training pipeline is deterministic, every sample reaches the teacher as
the same tensor in every epoch, so its features can be computed once and
looked up afterwards. Entries are keyed by a hash of the exact input bytes
of the sample (with its shape and dtype) and of the computation context
(autocast state, what is stored); they live only while the teacher's
weights are unchanged, so a changed image, pipeline, precision or teacher
can never hit a stale entry.
"""
from typing import Callable, Dict, List, Optional, Tuple, Union

import torch
from torch import nn

from .digests import module_fingerprint, sample_digests


class _TensorWatch:
    """Sees whether any tensor of a module was loaded, modified in place or
    replaced since :meth:`reset`, from the tensors' identities and autograd
    version counters (a few microseconds; no weight is read). It holds the
    tensors, so a replaced tensor's id cannot be reused by its successor.
    Writes through ``Tensor.data`` bypass version counters and are not
    seen."""

    def __init__(self) -> None:
        self._watched: Optional[List[Tuple[torch.Tensor, int]]] = None

    def reset(self, module: Optional[nn.Module] = None) -> None:
        self._watched = None if module is None else [
            (tensor, tensor._version)
            for tensor in module.state_dict(keep_vars=True).values()
        ]

    def changed(self, module: nn.Module) -> bool:
        if self._watched is None:
            return True
        tensors = list(module.state_dict(keep_vars=True).values())
        return len(tensors) != len(self._watched) or any(
            tensor is not old or tensor._version != version
            for tensor, (old, version) in zip(tensors, self._watched))


class TeacherFeatureCache:
    """Per-sample cache of a frozen teacher's features, filled lazily.

    :meth:`features` returns the teacher's features for a batch, computing
    them only for samples not seen before. Keys are the sample digests of
    :func:`sample_digests` plus the context (autocast state and a caller
    tag), so only the same input tensor under the same computation can hit.
    Whenever any teacher tensor is loaded, changed in place or replaced,
    all entries are dropped (writes through ``Tensor.data`` are not seen:
    load weights with ``load_state_dict`` or call :meth:`clear`). Each
    process fills its own cache from the samples it trains on, so under DDP
    no rank depends on another's entries. :meth:`state_dict` and
    :meth:`load_state_dict` carry the entries through a checkpoint, tied to
    a fingerprint of the teacher's weights.

    :class:`mmsd.engine.TeacherCacheHook` builds the cache, and hands it to
    the model, only after it checked that the training pipeline is
    deterministic; the hook also carries the entries through checkpoints.

    Args:
        device (str, optional): Where entries are kept, e.g. ``'cpu'`` to
            keep GPU memory free. Defaults to None: the device of the
            teacher's output.
        max_entries (int, optional): Stop adding entries beyond this many
            (the teacher then runs for the new samples). Defaults to None
            (no limit).
    """

    def __init__(self,
                 device: Optional[str] = None,
                 max_entries: Optional[int] = None) -> None:
        if max_entries is not None and max_entries <= 0:
            raise ValueError('TeacherFeatureCache: max_entries must be '
                             f'positive or None, got {max_entries}.')
        self.device = None if device is None else torch.device(device)
        self.max_entries = max_entries
        self._entries: Dict[str, torch.Tensor] = {}
        self._teacher_watch = _TensorWatch()
        self.hits = 0
        self.misses = 0

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """Bytes held by the entries."""
        return sum(t.numel() * t.element_size()
                   for t in self._entries.values())

    def clear(self) -> None:
        """Drop every entry (e.g. because the teacher changed)."""
        self._entries.clear()
        self._teacher_watch.reset()

    def features(self,
                 teacher: nn.Module,
                 compute: Callable[[torch.Tensor], torch.Tensor],
                 inputs: torch.Tensor,
                 tag: object = None) -> torch.Tensor:
        """``compute(inputs)``, reusing the rows of samples already seen.

        Args:
            teacher (nn.Module): The frozen teacher; its tensors are watched
                for changes.
            compute (Callable): Maps a batch of inputs to the teacher's
                features ``(B, ...)``; a pure function of each sample.
            inputs (Tensor): The batch ``(B, ...)`` given to the teacher.
            tag (object): Anything else the result depends on, by its
                ``repr`` (e.g. the distilled representation). Defaults to
                None.

        Returns:
            Tensor: The features ``(B, ...)`` on the device of ``inputs``.
        """
        if self._teacher_watch.changed(teacher):
            self._entries.clear()
            self._teacher_watch.reset(teacher)
        context = repr((tag, tuple(inputs.shape[1:]), inputs.dtype,
                        _autocast_state(inputs.device)))
        keys = [f'{context}|{digest}' for digest in sample_digests(inputs)]
        missing = [i for i, key in enumerate(keys) if key not in self._entries]
        self.hits += len(keys) - len(missing)
        self.misses += len(missing)
        computed = {}
        if missing:
            with torch.no_grad():
                rows = compute(inputs[missing]).detach()
            for i, row in zip(missing, rows):
                computed[i] = row
                if (self.max_entries is None
                        or len(self._entries) < self.max_entries):
                    self._entries[keys[i]] = row.to(
                        self.device or row.device, copy=True)
        return torch.stack([
            computed[i] if i in computed else self._entries[key]
            for i, key in enumerate(keys)
        ]).to(inputs.device)

    def state_dict(self, teacher: nn.Module) -> dict:
        """The entries (on the CPU) and the fingerprint of the teacher
        they belong to, for a checkpoint."""
        if self._teacher_watch.changed(teacher):
            self.clear()  # entries of an older teacher
        return dict(
            teacher=module_fingerprint(teacher),
            entries={
                k: v.cpu()
                for k, v in self._entries.items()
            })

    def load_state_dict(self, state: dict, teacher: nn.Module) -> bool:
        """Restore the entries of :meth:`state_dict` if they belong to
        ``teacher`` (same fingerprint); returns whether they did."""
        if state.get('teacher') != module_fingerprint(teacher):
            return False
        device = self.device or next(teacher.parameters()).device
        self._entries = {
            key: value.to(device)
            for key, value in state['entries'].items()
        }
        if self.max_entries is not None:
            self._entries = dict(
                list(self._entries.items())[:self.max_entries])
        self._teacher_watch.reset(teacher)
        return True

    def summary(self) -> str:
        """Entries, their size and the hit rate, for logs."""
        total = self.hits + self.misses
        rate = self.hits / total if total else 0.
        return (f'{len(self)} entries ({self.nbytes / 2**20:.1f} MiB), '
                f'{self.hits} hits / {self.misses} misses '
                f'({100 * rate:.1f} % hits)')


def _autocast_state(device: torch.device) -> Tuple[bool, Union[str, None]]:
    device_type = device.type
    if not torch.is_autocast_enabled(device_type):
        return (False, None)
    return (True, str(torch.get_autocast_dtype(device_type)))
