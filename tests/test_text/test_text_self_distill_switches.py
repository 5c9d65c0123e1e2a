# Copyright (c) mmsd contributors. All rights reserved.
"""The self-distillation switches on SelfDistillMLM, at tiny scale: several
rounds in one run, the student restarted from the teacher, no MLM term, the
distilled representation, λ, and the distance to the initial weights."""
import json
import os.path as osp

import pytest
import torch
from conftest import REPO, perturb, text_batch
from mmengine.config import Config
from mmengine.hooks import Hook
from mmengine.runner import Runner
from transformers import AutoModel

from mmsd.text.models import SelfDistillMLM
from mmsd.utils import read_state_dict

SD_CONFIG = osp.join(REPO, 'configs', 'demo', 'text',
                     'sd_minilm-l6_1xb16-2x100_rotten-tomatoes.py')


def state(module: torch.nn.Module) -> dict:
    return {k: v.clone() for k, v in module.state_dict().items()}


def assert_equal(actual: dict, expected: dict) -> None:
    assert actual.keys() == expected.keys()
    for key in expected:
        assert torch.equal(actual[key], expected[key]), key


def test_student_restarted_from_the_teacher(tiny_bert_dir):
    model = SelfDistillMLM(
        model_name_or_path=tiny_bert_dir, restart_from='teacher')
    torch.manual_seed(0)
    perturb(model.hf_model)  # stand-in for stage 1
    trained = state(model.hf_model)
    model.start_distill()
    assert_equal(state(model.hf_model), trained)  # encoder and MLM head
    assert_equal(state(model.teacher), state(model.encoder))
    model.eval()
    assert model.loss(text_batch(model, seed=0))['loss_distill'] == 0


def test_without_the_mlm_term_the_head_gets_no_gradient(tiny_bert_dir):
    model = SelfDistillMLM(model_name_or_path=tiny_bert_dir, mlm_loss_weight=0)
    assert model.unused_in_distill() == ['cls']
    assert set(model.loss(text_batch(model, seed=0))) == {'loss_mlm'}
    model.start_distill()
    perturb(model.teacher)
    losses = model.loss(text_batch(model, seed=0))
    assert set(losses) == {'loss_distill'}
    sum(losses.values()).backward()
    shared = {id(p) for p in model.encoder.parameters()}  # tied embeddings
    head = [p for p in model.hf_model.cls.parameters() if id(p) not in shared]
    assert head and all(p.grad is None for p in head)
    assert model.encoder.encoder.layer[0].output.dense.weight.grad is not None


def test_mlm_loss_weight_scales_loss_mlm_while_distilling(tiny_bert_dir):
    results = {}
    for weight in (1.0, 0.5):
        model = SelfDistillMLM(
            model_name_or_path=tiny_bert_dir, mlm_loss_weight=weight).eval()
        before = model.loss(text_batch(model, seed=0))['loss_mlm']
        model.start_distill()
        results[weight] = (before, model.loss(text_batch(model,
                                                         seed=0))['loss_mlm'])
    assert torch.equal(results[0.5][0], results[1.0][0])
    torch.testing.assert_close(results[0.5][1], 0.5 * results[1.0][1])


@pytest.mark.parametrize('representation',
                         ['cls_token', 'mean_patch', 'all_tokens'])
@pytest.mark.parametrize('weight', [0.1, 10.0])
def test_representation_and_lambda(tiny_bert_dir, representation, weight):
    model = SelfDistillMLM(
        model_name_or_path=tiny_bert_dir,
        distill_head=dict(
            representation=representation,
            num_extra_tokens=0,
            loss_weight=weight)).eval()
    model.start_distill()
    torch.manual_seed(0)
    perturb(model.teacher)
    inputs = text_batch(model, seed=0)
    clean = model.clean_inputs(inputs)
    mask = clean['attention_mask'][..., None].double()
    with torch.no_grad():
        student = model.encoder(**clean).last_hidden_state.double()
        teacher = model.teacher(**clean).last_hidden_state.double()
    if representation == 'cls_token':
        error = (student[:, 0] - teacher[:, 0]).pow(2).sum(-1).mean()
    elif representation == 'mean_patch':
        pooled = [(x * mask).sum(1) / mask.sum(1) for x in (student, teacher)]
        error = (pooled[0] - pooled[1]).pow(2).sum(-1).mean()
    else:  # every real token, summed over tokens, mean over the batch
        error = ((student - teacher).pow(2) * mask).sum() / len(student)
    loss = model.loss(inputs)['loss_distill']
    torch.testing.assert_close(loss.double(), weight * error)


class LossRecorder(Hook):
    priority = 'LOWEST'

    def __init__(self):
        self.losses, self.rounds = {}, {}

    def before_train_iter(self, runner, batch_idx, data_batch=None):
        self.rounds[runner.iter] = runner.model.distill_round

    def after_train_iter(self,
                         runner,
                         batch_idx,
                         data_batch=None,
                         outputs=None):
        self.losses[runner.iter] = {
            k: float(v.detach())
            for k, v in outputs.items() if k.startswith('loss')
        }


def text_runner(work_dir, model_dir, text_root, **options) -> Runner:
    """Stage 1 and two rounds, two iterations each."""
    cfg = Config.fromfile(SD_CONFIG)
    cfg.merge_from_dict({
        'model.model_name_or_path':
        model_dir,
        'train_dataloader.dataset.data_root':
        text_root,
        'train_dataloader.batch_size':
        4,
        'default_hooks.checkpoint.interval':
        1,
        'default_hooks.checkpoint.max_keep_ckpts':
        -1,
        'work_dir':
        str(work_dir),
        'randomness.seed':
        0,
        'train_cfg.max_iters':
        6,
        'param_scheduler': [
            dict(type='LinearLR', by_epoch=False, begin=b, end=b + 2)
            for b in (0, 2, 4)
        ],
        'custom_hooks': [
            dict(type='SelfDistillStageHook', switch_iter=2, rounds=2),
            dict(
                type='SavePretrainedHook',
                sources=dict(sd='hf_model'),
                each_round='round{round}'),
            dict(type='InitDistanceHook', interval=1),
        ],
        **options
    })
    runner = Runner.from_cfg(cfg)
    runner.register_hook(LossRecorder())
    return runner


def recorder(runner: Runner) -> LossRecorder:
    return next(h for h in runner.hooks if isinstance(h, LossRecorder))


def test_two_rounds_exports_and_exact_resume_inside_round_two(
        tmp_path, tiny_bert_dir, text_root):
    full = text_runner(tmp_path / 'full', tiny_bert_dir, text_root)
    full.train()
    record = recorder(full)
    assert [record.rounds[i] for i in range(6)] == [0, 0, 1, 1, 2, 2]
    assert all(
        ('loss_distill' in record.losses[i]) == (i >= 2) for i in range(6))
    # round0 and round1: the encoders that ended stage 1 and round 1.
    for k in (0, 1):
        ended = read_state_dict(
            str(tmp_path / 'full' / f'iter_{2 * k + 2}.pth'), 'hf_model.bert.')
        saved = AutoModel.from_pretrained(
            tmp_path / 'full' / f'round{k}', add_pooling_layer=False)
        assert_equal(saved.state_dict(), ended)
    assert osp.isfile(tmp_path / 'full' / 'round2' / 'config.json')
    assert osp.isfile(tmp_path / 'full' / 'sd' / 'config.json')
    # Distances logged for the encoder (BERT blocks).
    scalars = [
        json.loads(line)
        for line in open(osp.join(full.log_dir, 'vis_data', 'scalars.json'))
    ]
    distances = [s for s in scalars if 'dist_init/total' in s]
    assert [s['step'] for s in distances] == list(range(7))
    assert distances[0]['dist_init/total'] == 0
    assert 'dist_init/encoder.layer.1' in distances[1]

    resumed = text_runner(
        tmp_path / 'resumed',
        tiny_bert_dir,
        text_root,
        resume=True,
        load_from=str(tmp_path / 'full' / 'iter_5.pth'))
    resumed.train()
    assert recorder(resumed).losses == {5: record.losses[5]}  # bit for bit
    assert_equal(
        read_state_dict(str(tmp_path / 'resumed' / 'iter_6.pth')),
        read_state_dict(str(tmp_path / 'full' / 'iter_6.pth')))


def test_initial_encoder_state_is_the_encoder_as_built(tiny_bert_dir):
    model = SelfDistillMLM(model_name_or_path=tiny_bert_dir)
    assert_equal(model.initial_encoder_state(), state(model.encoder))
