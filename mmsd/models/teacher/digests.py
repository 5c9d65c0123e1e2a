# Copyright (c) mmsd contributors. All rights reserved.
"""Exact digests of tensors: one per sample of a batch, or one of a whole
module's state, for the teacher-feature cache."""
import hashlib
from typing import Dict, List, Tuple

import torch
from torch import nn

# A Mersenne prime: every partial sum below stays inside int64.
_PRIME = 2**31 - 1
_CHUNK = 2**15


class _HashWeights:
    """Random multipliers of the sample hash, made once per length and
    device from a fixed seed (the hash must not depend on the run's
    random state)."""

    def __init__(self, num_hashes: int) -> None:
        self.num_hashes = num_hashes
        self._weights: Dict[Tuple[int, str], torch.Tensor] = {}

    def get(self, length: int, device: torch.device) -> torch.Tensor:
        key = (length, str(device))
        if key not in self._weights:
            generator = torch.Generator().manual_seed(20230501 + length)
            weights = torch.randint(
                1,
                _PRIME, (self.num_hashes, length),
                generator=generator,
                dtype=torch.int64)
            self._weights[key] = weights.to(device)
        return self._weights[key]


_WEIGHTS = _HashWeights(num_hashes=4)


def sample_digests(inputs: torch.Tensor) -> List[str]:
    """One digest per sample (first dimension) of ``inputs``' bytes.

    On the CPU it is the 128-bit BLAKE2b digest of the bytes. On other
    devices it is :func:`modular_digests`, computed where the tensor is, so
    that only the digests are copied to the host. Both are exact and do not
    depend on the batch the sample is in.

    Args:
        inputs (Tensor): A batch ``(B, ...)`` of any dtype.

    Returns:
        list[str]: ``B`` hexadecimal digests.
    """
    flat = inputs.detach().reshape(inputs.shape[0], -1).contiguous()
    if flat.device.type != 'cpu':
        return modular_digests(flat)
    array = flat.view(torch.uint8).numpy()  # any dtype, no copy
    return [hashlib.blake2b(row, digest_size=16).hexdigest() for row in array]


def modular_digests(flat: torch.Tensor) -> List[str]:
    """Digests of the rows of ``flat`` computed with tensor operations.

    Each of the four 31-bit parts is a random linear function of the row's
    16-bit words modulo the prime ``2**31 - 1`` (a universal hash): two
    different rows collide with probability about ``2**-124``. Integer
    arithmetic only, so the result is exact on every device.

    Args:
        flat (Tensor): ``(B, N)`` contiguous, any dtype.

    Returns:
        list[str]: ``B`` hexadecimal digests.
    """
    batch = flat.shape[0]
    if flat.element_size() == 1:
        words = flat.to(torch.int16)
    else:
        words = flat.view(torch.int16)
    words = words.to(torch.int64) + 2**15  # in [0, 2**16)
    length = words.shape[1]
    padded = -(-length // _CHUNK) * _CHUNK
    words = nn.functional.pad(words, (0, padded - length))
    weights = _WEIGHTS.get(padded, words.device)
    parts = []
    for weight in weights:
        # Products < 2**47; a chunk of 2**15 of them sums below 2**62.
        chunk_sums = (words * weight).view(batch, -1, _CHUNK).sum(-1)
        parts.append((chunk_sums % _PRIME).sum(-1) % _PRIME)
    return [
        ''.join(f'{part:08x}' for part in row)
        for row in torch.stack(parts, 1).tolist()
    ]


def module_fingerprint(module: nn.Module) -> str:
    """BLAKE2b digest of a module's state: names, dtypes, shapes and
    bytes of every tensor (read once; for saving and checking caches)."""
    digest = hashlib.blake2b(digest_size=16)
    for name, tensor in module.state_dict().items():
        tensor = tensor.detach().cpu().contiguous()
        digest.update(f'{name}:{tensor.dtype}:{tuple(tensor.shape)}'.encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy())
    return digest.hexdigest()
