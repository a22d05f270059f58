"""The Vendi score: the effective number of distinct items in a dataset (Friedman & Dieng, 2023).

``VS(X) = exp(H(λ))`` where ``λ`` are the eigenvalues of ``K / n``, ``K`` the cosine-similarity kernel
and ``H`` the Shannon entropy (order ``q`` = 1; other orders give the Rényi family). It is 1 when all
items are identical and ``n`` when they are mutually orthogonal.

With L2-normalised embeddings ``X`` (n×d), ``K = X Xᵀ`` and the non-zero eigenvalues of ``X Xᵀ / n``
equal those of ``Xᵀ X / n`` (d×d). That "covariance form" costs O(n d²) time and O(d²) memory and can
be accumulated batch by batch, so a million 512-d embeddings never need an n×n matrix. The
``vendi-score`` package offers the same identity (``score_dual``) on an in-memory array; this module
streams it, never copies the whole input, accumulates in float64 and bounds memory, which that one
does not. The work is the same O(n d²) product, so on one machine the two take similar time.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Iterable

import numpy as np

_EPS = 1e-12


def _entropy_exp(eigenvalues: np.ndarray, q: float = 1.0) -> float:
    """exp of the order-q (Rényi; q=1 Shannon) entropy of a probability vector given as eigenvalues."""
    w = np.clip(np.asarray(eigenvalues, dtype=np.float64), 0.0, None)
    total = w.sum()
    if total <= 0:
        return 0.0
    p = w / total  # trace(K/n) = 1 exactly in theory; renormalise away float drift
    p = p[p > _EPS]
    if q == 1:
        return float(np.exp(-(p * np.log(p)).sum()))
    if np.isinf(q):
        return float(1.0 / p.max())
    return float(np.exp(np.log((p ** q).sum()) / (1.0 - q)))


def _normalise_rows(batch: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(batch, axis=1, keepdims=True)
    # Zero rows carry no direction: they stay zero and add nothing to the kernel's trace.
    return batch / np.where(norms > 0, norms, 1.0)


def _inverse_row_norms(part: np.ndarray) -> np.ndarray:
    """1/‖row‖ for each row, 0 for zero rows (they carry no direction and add nothing to the trace)."""
    sq = np.einsum("ij,ij->i", part, part)  # one read of the chunk, no temporary the size of the chunk
    np.sqrt(sq, out=sq)
    return np.divide(1.0, sq, out=np.zeros_like(sq), where=sq > 0)


class VendiAccumulator:
    """Streaming Vendi score in covariance form: feed batches of embeddings, read the score.

    Per chunk of rows: row norms in one pass, the rows scaled into a reused buffer (the caller's array
    is never modified or copied whole), then ``chunkᵀ @ chunk`` in the working precision. numpy sends a
    product of a buffer with its own transpose to BLAS ``syrk`` (a symmetric rank-k update: one
    triangle, half the flops of a general product); measured here it is also ~10% faster than calling
    ``scipy.linalg.blas.ssyrk`` directly, as numpy bundles a newer OpenBLAS. Chunk Gram
    matrices are summed in float64, so a million float32 rows lose no accuracy to accumulation. The
    working precision is float64 for float64 input and float32 otherwise (embedders return float32,
    and float32 BLAS runs about twice as fast). Rows that are already unit length skip the scaling
    and feed BLAS straight from the caller's memory. Memory: O(d²) plus one ``chunk × d`` buffer.
    """

    def __init__(self, dim: int | None = None):
        self.n = 0
        self._gram: np.ndarray | None = None if dim is None else np.zeros((dim, dim), np.float64)
        self._buffer: np.ndarray | None = None  # chunk × d scaled rows, reused across chunks and calls
        self._chunk_gram: np.ndarray | None = None  # d × d product of one chunk, reused

    @property
    def dim(self) -> int | None:
        return None if self._gram is None else self._gram.shape[0]

    def _scratch(self, rows: int, dim: int, dtype: np.dtype) -> tuple[np.ndarray, np.ndarray]:
        buf = self._buffer
        if buf is None or buf.dtype != dtype or buf.shape[0] < rows:
            buf = self._buffer = np.empty((rows, dim), dtype)
        cg = self._chunk_gram
        if cg is None or cg.dtype != dtype:
            cg = self._chunk_gram = np.empty((dim, dim), dtype)
        return buf[:rows], cg

    def update(self, batch: np.ndarray, *, normalize: bool = True, chunk: int = 8192) -> "VendiAccumulator":
        batch = np.asarray(batch)
        if batch.ndim != 2:
            raise ValueError(f"embeddings must be 2-D (n, d), got shape {batch.shape}")
        dtype = np.dtype(np.float64 if batch.dtype == np.float64 else np.float32)
        dim = batch.shape[1]
        if self._gram is None:
            self._gram = np.zeros((dim, dim), np.float64)
        elif dim != self._gram.shape[0]:
            raise ValueError(f"embedding width {dim} differs from earlier batches ({self._gram.shape[0]})")
        for start in range(0, batch.shape[0], chunk):
            part = batch[start:start + chunk]
            buf, chunk_gram = self._scratch(part.shape[0], dim, dtype)
            if part.dtype != dtype or not part.flags.c_contiguous:
                np.copyto(buf, part, casting="unsafe")  # one converting copy into the reused buffer
                part = buf
            if normalize:
                inv = _inverse_row_norms(part)
                if not np.allclose(inv, 1.0, rtol=0, atol=1e-6):
                    np.multiply(part, inv[:, None], out=buf)
                    part = buf
            np.matmul(part.T, part, out=chunk_gram)  # same buffer, transposed: numpy uses syrk, no copy
            self._gram += chunk_gram
            self.n += part.shape[0]
        return self

    def eigenvalues(self) -> np.ndarray:
        """Eigenvalues of Xᵀ X / n (the non-zero spectrum of K / n), descending."""
        if self._gram is None or self.n == 0:
            return np.zeros(0)
        if not np.isfinite(self._gram).all():
            raise ValueError("embeddings contain NaN or infinite values")
        w = np.linalg.eigvalsh(self._gram / self.n)  # one d × d eigendecomposition
        return w[::-1]

    def score(self, q: float = 1.0) -> float:
        if self.n == 0:
            return 0.0
        return _entropy_exp(self.eigenvalues(), q)


def vendi_score(embeddings: np.ndarray | Iterable[np.ndarray], *, q: float = 1.0, normalize: bool = True,
                chunk: int = 8192) -> float:
    """Vendi score of embeddings (an (n, d) array, or an iterable of such batches), covariance form."""
    acc = VendiAccumulator()
    if isinstance(embeddings, np.ndarray):
        acc.update(embeddings, normalize=normalize, chunk=chunk)
    else:
        for batch in embeddings:
            acc.update(batch, normalize=normalize, chunk=chunk)
    return acc.score(q)


def vendi_score_kernel(embeddings: np.ndarray, *, q: float = 1.0, normalize: bool = True) -> float:
    """Reference n×n kernel form, exactly as defined in the paper. O(n³): small n only (tests, checks)."""
    x = np.asarray(embeddings, dtype=np.float64)
    if normalize:
        x = _normalise_rows(x)
    if x.shape[0] > 20000:
        raise ValueError("the kernel form needs an n×n eigendecomposition; use vendi_score for n > 20000")
    k = x @ x.T
    return _entropy_exp(np.linalg.eigvalsh(k / x.shape[0]), q)


@dataclass
class SampledVendi:
    """Vendi estimated on random subsets: mean and spread over ``repeats`` draws of ``sample_size``."""

    score: float
    std: float
    sample_size: int
    repeats: int
    population: int

    def to_dict(self) -> dict[str, float | int]:
        return {"score": self.score, "std": self.std, "sample_size": self.sample_size, "repeats": self.repeats,
                "population": self.population}


def vendi_score_sampled(embeddings: np.ndarray, *, sample_size: int = 50000, repeats: int = 3, seed: int = 0,
                        q: float = 1.0) -> SampledVendi:
    """Vendi on ``repeats`` uniform subsets of ``sample_size`` rows, for when even one O(n d²) pass is too much.

    The estimate is consistent (the subset's spectrum converges to the population's) but biased low for
    small samples, since a subset of m rows cannot show more than m distinct items; the spread across
    repeats says how far to trust it.
    """
    x = np.asarray(embeddings)
    n = x.shape[0]
    if n <= sample_size:
        return SampledVendi(vendi_score(x, q=q), 0.0, n, 1, n)
    rng = np.random.default_rng(seed)
    scores = [vendi_score(x[np.sort(rng.choice(n, sample_size, replace=False))], q=q) for _ in range(repeats)]
    return SampledVendi(float(np.mean(scores)), float(np.std(scores)), sample_size, repeats, n)
