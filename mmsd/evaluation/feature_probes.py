# Copyright (c) mmsd contributors. All rights reserved.
"""Accuracy of frozen features: weighted kNN and a closed-form linear probe.

Both take features of a labelled bank (train) split and a query (test)
split and return the predicted classes of the queries; they need no
training loop and are deterministic.
"""
import torch
import torch.nn.functional as F


def knn_predict(bank: torch.Tensor,
                bank_labels: torch.Tensor,
                query: torch.Tensor,
                num_classes: int,
                k: int = 20,
                temperature: float = 0.07,
                chunk_size: int = 1024) -> torch.Tensor:
    """Weighted k-nearest-neighbour classification on cosine similarity.

    The classifier of `Emerging Properties in Self-Supervised Vision
    Transformers <https://arxiv.org/abs/2104.14294>`_ (DINO) and solo-learn:
    features are L2-normalised, each query takes its ``k`` most similar bank
    features and every neighbour votes for its class with weight
    ``exp(similarity / temperature)``.

    Args:
        bank (Tensor): ``(N, D)`` features of the labelled bank.
        bank_labels (Tensor): ``(N, )`` integer classes of the bank.
        query (Tensor): ``(M, D)`` features to classify.
        num_classes (int): Number of classes.
        k (int): Number of neighbours (at most N are used). Defaults to 20.
        temperature (float): Temperature of the vote weights. Defaults to
            0.07.
        chunk_size (int): Queries compared at once. Defaults to 1024.

    Returns:
        Tensor: ``(M, )`` predicted classes.
    """
    if bank.ndim != 2 or query.ndim != 2 or bank.shape[1] != query.shape[1]:
        raise ValueError('knn_predict: bank and query must be (N, D) and '
                         f'(M, D), got {tuple(bank.shape)} and '
                         f'{tuple(query.shape)}.')
    if len(bank) != len(bank_labels) or len(bank) == 0:
        raise ValueError(f'knn_predict: {len(bank)} bank features but '
                         f'{len(bank_labels)} labels.')
    if k < 1 or temperature <= 0:
        raise ValueError('knn_predict: k must be >= 1 and temperature > 0, '
                         f'got k={k}, temperature={temperature}.')
    bank = F.normalize(bank.float(), dim=1)
    bank_labels = bank_labels.long().to(bank.device)
    k = min(k, len(bank))
    predictions = []
    for chunk in F.normalize(query.float(), dim=1).split(chunk_size):
        similarity, neighbours = (chunk @ bank.T).topk(k, dim=1)
        votes = torch.zeros(len(chunk), num_classes, device=bank.device)
        votes.scatter_add_(1, bank_labels[neighbours],
                           (similarity / temperature).exp())
        predictions.append(votes.argmax(dim=1))
    return torch.cat(predictions)


def linear_probe_predict(train: torch.Tensor,
                         train_labels: torch.Tensor,
                         test: torch.Tensor,
                         num_classes: int,
                         ridge: float = 1e-2) -> torch.Tensor:
    """A linear classifier fitted in closed form (ridge regression onto
    one-hot targets), on standardised features.

    Solves ``(XᵀX + ridge·N·I) W = XᵀY`` in float64 (the bias is not
    penalised) and predicts ``argmax(x W)``: no iterations, no randomness,
    a few milliseconds for thousands of samples.

    Args:
        train (Tensor): ``(N, D)`` features to fit on.
        train_labels (Tensor): ``(N, )`` integer classes.
        test (Tensor): ``(M, D)`` features to classify.
        num_classes (int): Number of classes.
        ridge (float): L2 penalty, relative to the number of samples.
            Defaults to 1e-2.

    Returns:
        Tensor: ``(M, )`` predicted classes.
    """
    if len(train) != len(train_labels) or len(train) == 0:
        raise ValueError(f'linear_probe_predict: {len(train)} features but '
                         f'{len(train_labels)} labels.')
    if ridge < 0:
        raise ValueError(f'linear_probe_predict: ridge must be >= 0, got '
                         f'{ridge}.')
    x = train.double()
    mean, std = x.mean(0), x.std(0).clamp_min(1e-6)

    def design(features: torch.Tensor) -> torch.Tensor:
        features = (features.double().to(x.device) - mean) / std
        return torch.cat([features, features.new_ones(len(features), 1)], 1)

    x = design(x)
    targets = F.one_hot(train_labels.long().to(x.device), num_classes).double()
    penalty = x.new_full((x.shape[1], ), ridge * len(x))
    penalty[-1] = 0  # the bias
    weights = torch.linalg.solve(x.T @ x + torch.diag(penalty), x.T @ targets)
    return (design(test) @ weights).argmax(dim=1)
