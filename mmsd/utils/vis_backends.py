# Copyright (c) mmsd contributors. All rights reserved.
"""Visualizer backends named on the command line, checked before a run."""
import importlib.util

from mmengine.config import Config


def expand_vis_backends(cfg: Config) -> None:
    """Let ``--cfg-options`` name the visualizer's backends.

    MMEngine parses ``visualizer.vis_backends=[LocalVisBackend,
    TensorboardVisBackend]`` into a list of names, which the visualizer
    cannot build; a name stands for ``dict(type=name)``. TensorBoard's
    backend is refused up front, with what to install, when TensorBoard is
    missing.

    Args:
        cfg (Config): The full config, changed in place.
    """
    visualizer = cfg.get('visualizer')
    if not visualizer or visualizer.get('vis_backends') is None:
        return
    backends = visualizer['vis_backends']
    if isinstance(backends, (str, dict)):
        backends = [backends]
    backends = [
        dict(type=backend) if isinstance(backend, str) else backend
        for backend in backends
    ]
    visualizer['vis_backends'] = backends
    wants_tensorboard = any(
        str(backend.get('type')).endswith('TensorboardVisBackend')
        for backend in backends)
    if wants_tensorboard and importlib.util.find_spec('tensorboard') is None:
        raise ModuleNotFoundError(
            'visualizer.vis_backends has TensorboardVisBackend, but '
            'TensorBoard is not installed: pip install -e ".[tb]" (or pip '
            'install tensorboard==2.21.0).')
