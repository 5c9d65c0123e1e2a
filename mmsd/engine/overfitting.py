# Copyright (c) mmsd contributors. All rights reserved.
"""When a further pre-training curve says the encoder overfits."""
from typing import List, Sequence, Tuple


def overfitting_signs(curve: Sequence[dict], patience: int, mae_rise: float,
                      knn_drop: float) -> List[Tuple[int, str]]:
    """The signs of overfitting in a probe curve.

    Args:
        curve (Sequence[dict]): Probe records in step order, each with
            ``step`` and any of ``mae_heldout``, ``knn_top1`` and
            ``train_loss`` (mean training loss since the previous record).
        patience (int): Probes a sign must last.
        mae_rise (float): Relative rise of the held-out MAE loss above its
            minimum.
        knn_drop (float): Drop of the kNN top-1 below its peak, in points.

    Returns:
        list[tuple[int, str]]: Per sign, the step where the curve was best
        and a sentence. Signs: the held-out MAE loss has not improved for
        ``patience`` probes and is more than ``mae_rise`` above its minimum
        while the training loss fell since that minimum; the kNN top-1 has
        been more than ``knn_drop`` points below its peak for the last
        ``patience`` probes.
    """
    reasons = []
    heldout = [(i, r['mae_heldout']) for i, r in enumerate(curve)
               if r.get('mae_heldout') is not None]
    if len(heldout) > patience:
        best_i, best = min(heldout, key=lambda item: item[1])
        now = heldout[-1][1]
        since_best = sum(1 for i, _ in heldout if i > best_i)
        losses = [
            r['train_loss'] for r in curve[best_i:]
            if r.get('train_loss') is not None
        ]
        if (since_best >= patience and now > best * (1 + mae_rise)
                and len(losses) >= 2 and losses[-1] < losses[0]):
            reasons.append(
                (curve[best_i]['step'],
                 f'the held-out MAE loss rose to {now:.4f}, '
                 f'{100 * (now / best - 1):.0f}% above its minimum '
                 f'{best:.4f} at iteration {curve[best_i]["step"]}, while '
                 f'the training loss fell from {losses[0]:.4f} to '
                 f'{losses[-1]:.4f}'))
    knn = [(i, r['knn_top1']) for i, r in enumerate(curve)
           if r.get('knn_top1') is not None]
    if len(knn) > patience:
        peak_i, peak = max(knn, key=lambda item: item[1])
        recent = knn[-patience:]
        if recent[0][0] > peak_i and all(value < peak - knn_drop
                                         for _, value in recent):
            reasons.append(
                (curve[peak_i]['step'],
                 f'the kNN top-1 fell to {recent[-1][1]:.2f}%, '
                 f'{peak - recent[-1][1]:.2f} points below its peak '
                 f'{peak:.2f}% at iteration {curve[peak_i]["step"]}'))
    return reasons
