"""SASRec: a self-attentive next-item model over each user's latest items (recloop[sequence]).

Causal transformer blocks over the latest ``max_len`` items (item embedding, learned
positions counted back from the latest item), tied input/output item embeddings, trained
with cross-entropy over the whole catalog at every position (or over ``negatives`` shared
sampled items for large catalogs). Every user history is cut into windows of
``max_len + 1`` items, so long histories train on all their events, not only the latest.

Importing this module imports torch; the serving path imports it only when a recipe names
the ``sasrec`` source (:mod:`recloop.retrieval.sources.sasrec`). Memory: the item embedding
float32 (n_items + 1, d) plus ~``blocks * 12 * d^2`` weights (0.5 MB at d=64, 1,682 items).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import torch
from torch import nn

from recloop.config import SASRecParams
from recloop.retrieval.base import BaseScorer, TrainData

__all__ = ["SASRecNet", "SASRecScorer", "training_windows"]

_IGNORE = -100
_SCORE_BATCH = 256


class SASRecNet(nn.Module):
    """The network: item ids (b, L) int64, 0 = padding on the left, to hidden states (b, L, d)."""

    def __init__(self, n_items: int, p: SASRecParams) -> None:
        super().__init__()
        self.d = p.d
        self.items = nn.Embedding(n_items + 1, p.d, padding_idx=0)
        self.positions = nn.Embedding(p.max_len, p.d)
        # item rows of norm ~1: inputs (times sqrt(d)) match the positions' scale, logits start ~N(0, 1)
        nn.init.normal_(self.items.weight, std=p.d**-0.5)
        with torch.no_grad():
            self.items.weight[0].zero_()
        self.drop = nn.Dropout(p.dropout)
        layer = nn.TransformerEncoderLayer(p.d, p.heads, dim_feedforward=p.d, dropout=p.dropout,
                                           batch_first=True, norm_first=True)  # fmt: skip
        self.blocks = nn.TransformerEncoder(layer, p.blocks, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(p.d)
        causal = torch.triu(torch.full((p.max_len, p.max_len), float("-inf")), diagonal=1)
        self.register_buffer("causal", causal, persistent=False)

    def forward(self, seqs: torch.Tensor) -> torch.Tensor:
        """Hidden states float32 (b, L, d); position L-1 (the latest item) predicts the next."""
        length = seqs.shape[1]
        x = self.items(seqs) * math.sqrt(self.d) + self.positions.weight[-length:]
        # padded keys get a large finite penalty, so an all-padding row stays finite
        pad = (seqs == 0).to(torch.float32) * -1e9
        causal: torch.Tensor = self.causal  # type: ignore[assignment]
        h = self.blocks(self.drop(x), mask=causal[:length, :length], src_key_padding_mask=pad)
        out: torch.Tensor = self.norm(h)
        return out

    def logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Scores (..., n_items) of every item (dense index) from hidden states (..., d)."""
        return hidden @ self.items.weight[1:].T


def training_windows(histories: Sequence[np.ndarray], max_len: int) -> tuple[np.ndarray, np.ndarray]:
    """Inputs and targets int64 (n_windows, max_len) from item-index histories, left padded.

    Inputs hold item index + 1 (0 = padding); targets the next item's index (-100 = none).
    Each history of n >= 2 items gives ceil((n - 1) / max_len) windows, the latest one first.
    """
    inputs, targets = [], []
    for h in histories:
        for end in range(len(h), 1, -max_len):
            seq = h[max(0, end - max_len - 1) : end]
            x = np.zeros(max_len, dtype=np.int64)
            y = np.full(max_len, _IGNORE, dtype=np.int64)
            x[max_len - len(seq) + 1 :] = seq[:-1] + 1
            y[max_len - len(seq) + 1 :] = seq[1:]
            inputs.append(x)
            targets.append(y)
    if not inputs:
        return np.zeros((0, max_len), np.int64), np.zeros((0, max_len), np.int64)
    return np.stack(inputs), np.stack(targets)


def _loss(
    net: SASRecNet, x: torch.Tensor, y: torch.Tensor, negatives: int, gen: torch.Generator
) -> torch.Tensor:
    """Cross-entropy of the next item: over the catalog, or over ``negatives`` shared samples."""
    keep = y != _IGNORE
    h = net(x)[keep]
    target = y[keep]
    if negatives <= 0:
        return nn.functional.cross_entropy(net.logits(h), target)
    n_items = net.items.num_embeddings - 1
    neg = torch.randint(0, n_items, (negatives,), generator=gen)
    pos_logit = (h * net.items(target + 1)).sum(-1, keepdim=True)
    neg_logit = h @ net.items(neg + 1).T
    neg_logit = neg_logit.masked_fill(neg[None, :] == target[:, None], float("-inf"))
    logits = torch.cat([pos_logit, neg_logit], dim=1)
    return nn.functional.cross_entropy(logits, torch.zeros(len(target), dtype=torch.int64))


class SASRecScorer(BaseScorer):
    """SASRec as a scorer: fit on the training sequences, score the next item of any history."""

    name = "sasrec"

    def __init__(self, p: SASRecParams | None = None) -> None:
        self.p = p or SASRecParams()
        self.net: SASRecNet | None = None
        self.losses: list[float] = []

    def fit(self, data: TrainData) -> SASRecScorer:
        """Train for ``epochs`` passes over the windows (seeded; ``threads`` torch threads)."""
        p = self.p
        before = torch.get_num_threads()
        torch.set_num_threads(p.threads)
        try:
            torch.manual_seed(p.seed)
            gen = torch.Generator().manual_seed(p.seed)
            net = SASRecNet(data.n_items, p)
            x_all, y_all = (torch.from_numpy(a) for a in training_windows(data.histories(), p.max_len))
            opt = torch.optim.Adam(net.parameters(), lr=p.lr, weight_decay=p.weight_decay)
            net.train()
            self.losses = []
            for _ in range(p.epochs if len(x_all) else 0):
                total = 0.0
                for idx in torch.split(torch.randperm(len(x_all), generator=gen), p.batch_size):
                    loss = _loss(net, x_all[idx], y_all[idx], p.negatives, gen)
                    opt.zero_grad()
                    loss.backward()  # type: ignore[no-untyped-call]
                    opt.step()
                    total += float(loss.detach()) * len(idx)
                self.losses.append(total / len(x_all))
            net.eval()
            self.net = net
        finally:
            torch.set_num_threads(before)
        return self

    def _net(self) -> SASRecNet:
        if self.net is None:
            raise RuntimeError("SASRecScorer: fit or load it before scoring")
        return self.net

    def _inputs(self, histories: Sequence[np.ndarray]) -> torch.Tensor:
        x = np.zeros((len(histories), self.p.max_len), dtype=np.int64)
        for row, h in enumerate(histories):
            last = np.asarray(h[-self.p.max_len :], dtype=np.int64)
            if len(last):
                x[row, -len(last) :] = last + 1
        return torch.from_numpy(x)

    def score(self, history: np.ndarray) -> np.ndarray:
        """Next-item scores float32 (n_items,) from the latest ``max_len`` items (zeros if none)."""
        scores: np.ndarray = self.score_many([history])[0]
        return scores

    def score_many(self, histories: Sequence[np.ndarray]) -> np.ndarray:
        """Scores float32 (n_users, n_items), in batches of 256 histories."""
        net = self._net()
        n_items = net.items.num_embeddings - 1
        out = np.zeros((len(histories), n_items), dtype=np.float32)
        with torch.inference_mode():
            for start in range(0, len(histories), _SCORE_BATCH):
                chunk = histories[start : start + _SCORE_BATCH]
                logits = net.logits(net(self._inputs(chunk))[:, -1]).numpy()
                empty = np.asarray([len(h) == 0 for h in chunk])
                logits[empty] = 0.0
                out[start : start + len(chunk)] = logits
        return out

    def params(self) -> dict[str, Any]:
        """The hyperparameters."""
        return self.p.model_dump()

    def save(self, path: Path) -> None:
        """The weights (a torch state_dict) into ``path``."""
        torch.save(self._net().state_dict(), path)

    @classmethod
    def load(cls, p: SASRecParams, path: Path) -> SASRecScorer:
        """Read weights written by :meth:`save` for a model with parameters ``p``."""
        state = torch.load(path, map_location="cpu", weights_only=True)
        net = SASRecNet(int(state["items.weight"].shape[0]) - 1, p)
        net.load_state_dict(state)
        net.eval()
        scorer = cls(p)
        scorer.net = net
        return scorer
