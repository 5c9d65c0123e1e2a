# Copyright (c) mmsd contributors. All rights reserved.
"""Compute the SVD basis of a KDEP teacher's features (run once).

Passes the frozen teacher of a KDEP config over ``svd_basis_dataloader``
(else ``train_dataloader``), in order, and writes mean, top-k right singular
vectors and singular values to ``model.basis_file`` (or ``--out``) as a
tensors-only file. With several processes each one reads its shard and rank
0 writes the file from the gathered features: the same file as one process.

Examples::

    python tools/compute_svd_basis.py configs/kdep/CONFIG.py
    python -m torch.distributed.run --nproc_per_node=8 \
        tools/compute_svd_basis.py configs/kdep/CONFIG.py --launcher pytorch
"""
import argparse
import os

import torch
from mmengine.config import Config, DictAction
from mmengine.dist import get_dist_info, init_dist
from mmengine.registry import init_default_scope
from mmpretrain.registry import MODELS

import mmsd  # noqa: F401  (registers mmsd modules, safe checkpoint loading)
from mmsd.kdep import build_basis_dataloader, compute_basis_file
from mmsd.utils import check_data_roots, setup_cpu_distributed


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument('config', help='KDEP config file')
    parser.add_argument(
        '--out', help='output file; defaults to model.basis_file')
    parser.add_argument(
        '--max-samples',
        type=int,
        help='use only the first N images of the dataset')
    parser.add_argument(
        '--batch-size', type=int, help='batch size of the teacher pass')
    parser.add_argument(
        '--cfg-options',
        nargs='+',
        action=DictAction,
        help='override config settings, as in tools/train.py')
    parser.add_argument(
        '--launcher',
        choices=['none', 'pytorch', 'slurm', 'mpi'],
        default='none',
        help='job launcher')
    parser.add_argument('--local_rank', '--local-rank', type=int, default=0)
    args = parser.parse_args()
    os.environ.setdefault('LOCAL_RANK', str(args.local_rank))
    return args


def main() -> None:
    args = parse_args()
    cfg = Config.fromfile(args.config)
    if args.cfg_options is not None:
        cfg.merge_from_dict(args.cfg_options)
    cfg.launcher = args.launcher
    init_default_scope(cfg.get('default_scope', 'mmpretrain'))
    check_data_roots(cfg, ('train_dataloader', ))
    if args.launcher != 'none' and not setup_cpu_distributed(cfg):
        init_dist(args.launcher, **cfg.get('env_cfg', {}).get('dist_cfg', {}))

    model = MODELS.build(cfg.model)
    model.init_weights()  # loads the teacher checkpoint, checked
    if torch.cuda.is_available():
        model = model.cuda()
    model.eval()
    dataloader = build_basis_dataloader(cfg, args.batch_size)
    out = args.out or model.basis_file
    basis = compute_basis_file(model, dataloader, out, args.max_samples)
    if get_dist_info()[0] == 0:
        print(f'Wrote the SVD basis of {int(basis.num_samples)} teacher '
              f'features (k={basis.k}, D={basis.dim}) to {out}')


if __name__ == '__main__':
    main()
