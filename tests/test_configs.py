# Copyright (c) mmsd contributors. All rights reserved.
"""Every config in configs/ loads and builds its model."""
import glob
import os.path as osp

import pytest
import torch
from conftest import REPO, SD_CONFIG, save_tiny_classifier
from mmengine.config import Config
from mmpretrain.registry import MODELS

CONFIGS = sorted(
    path for path in glob.glob(
        osp.join(REPO, 'configs', '**', '*.py'), recursive=True)
    if '_base_' not in path)


def test_every_dataset_and_size_has_three_stages():
    names = {osp.basename(path) for path in CONFIGS}
    for data in ('cub', 'aircraft', 'dtd', 'flowers102', 'dogs', 'chest-xray'):
        assert f'fpt_vit-b-p16_mae-in1k_1xb64-20k_{data}.py' in names
        assert f'sd_vit-b-p16_mae-in1k_1xb64-2x20k_{data}.py' in names
        assert f'ft_vit-b-p16_sd_1xb32-10k_{data}.py' in names
    for size in 'sl':
        assert f'sd_vit-{size}-p16_mae-in1k_1xb64-2x20k_cub.py' in names
    for data in ('acl-arc', 'scierc', 'chemprot'):
        assert f'mlm_roberta-base_1xb16-10k_{data}.py' in names
        assert f'sd_roberta-base_1xb16-2x10k_{data}.py' in names
        assert f'ft_roberta-base_sd_1xb16-2k_{data}.py' in names
        for baseline in ('l2sp', 'recadam', 'mars', 'r3f'):
            assert f'{baseline}_roberta-base_1xb16-2k_{data}.py' in names


TEXT_MODELS = ('HFMaskedLM', 'SelfDistillMLM', 'HFSequenceClassifier',
               'IntermediateLayerDistill', 'PredictionLayerDistill')


def build_text_model(cfg, model_dir: str, classifier_dir: str):
    """Text configs name local model directories the user (or an earlier
    stage) provides: build them with tiny test models in their place."""
    import mmsd.text  # noqa: F401
    assert 'mmsd.text' in cfg.custom_imports['imports']
    stand_ins = dict(
        model_name_or_path=model_dir,
        student=model_dir,
        teacher=classifier_dir)
    for key, stand_in in stand_ins.items():
        if key in cfg.model:
            path = cfg.model[key]
            assert path.startswith(('data/', 'work_dirs/')), path
            cfg.model[key] = stand_in
    if cfg.model.get('num_classes') == 1 and 'teacher' in cfg.model:
        cfg.model.teacher = save_tiny_classifier(
            osp.join(osp.dirname(classifier_dir), 'regression_teacher'),
            model_dir,
            num_labels=1)
    if 'num_student_layers' in cfg.model:  # the tiny teacher has 2 layers
        cfg.model.num_student_layers = 1
    model = MODELS.build(cfg.model)
    if cfg.model.type == 'HFSequenceClassifier':
        classes = cfg.test_dataloader.dataset.get('classes')
        assert model.hf_model.config.num_labels == (
            len(classes) if classes else 1)
    return model


def test_every_dataset_has_the_baseline_rows():
    names = {osp.basename(path) for path in CONFIGS}
    for data in ('cub', 'aircraft', 'dtd', 'flowers102', 'dogs', 'chest-xray'):
        for row in ('ft_vit-b-p16_mae-in1k', 'ft_vit-b-p16_fpt',
                    'l2sp_vit-b-p16_mae-in1k', 'recadam_vit-b-p16_mae-in1k',
                    'mars_vit-b-p16_mae-in1k', 'r3f_vit-b-p16_mae-in1k'):
            assert f'{row}_1xb32-10k_{data}.py' in names
    for row in ('l2sp', 'recadam', 'mars', 'r3f'):
        assert f'{row}_vit-tiny-p7_1xb64-1k_fashion-mnist.py' in names


@pytest.mark.parametrize('data', ['cub', 'dtd'])
def test_baseline_rows_differ_from_plain_finetuning_only_by_the_switch(data):
    by_name = {osp.basename(path): path for path in CONFIGS}

    def load(name):
        return Config.fromfile(by_name[name]).to_dict()

    plain = load(f'ft_vit-b-p16_mae-in1k_1xb32-10k_{data}.py')
    assert plain['model']['backbone_checkpoint'] == (
        'checkpoints/mae_vit-base-p16_in1k.pth')
    assert 'regularizers' not in plain['model']
    assert plain['optim_wrapper']['optimizer']['type'] == 'AdamW'
    for row in ('l2sp', 'r3f', 'recadam', 'mars'):
        cfg = load(f'{row}_vit-b-p16_mae-in1k_1xb32-10k_{data}.py')
        for key in ('train_dataloader', 'param_scheduler', 'train_cfg'):
            assert cfg[key] == plain[key], (row, key)
        model = dict(cfg['model'])
        regularizers = model.pop('regularizers', [])
        assert model == plain['model'], row
        assert len(regularizers) == (1 if row in ('l2sp', 'r3f') else 0)
        optimizer = cfg['optim_wrapper']['optimizer']
        assert optimizer['lr'] == 1e-4
        assert (optimizer['type'] == 'RecAdam') == (row == 'recadam')
        hooks = [h['type'] for h in cfg.get('custom_hooks', [])]
        assert hooks == (['MARSProjectionHook'] if row == 'mars' else [])


@pytest.mark.parametrize(
    'path', CONFIGS, ids=[osp.relpath(p, REPO) for p in CONFIGS])
def test_config_builds_model(path, request):
    cfg = Config.fromfile(path)
    assert cfg.default_scope == 'mmpretrain'
    assert 'mmsd' in cfg.custom_imports['imports']
    if cfg.model.type in TEXT_MODELS:
        # RoBERTa configs name RoBERTa modules (e.g. R3F's embedding).
        arch = 'roberta' if 'roberta' in osp.basename(path) else 'bert'
        model = build_text_model(
            cfg, request.getfixturevalue(f'tiny_{arch}_dir'),
            request.getfixturevalue('tiny_classifier_dir'))
    else:
        model = build_vision_model(cfg)
    assert type(model).__name__ == cfg.model.type
    assert sum(p.numel() for p in model.parameters()) > 0
    if hasattr(model, 'teacher'):
        assert not any(p.requires_grad for p in model.teacher.parameters())


def build_vision_model(cfg):
    try:
        with torch.device('meta'):
            model = MODELS.build(cfg.model)
    except RuntimeError as err:
        # MMPretrain's ResNet calls Tensor.item() in __init__, which the
        # meta device cannot answer; such models are built on the CPU.
        assert 'meta' in str(err), err
        model = MODELS.build(cfg.model)
    return model


def test_sd_vit_b_cub_trains_one_step_on_cpu():
    """The entry config's real ViT-B/16: one loss + backward at 224 px."""
    cfg = Config.fromfile(SD_CONFIG)
    cfg.model.init_checkpoint = None
    model = MODELS.build(cfg.model)
    model.init_weights()
    model.teacher.load_state_dict(model.backbone.state_dict())
    model.distill_enabled = True
    model.train()
    losses = model.loss(torch.randn(2, 3, 224, 224), [])
    assert set(losses) == {'loss_mae', 'loss_distill'}
    sum(losses.values()).backward()
    assert model.backbone.cls_token.grad is not None
    assert all(p.grad is None for p in model.teacher.parameters())


AMP_CONFIGS = [path for path in CONFIGS if '-amp-' in path]


def test_every_stage_has_bf16_and_fp16_configs():
    names = {osp.basename(path) for path in AMP_CONFIGS}
    for dtype in ('bf16', 'fp16'):
        assert f'fpt_vit-b-p16_mae-in1k_1xb64-amp-{dtype}-20k_cub.py' in names
        assert f'sd_vit-b-p16_mae-in1k_1xb64-amp-{dtype}-2x20k_cub.py' in names
        assert f'ft_vit-b-p16_sd_1xb32-amp-{dtype}-10k_cub.py' in names


@pytest.mark.parametrize(
    'path', AMP_CONFIGS, ids=[osp.relpath(p, REPO) for p in AMP_CONFIGS])
def test_amp_config_keeps_the_recipe(path):
    """Only the optimizer wrapper changes; it cannot be built without a GPU
    (AmpOptimWrapper asserts CUDA), so its settings are checked."""
    cfg = Config.fromfile(path)
    fp32 = Config.fromfile(
        path.replace('-amp-bf16', '').replace('-amp-fp16', ''))
    wrapper = cfg.optim_wrapper
    assert wrapper.type == 'AmpOptimWrapper'
    assert wrapper.dtype == ('bfloat16' if 'bf16' in path else 'float16')
    for key in ('optimizer', 'paramwise_cfg', 'clip_grad'):
        assert wrapper.get(key) == fp32.optim_wrapper.get(key)
    assert cfg.model == fp32.model or 'ft_' in osp.basename(path)
    if osp.basename(path).startswith('ft_'):
        assert cfg.model.backbone_checkpoint.startswith(
            'work_dirs/sd_vit-b-p16_mae-in1k_1xb64-amp-')


SD_TEXT_CONFIGS = [
    path for path in CONFIGS if osp.basename(path).startswith('sd_')
    and Config.fromfile(path).model.type == 'SelfDistillMLM'
]
SD_CONFIGS = [
    path for path in CONFIGS if osp.basename(path).startswith('sd_')
    and Config.fromfile(path).model.type == 'SelfDistillMAE'
]


@pytest.mark.parametrize(
    'path', SD_CONFIGS, ids=[osp.relpath(p, REPO) for p in SD_CONFIGS])
def test_self_distill_configs_cache_the_teacher(path):
    cfg = Config.fromfile(path)
    assert 'teacher_cache' not in cfg.model  # the hook is the switch
    hooks = [hook['type'] for hook in cfg.custom_hooks]
    assert 'TeacherCacheHook' in hooks
    # The paper's pipeline: nothing random, so the hook will turn it on.
    transforms = [t['type'] for t in cfg.train_dataloader.dataset.pipeline]
    assert not any(name.startswith('Random') for name in transforms)


@pytest.mark.parametrize('path', [SD_CONFIG, *SD_TEXT_CONFIGS[:1]])
def test_the_distill_head_is_the_papers_and_cfg_options_change_it(
        path, request):
    """The SD bases state no head: SelfDistillHead's defaults are the
    paper's, and --cfg-options model.distill_head.* still reaches it."""
    import argparse

    from mmengine.config import DictAction
    cfg = Config.fromfile(path)
    assert 'distill_head' not in cfg.model
    parser = argparse.ArgumentParser()
    parser.add_argument('--cfg-options', nargs='+', action=DictAction)
    options = parser.parse_args([
        '--cfg-options', 'model.distill_head.loss_weight=2.5',
        'model.distill_head.criterion=mse'
    ]).cfg_options
    heads = []
    for extra in ({}, options):
        cfg = Config.fromfile(path)
        cfg.merge_from_dict(extra)
        if cfg.model.type == 'SelfDistillMLM':
            import mmsd.text  # noqa: F401
            cfg.model.model_name_or_path = request.getfixturevalue(
                'tiny_bert_dir')
            heads.append(MODELS.build(cfg.model).distill_head)
            continue
        with torch.device('meta'):
            heads.append(MODELS.build(cfg.model).distill_head)
    paper, changed = heads
    assert (paper.representation, paper.criterion,
            paper.loss_weight) == ('cls_token', 'sse', 1.0)
    assert (changed.representation, changed.criterion,
            changed.loss_weight) == ('cls_token', 'mse', 2.5)


def test_attention_is_torch_fused_sdpa():
    """MMPretrain's attention uses torch's fused kernel when no qk_scale is
    set; keep it that way in the SD models (student and teacher)."""
    cfg = Config.fromfile(SD_CONFIG)
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    for encoder in (model.backbone, model.teacher):
        for layer in encoder.layers:
            assert layer.attn.scaled_dot_product_attention is \
                torch.nn.functional.scaled_dot_product_attention


def self_distill_config(variant: str) -> Config:
    return Config.fromfile(
        osp.join(REPO, 'configs', 'self_distill',
                 f'sd_vit-b-p16_mae-in1k_1xb64-{variant}_cub.py'))


ABLATIONS = {
    '2x20k-from-teacher': dict(restart_from='teacher'),
    '2x20k-no-mae': dict(mae_loss_weight=0.0),
    '2x20k-mean-patch': dict(distill_head=dict(representation='mean_patch')),
    '2x20k-all-tokens': dict(distill_head=dict(representation='all_tokens')),
}


@pytest.mark.parametrize('variant', ABLATIONS)
def test_ablation_configs_differ_from_plain_sd_only_by_their_switch(variant):
    plain, cfg = self_distill_config('2x20k'), self_distill_config(variant)
    for key in ('train_dataloader', 'optim_wrapper', 'param_scheduler',
                'train_cfg', 'custom_hooks'):
        assert cfg[key] == plain[key], key
    assert cfg.model.to_dict() == {
        **plain.model.to_dict(),
        **ABLATIONS[variant]
    }
    with torch.device('meta'):
        model = MODELS.build(cfg.model)
    switch = ABLATIONS[variant]
    if 'distill_head' in switch:
        representation = switch['distill_head']['representation']
        assert model.distill_head.representation == representation
        assert not model.cls_only_last_block
    else:
        (key, value), = switch.items()
        assert getattr(model, key) == value


def test_the_three_round_config_changes_schedule_at_every_switch():
    from types import SimpleNamespace

    from mmengine.registry import PARAM_SCHEDULERS

    from mmsd.engine import SelfDistillStageHook
    cfg = self_distill_config('4x20k')
    assert cfg.model == self_distill_config('2x20k').model
    hooks = {hook['type']: hook for hook in cfg.custom_hooks}
    stage = SelfDistillStageHook(**{
        k: v
        for k, v in hooks['SelfDistillStageHook'].items() if k != 'type'
    })
    assert stage.switch_iters == [20000, 40000, 60000]
    assert cfg.train_cfg.max_iters == 80000
    assert hooks['ExportBackboneHook']['each_round'] == 'round{round}_backbone'
    assert 'teacher.' not in hooks['ExportBackboneHook']['sources'].values()
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], 1.0)
    schedulers = [
        PARAM_SCHEDULERS.build(dict(s, optimizer=optimizer))
        for s in cfg.param_scheduler
    ]
    runner = SimpleNamespace(
        param_schedulers=schedulers, cfg=cfg, max_iters=80000)
    stage.check_schedules(runner)  # every round has its own schedule
    runner.param_schedulers = schedulers[:2]
    with pytest.raises(ValueError, match='at 40000: no schedule of the next'):
        stage.check_schedules(runner)


def test_the_ablation_benchmark_config_keeps_the_probe_runs_hooks():
    """benchmarks/sd_ablations.py applies reproduce_sd.py's --cfg-options
    (hook indices) to its own config and sets one schedule per stage."""
    from types import SimpleNamespace

    from mmengine.registry import PARAM_SCHEDULERS
    from mmpretrain.registry import HOOKS
    bench = osp.join(REPO, 'benchmarks', 'configs')
    probes = Config.fromfile(
        osp.join(bench, 'sd_vit-tiny-p7_fashion-mnist_two-probes.py'))
    cfg = Config.fromfile(
        osp.join(bench, 'sd-ablations_vit-tiny-p7_fashion-mnist.py'))
    types = [hook['type'] for hook in cfg.custom_hooks]
    assert types[:5] == [hook['type'] for hook in probes.custom_hooks]
    assert types[5] == 'InitDistanceHook'
    for i in (3, 4):  # the probes, as reproduce_sd.py set them
        assert cfg.custom_hooks[i] == probes.custom_hooks[i]
    # No teacher export: it would hold only the last round's teacher.
    assert 'teacher.' not in cfg.custom_hooks[2]['sources'].values()
    hooks = [HOOKS.build(dict(hook)) for hook in cfg.custom_hooks]
    optimizer = torch.optim.AdamW([torch.nn.Parameter(torch.zeros(1))], 1.0)
    schedulers = [
        PARAM_SCHEDULERS.build(dict(s, optimizer=optimizer))
        for s in cfg.param_scheduler
    ]
    assert [(s.begin, s.end) for s in schedulers] == [(0, 3000), (3000, 3300),
                                                      (3300, 3600),
                                                      (3600, 3900)]
    runner = SimpleNamespace(
        param_schedulers=schedulers, cfg=cfg, max_iters=3300)
    hooks[0].check_schedules(runner)
    three_rounds = HOOKS.build(
        dict(type='SelfDistillStageHook', switch_iter=[3000, 3300, 3600]))
    three_rounds.check_schedules(runner)
