# Copyright (c) mmsd contributors. All rights reserved.
"""Build transformers models and tokenizers from local files only."""
import os
import os.path as osp
from typing import Optional

from torch import nn
from transformers import (AutoConfig, AutoTokenizer, PreTrainedModel,
                          PreTrainedTokenizerBase)


def local_dir(path: str, what: str, holds: str) -> str:
    """``path`` as a string if it is a local directory, else a clear error:
    mmsd never downloads, so a hub name such as ``'roberta-base'`` must be
    replaced by a directory a ``save_pretrained`` (or a snapshot copy)
    wrote."""
    if isinstance(path, os.PathLike):
        path = os.fspath(path)
    if not isinstance(path, str) or not osp.isdir(path):
        raise FileNotFoundError(
            f'{what}={path!r} is not a local directory. mmsd never '
            f'downloads: point it at a folder with {holds}.')
    return path


def check_local_dir(path: str, what: str = 'model_name_or_path') -> str:
    """Return ``path`` if it is a local transformers model directory."""
    path = local_dir(
        path, what, 'config.json, the weights (model.safetensors or '
        'pytorch_model.bin) and the tokenizer files, e.g. one written by '
        'save_pretrained()')
    if not osp.isfile(osp.join(path, 'config.json')):
        raise FileNotFoundError(f'{what}={path!r} has no config.json; it is '
                                'not a transformers model directory.')
    return path


def load_tokenizer(path: str,
                   what: str = 'tokenizer') -> PreTrainedTokenizerBase:
    """The tokenizer saved in the local directory ``path``."""
    path = local_dir(path, what,
                     'the tokenizer files (tokenizer.json or vocab files)')
    return AutoTokenizer.from_pretrained(path, local_files_only=True)


def build_hf_model(auto_class,
                   model_name_or_path: Optional[str] = None,
                   config: Optional[dict] = None,
                   output_loading_info: bool = False,
                   **kwargs):
    """Build ``auto_class`` from a local directory or from a config.

    Args:
        auto_class: A transformers auto class, e.g.
            ``AutoModelForMaskedLM``.
        model_name_or_path (str, optional): Local model directory; its
            weights are loaded. Defaults to None.
        config (dict, optional): ``AutoConfig.for_model`` arguments
            (``model_type`` and sizes) for a randomly initialised model,
            used when ``model_name_or_path`` is None. Defaults to None.
        output_loading_info (bool): Also return the names of the weights
            the directory did not hold (randomly initialised), e.g. a new
            head. Defaults to False.
        **kwargs: Config attributes to set, e.g. ``num_labels``.

    The model's weights are final (loaded, or drawn by transformers' own
    initialiser), so it and its base model are marked ``is_init``: MMEngine's
    ``init_weights`` must not call transformers' ``init_weights`` on them,
    nor on a copy of them (e.g. a teacher copied from the encoder).
    """
    if model_name_or_path is not None:
        model_name_or_path = check_local_dir(model_name_or_path)
        model, info = auto_class.from_pretrained(
            model_name_or_path,
            local_files_only=True,
            output_loading_info=True,
            **kwargs)
        missing = sorted(info['missing_keys'])
    else:
        if config is None:
            raise ValueError(f'{auto_class.__name__}: give model_name_or_path'
                             ' (a local directory) or config (a dict with '
                             'model_type).')
        config = dict(config)
        if 'model_type' not in config:
            raise ValueError(
                f'config needs a model_type, got {sorted(config)}.')
        hf_config = AutoConfig.for_model(
            config.pop('model_type'), **config, **kwargs)
        model = auto_class.from_config(hf_config)
        missing = sorted(model.state_dict())
    _mark_initialised(model)
    return (model, missing) if output_loading_info else model


def _mark_initialised(model: nn.Module) -> None:
    for module in model.modules():
        if isinstance(module, PreTrainedModel):
            module.is_init = True
