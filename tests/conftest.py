# Copyright (c) mmsd contributors. All rights reserved.
"""Shared fixtures: tiny models, generated images and initial checkpoints."""
import functools
import os
import os.path as osp
import socket
import subprocess
import sys
import uuid
from typing import Optional, Sequence

import numpy as np
import pytest
import torch

# One thread: on a shared 2-core machine multi-threaded torch slows badly.
os.environ.setdefault('OMP_NUM_THREADS', '1')
torch.set_num_threads(1)

import mmengine.config.utils  # noqa: E402
from mmengine.config import Config  # noqa: E402
from mmpretrain.registry import MODELS  # noqa: E402

import mmsd  # noqa: E402,F401

# Every 'mmpretrain::' base makes MMEngine parse MMPretrain's 170 metafiles
# (about 0.3 s); they do not change during a test session, so parse each
# once. Half the time of the config tests.
mmengine.config.utils.load = functools.lru_cache(None)(
    mmengine.config.utils.load)

# Tiny Hugging Face / timm / official MAE checkpoints for the converters.
pytest_plugins = ['test_converters.vit_sources']

REPO = osp.dirname(osp.dirname(osp.abspath(__file__)))
TINY_MAE = osp.join(REPO, 'tests', 'data', 'tiny_mae.py')
TINY_FT = osp.join(REPO, 'tests', 'data', 'tiny_ft.py')
SD_CONFIG = osp.join(REPO, 'configs', 'sd_vit-b_cub.py')
FPT_CONFIG = osp.join(REPO, 'configs', 'further_pretrain',
                      'fpt_vit-b-p16_mae-in1k_1xb64-20k_cub.py')
FT_CONFIG = osp.join(REPO, 'configs', 'finetune',
                     'ft_vit-b-p16_sd_1xb32-10k_cub.py')


def tiny_config(config: str, overrides: str = TINY_MAE, **options) -> Config:
    """Load a real config, shrink it with ``overrides`` and apply
    ``options`` (dotted keys, as ``--cfg-options``)."""
    cfg = Config.fromfile(config)
    cfg.merge_from_dict(Config.fromfile(overrides).to_dict())
    # MMEngine names a run's logger and visualizer after the config and the
    # second it started, and reuses an instance of the same name: two
    # runners built in one second would share a visualizer and write their
    # scalars into the first one's work dir.
    cfg.experiment_name = f'{osp.basename(config)}_{uuid.uuid4().hex[:8]}'
    cfg.merge_from_dict(options)
    return cfg


_current_test = {}


def free_port() -> int:
    """A TCP port no process listens on now."""
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_setup(item):
    _current_test['item'] = item


def run(*args,
        check=True,
        timeout=600,
        env: Optional[dict] = None) -> subprocess.CompletedProcess:
    """Run a command from the repository root as a user would: one thread,
    the venv's python first on PATH. Fails with its output unless
    ``check=False``. ``env`` adds environment variables. Only tests marked
    ``e2e`` may run one (``make test-fast`` leaves them out)."""
    item = _current_test.get('item')
    if item is not None and item.get_closest_marker('e2e') is None:
        raise AssertionError(f'{item.nodeid} runs {args[:2]} as a '
                             'subprocess: mark it @pytest.mark.e2e.')
    env = dict(
        os.environ,
        OMP_NUM_THREADS='1',
        PATH=osp.dirname(sys.executable) + os.pathsep + os.environ['PATH'],
        **(env or {}))
    # dist_train.sh's rendezvous port: a free one, not 29500, which other
    # jobs on a shared machine may hold.
    env.setdefault('PORT', str(free_port()))
    result = subprocess.run(
        args,
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout)
    if check and result.returncode != 0:
        raise AssertionError(f'{args} failed:\n{result.stdout[-3000:]}\n'
                             f'{result.stderr[-3000:]}')
    return result


def dist_train(config: str, work_dir: str, *options: str) -> str:
    """``tools/dist_train.sh CONFIG 2`` as a user runs it (2 gloo CPU
    processes, on a free port); checks it ran distributed and returns its
    output."""
    result = run(
        'bash',
        'tools/dist_train.sh',
        config,
        '2',
        '--work-dir',
        str(work_dir),
        *options,
        timeout=900,
        env=dict(PORT=str(free_port())))
    log = result.stdout + result.stderr
    assert 'Distributed training: True' in log
    assert 'GPU number: 2' in log  # MMEngine's name for the world size
    assert "device_ids=None, type='MMDistributedDataParallel'" in log
    return log


def two_stage_options(further: int, distill: int, rounds: int = 1) -> dict:
    """Options turning the 2x20k schedule into ``further`` iterations of
    further pre-training and ``rounds`` rounds of ``distill`` iterations of
    self-distillation, one LinearLR per stage; with several rounds the
    encoder of every round is exported as ``round{k}_backbone.pth``."""
    switches = [further + k * distill for k in range(rounds)]
    bounds = [0] + switches + [further + rounds * distill]
    export = dict(
        type='ExportBackboneHook',
        sources=dict(sd_backbone='backbone.', fpt_backbone='teacher.'))
    if rounds > 1:
        export.update(
            sources=dict(sd_backbone='backbone.'),
            each_round='round{round}_backbone')
    return {
        'param_scheduler': [
            dict(
                type='LinearLR',
                start_factor=1.0,
                end_factor=0.5,
                by_epoch=False,
                begin=begin,
                end=end) for begin, end in zip(bounds, bounds[1:])
        ],
        'train_cfg.max_iters':
        bounds[-1],
        'custom_hooks': [
            dict(
                type='SelfDistillStageHook',
                switch_iter=further if rounds == 1 else switches),
            dict(type='TeacherCacheHook'),
            export,
        ],
    }


def make_runner(image_root: str,
                init_checkpoint: Optional[str],
                work_dir,
                further: int = 2,
                distill: int = 2,
                rounds: int = 1,
                config: str = SD_CONFIG,
                extra_hooks: Sequence[dict] = (),
                **options):
    """A Runner of the SD entry config (or ``config``), shrunk: the tiny
    MAE on ``image_root``, ``further`` + ``rounds`` x ``distill``
    iterations, seed 0, with ``extra_hooks`` after the stage hooks."""
    from mmengine.runner import Runner
    stages = two_stage_options(further, distill, rounds)
    stages['custom_hooks'] += list(extra_hooks)
    cfg = tiny_config(
        config, **{
            **stages,
            'model.init_checkpoint': init_checkpoint,
            'train_dataloader.dataset.data_root': image_root,
            'work_dir': str(work_dir),
            'randomness.seed': 0,
            **options,
        })
    return Runner.from_cfg(cfg)


def write_images(root: str,
                 classes=('a', 'b'),
                 per_class=6,
                 size=40,
                 seed=0) -> str:
    """Write random RGB PNGs as ``root/<class>/<i>.png``."""
    import cv2
    rng = np.random.default_rng(seed)
    for name in classes:
        os.makedirs(osp.join(root, name), exist_ok=True)
        for i in range(per_class):
            image = rng.integers(0, 255, (size, size, 3), dtype=np.uint8)
            cv2.imwrite(osp.join(root, name, f'{i}.png'), image)
    return root


@pytest.fixture(scope='session')
def image_root(tmp_path_factory) -> str:
    """A CustomDataset root with ``train/{a,b}/*.png``."""
    root = str(tmp_path_factory.mktemp('images'))
    write_images(osp.join(root, 'train'))
    return root


def build_tiny_mae(model_type: str = 'FurtherPretrainMAE', **kwargs):
    cfg = tiny_config(FPT_CONFIG).model
    cfg.update(type=model_type, init_checkpoint=None)
    cfg.update(kwargs)
    return MODELS.build(cfg)


@pytest.fixture(scope='session')
def init_checkpoint(tmp_path_factory) -> str:
    """An MMPretrain-style MAE checkpoint (backbone + neck) of the tiny MAE,
    with non-default patch_embed and cls_token values."""
    torch.manual_seed(123)
    model = build_tiny_mae()
    model.init_weights()
    with torch.no_grad():
        model.backbone.cls_token.fill_(0.5)
        model.backbone.patch_embed.projection.weight.mul_(3.0)
    path = str(tmp_path_factory.mktemp('ckpt') / 'init.pth')
    torch.save(dict(state_dict=model.state_dict()), path)
    return path


def perturb(module: torch.nn.Module, scale: float = 0.05):
    """Add ``scale`` x standard normal noise to every parameter of
    ``module``, in place: a teacher that differs from its student."""
    with torch.no_grad():
        for param in module.parameters():
            param.add_(scale * torch.randn_like(param))
    return module


TEXT_WORDS = ('the a film movie is was good great fun bad awful boring plot '
              'acting story and of to it not very').split()
TEXTS = [
    'the film was good and fun', 'a bad boring plot', 'great acting',
    'the story was awful and not fun at all'
]
POSITIVE, NEGATIVE = ('good', 'great', 'fun'), ('bad', 'awful', 'boring')


def write_text_data(root: str, per_class: int = 12, seed: int = 0) -> str:
    """``train.jsonl``/``test.jsonl`` of short reviews labeled 'neg'/'pos'
    by their sentiment words."""
    import json
    rng = np.random.default_rng(seed)
    os.makedirs(root, exist_ok=True)
    for split in ('train', 'test'):
        with open(osp.join(root, f'{split}.jsonl'), 'w') as f:
            for i in range(2 * per_class):
                label = ('neg', 'pos')[i % 2]
                cue = rng.choice((NEGATIVE, POSITIVE)[i % 2])
                filler = rng.choice(TEXT_WORDS[:12], size=rng.integers(2, 9))
                text = ' '.join(['the', 'film', 'was', cue, *filler])
                f.write(json.dumps(dict(text=text, label=label)) + '\n')
    return root


def save_tiny_text_model(path: str, model_type: str = 'bert') -> str:
    """A tiny random MLM (2 layers, 32-d) and a word-level tokenizer with a
    real vocabulary, saved with ``save_pretrained``."""
    from transformers import (AutoConfig, AutoModelForMaskedLM, BertTokenizer,
                              RobertaTokenizer)
    torch.manual_seed(0)
    letters = list('abcdefghijklmnopqrstuvwxyz')
    if model_type == 'bert':
        tokens = [
            '[PAD]', '[UNK]', '[CLS]', '[SEP]', '[MASK]', *TEXT_WORDS,
            *letters, *('##' + c for c in letters), '.', ',', '!'
        ]
        tokenizer = BertTokenizer(vocab={
            t: i
            for i, t in enumerate(dict.fromkeys(tokens))
        })
    else:
        vocab = {'<s>': 0, '<pad>': 1, '</s>': 2, '<unk>': 3}
        merges = []
        for word in TEXT_WORDS:  # whole words as merges of 'Ġ' + letters
            piece = 'Ġ'
            for char in word:
                vocab.setdefault(char, len(vocab))
                if (piece, char) not in merges:
                    merges.append((piece, char))
                piece += char
                vocab.setdefault(piece, len(vocab))
        vocab.setdefault('Ġ', len(vocab))
        vocab['<mask>'] = len(vocab)
        tokenizer = RobertaTokenizer(vocab=vocab, merges=merges)
    config = AutoConfig.for_model(
        model_type,
        vocab_size=len(tokenizer),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=72,
        pad_token_id=tokenizer.pad_token_id)
    AutoModelForMaskedLM.from_config(config).save_pretrained(path)
    tokenizer.save_pretrained(path)
    return path


@pytest.fixture(scope='session')
def tiny_bert_dir(tmp_path_factory) -> str:
    return save_tiny_text_model(str(tmp_path_factory.mktemp('tiny_bert')))


@pytest.fixture(scope='session')
def tiny_roberta_dir(tmp_path_factory) -> str:
    return save_tiny_text_model(
        str(tmp_path_factory.mktemp('tiny_roberta')), 'roberta')


@pytest.fixture(scope='session')
def text_root(tmp_path_factory) -> str:
    return write_text_data(str(tmp_path_factory.mktemp('text')))


def save_tiny_classifier(path: str, model_dir: str, num_labels: int = 2):
    """The tiny BERT as a sequence classifier (a stand-in for a fine-tuned
    teacher)."""
    from transformers import AutoModelForSequenceClassification

    from mmsd.text import load_tokenizer
    torch.manual_seed(1)
    AutoModelForSequenceClassification.from_pretrained(
        model_dir, num_labels=num_labels).save_pretrained(path)
    load_tokenizer(model_dir).save_pretrained(path)
    return path


@pytest.fixture(scope='session')
def tiny_classifier_dir(tiny_bert_dir, tmp_path_factory) -> str:
    return save_tiny_classifier(
        str(tmp_path_factory.mktemp('tiny_classifier')), tiny_bert_dir)


@pytest.fixture(scope='session')
def crild_teacher_dir(tiny_bert_dir, tmp_path_factory) -> str:
    """A 'fine-tuned' 2-layer classifier: the tiny BERT, perturbed."""
    from transformers import AutoModelForSequenceClassification

    from mmsd.text import load_tokenizer
    torch.manual_seed(1)
    model = AutoModelForSequenceClassification.from_pretrained(
        tiny_bert_dir, num_labels=2)
    perturb(model, 0.1)
    path = tmp_path_factory.mktemp('crild_teacher')
    model.save_pretrained(path)
    load_tokenizer(tiny_bert_dir).save_pretrained(path)
    return str(path)


def build_ild(student_dir: str, teacher_dir: str, **kwargs):
    """CR-ILD stage A with a 1-layer student (the tiny models have 2)."""
    from mmsd.text.crild import IntermediateLayerDistill
    kwargs.setdefault('num_student_layers', 1)
    return IntermediateLayerDistill(
        student=student_dir, teacher=teacher_dir, **kwargs)


def text_batch(model, seed: Optional[int] = None) -> dict:
    """:data:`TEXTS` through the model's data preprocessor in training
    mode (masked, for an MLM), after ``torch.manual_seed(seed)`` if given."""
    if seed is not None:
        torch.manual_seed(seed)
    return model.data_preprocessor(dict(inputs=TEXTS), True)['inputs']
