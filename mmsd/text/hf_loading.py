# Copyright (c) mmsd contributors. All rights reserved.
"""Build transformers models and tokenizers from local files only."""
import json
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


# A short English text that every real vocabulary splits into known tokens.
PROBE_TEXT = 'The quick brown fox jumps over the lazy dog.'


def load_tokenizer(path: str,
                   what: str = 'tokenizer') -> PreTrainedTokenizerBase:
    """The tokenizer saved in the local directory ``path``, checked by
    :func:`check_tokenizer` against the ``vocab_size`` of a
    ``config.json`` in the same directory."""
    path = local_dir(path, what,
                     'the tokenizer files (tokenizer.json or vocab files)')
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    config = osp.join(path, 'config.json')
    vocab_size = None
    if osp.isfile(config):
        with open(config, encoding='utf-8') as f:
            vocab_size = json.load(f).get('vocab_size')
    check_tokenizer(tokenizer, path, vocab_size)
    return tokenizer


def check_tokenizer(tokenizer: PreTrainedTokenizerBase,
                    path: str,
                    vocab_size: Optional[int] = None) -> None:
    """Refuse a tokenizer that lost its vocabulary.

    transformers builds a tokenizer of the special tokens alone when the
    vocabulary files of a folder are missing (e.g. only ``config.json``,
    the weights and ``tokenizer_config.json`` were copied): every word then
    becomes the unknown token and training runs to the end on nothing.

    Args:
        tokenizer (PreTrainedTokenizerBase): The loaded tokenizer.
        path (str): Its folder, named in the error.
        vocab_size (int, optional): The model's vocabulary size (its
            config's ``vocab_size``). The tokenizer may be smaller by the
            padding some models add (at most 10 %), never larger.
            Defaults to None: not checked.

    Raises:
        ValueError: Naming the folder, the files it holds and the
            vocabulary files the tokenizer needs.
    """
    size = len(tokenizer)
    ids = tokenizer(PROBE_TEXT, add_special_tokens=False)['input_ids']
    if vocab_size is not None and size > vocab_size:
        problem = (f'has {size} tokens, more than the vocab_size='
                   f'{vocab_size} of the model in config.json: token ids '
                   'would fall outside its embeddings')
    elif vocab_size is not None and size < 0.9 * vocab_size:
        problem = (f'has only {size} tokens, but config.json says '
                   f'vocab_size={vocab_size}')
    elif not ids or all(i == tokenizer.unk_token_id for i in ids):
        problem = (f'turns the probe text {PROBE_TEXT!r} into '
                   f'{tokenizer.convert_ids_to_tokens(ids) or "nothing"}')
    else:
        return
    names = dict(getattr(tokenizer, 'vocab_files_names', {}))
    fast = names.pop('tokenizer_file', None)
    needed = ', or '.join(
        name for name in (fast, ' and '.join(sorted(names.values()))) if name)
    files = sorted(os.listdir(path))
    raise ValueError(
        f'The tokenizer in {path!r} ({type(tokenizer).__name__}) {problem}: '
        f'its vocabulary is missing. The folder holds {files}; '
        f'{type(tokenizer).__name__} needs {needed or "its vocabulary files"}'
        '. Copy them from the folder the model came from (save_pretrained() '
        'writes them), or point the tokenizer at that folder.')


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
