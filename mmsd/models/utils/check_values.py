# Copyright (c) mmsd contributors. All rights reserved.
"""Validate numeric config values when a module is built."""
import math
from numbers import Real
from typing import Optional


def check_non_negative(owner: str, **values: Optional[float]) -> None:
    """Refuse values that are not finite numbers >= 0 (None is allowed).

    A loss weight given as a string is otherwise accepted until the first
    loss that uses it, possibly after a whole training stage, and a
    negative one silently turns a loss into a reward.

    Args:
        owner (str): The module named in the error, e.g.
            ``'SelfDistillHead'``.
        **values: The values to check, by their config name.

    Raises:
        TypeError: If a value is not a real number.
        ValueError: If a value is negative, NaN or infinite.
    """
    for key, value in values.items():
        if value is None:
            continue
        if isinstance(value, bool) or not isinstance(value, Real):
            raise TypeError(f'{owner}: {key}={value!r} is not a number; set '
                            'it to a float >= 0.')
        if not math.isfinite(value) or value < 0:
            raise ValueError(f'{owner}: {key} must be a finite number >= 0, '
                             f'got {value} (a negative weight turns its '
                             'loss into a reward).')
