# Copyright (c) mmsd contributors. All rights reserved.
import pytest
import torch
from mmengine.evaluator import BaseMetric, Evaluator
from mmengine.hooks import Hook
from mmengine.model import BaseModel
from mmengine.runner import Runner
from mmengine.structures import BaseDataElement
from mmpretrain.registry import DATASETS, METRICS, MODELS
from torch.utils.data import Dataset

from mmsd.engine import MultiSplitValLoop


@DATASETS.register_module(force=True)
class SplitValuesDataset(Dataset):
    metainfo = dict(classes=('x', ))

    def __init__(self, values):
        self.values = values

    def __len__(self):
        return len(self.values)

    def __getitem__(self, index):
        return dict(inputs=torch.tensor([float(self.values[index])]))


@MODELS.register_module(force=True)
class SplitValuesModel(BaseModel):
    """Predicts its input; reports the batch mean of x² as a val loss."""

    def __init__(self):
        super().__init__()
        self.weight = torch.nn.Parameter(torch.zeros(1))

    def forward(self, inputs, data_samples=None, mode='tensor'):
        x = torch.stack(inputs)
        if mode == 'loss':
            return dict(loss=((self.weight - 1)**2).sum())
        outputs = [BaseDataElement(value=v.item()) for v in x[:, 0]]
        return outputs + [BaseDataElement(loss=dict(loss_sq=x.pow(2).mean()))]


@METRICS.register_module(force=True)
class SplitValuesMean(BaseMetric):

    def process(self, data_batch, data_samples):
        self.results.extend(sample['value'] for sample in data_samples)

    def compute_metrics(self, results):
        return dict(mean=sum(results) / len(results))


class RecordMetrics(Hook):

    def __init__(self):
        self.metrics = []

    def after_val_epoch(self, runner, metrics=None):
        self.metrics.append(dict(metrics))


def loader(values, batch_size=2):
    return dict(
        dataset=dict(type='SplitValuesDataset', values=values),
        batch_size=batch_size,
        sampler=dict(type='DefaultSampler', shuffle=False))


def make_runner(tmp_path, **val_cfg):
    train = loader([0, 0])
    train['sampler'] = dict(type='InfiniteSampler', shuffle=True)
    return Runner(
        model=dict(type='SplitValuesModel'),
        work_dir=str(tmp_path),
        train_dataloader=train,
        val_dataloader=loader([1, 3, 5, 7]),
        val_evaluator=[dict(type='SplitValuesMean')],
        optim_wrapper=dict(optimizer=dict(type='SGD', lr=0.1)),
        train_cfg=dict(by_epoch=False, max_iters=4, val_interval=2),
        val_cfg=dict(type='MultiSplitValLoop', **val_cfg),
        default_scope='mmpretrain',
        default_hooks=dict(logger=dict(type='LoggerHook', interval=1)),
        log_processor=dict(by_epoch=False))


def test_every_split_is_evaluated_with_its_own_prefix(tmp_path):
    runner = make_runner(
        tmp_path, splits=dict(train=loader([10, 20]), other=loader([2, 4])))
    record = RecordMetrics()
    runner.register_hook(record)
    runner.train()
    assert isinstance(runner.val_loop, MultiSplitValLoop)
    assert len(record.metrics) == 2  # iterations 2 and 4
    expected = {
        'mean': 4.0,
        'loss_sq': (1 + 9) / 2 / 2 + (25 + 49) / 2 / 2,
        'train/mean': 15.0,
        'train/loss_sq': (100 + 400) / 2,
        'other/mean': 3.0,
        'other/loss_sq': (4 + 16) / 2,
    }
    for metrics in record.metrics:
        for key, value in expected.items():
            assert metrics[key] == pytest.approx(value), key
        # MMEngine's total of the loss keys, per split.
        assert metrics['train/val_loss'] == pytest.approx(250.0)
    # The splits' results reach the logs like any val metric.
    scalars = (tmp_path / runner.timestamp / 'vis_data' /
               'scalars.json').read_text()
    assert '"train/mean": 15.0' in scalars and '"other/mean": 3.0' in scalars


def test_name_prefixes_the_val_dataloader_too(tmp_path):
    runner = make_runner(
        tmp_path, name='heldout', splits=dict(train=loader([10, 20])))
    metrics = runner.val_loop.run()
    assert metrics['heldout/mean'] == 4.0 and metrics['train/mean'] == 15.0
    assert 'mean' not in metrics


def test_bad_configs_are_refused(tmp_path):
    runner = make_runner(
        tmp_path, name='train', splits=dict(train=loader([1])))
    with pytest.raises(ValueError, match='must differ'):
        runner.val_loop
    built = Evaluator([SplitValuesMean()])
    with pytest.raises(TypeError, match='not a built Evaluator'):
        MultiSplitValLoop(
            runner, loader([1]), built, splits=dict(train=loader([2])))
