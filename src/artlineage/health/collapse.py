"""Model-collapse simulator: the published experiments, small enough to run on a CPU in seconds.

* Single Gaussian refitted each generation by maximum likelihood on ``n`` samples of the previous
  generation's model (Shumailov et al., Nature 2024): the fitted variance is a product of independent
  ``χ²_{n-1}/n`` factors, so ``E[σ²_t] = σ²_0 ((n-1)/n)^t`` and, almost surely, ``σ²_t → 0`` — tails go
  first, then everything.
* A Gaussian mixture refitted with EM (scikit-learn): minority modes and tails vanish.
* Replace vs accumulate (Gerstgrasser et al., 2024): training on all data so far (real + every
  synthetic generation) keeps the error bounded, replacing it each generation does not.
* A real-data fraction λ in each generation's training set (Bertrand et al., ICLR 2024): with enough
  fresh real data the error stays bounded near its one-generation level, with λ = 0 it grows.
* The same loop from the user's embeddings: a GMM fitted to the real embeddings (after PCA), then
  refitted from its own samples; reported as precision/recall of the generated distribution (k-NN
  manifolds, Kynkäänniemi et al., NeurIPS 2019) and tail coverage: the share of the real data's
  low-density tail (real points with the largest k-NN radii) whose k-NN ball still holds a generated
  sample (the coverage of Naeem et al., 2020, restricted to the tail).

Generation 0 is the true distribution (or the model fitted to the real data); every function takes a
``seed`` and is deterministic given it.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Literal, Sequence

import numpy as np

Mode = Literal["replace", "accumulate"]


# --------------------------------------------------------------------------- single Gaussian
@dataclass
class GaussianParams:
    n: int = 100
    generations: int = 100
    runs: int = 200
    mode: Mode = "replace"
    real_fraction: float = 0.0
    mu0: float = 0.0
    sigma0: float = 1.0
    seed: int = 0

    def label(self) -> str:
        return (f"n={self.n}, generations={self.generations}, runs={self.runs}, mode={self.mode}, "
                f"λ={self.real_fraction:g}, N({self.mu0:g}, {self.sigma0:g}²), seed={self.seed}")


@dataclass
class GaussianCollapse:
    """Fitted mean and variance per run (rows) and generation (columns, 0 = the true model)."""

    params: GaussianParams
    mean: np.ndarray
    var: np.ndarray

    @property
    def w2(self) -> np.ndarray:
        """Wasserstein-2 distance of each fitted Gaussian to the true one (closed form)."""
        p = self.params
        return np.sqrt((self.mean - p.mu0) ** 2 + (np.sqrt(self.var) - p.sigma0) ** 2)

    def theory_variance(self) -> np.ndarray:
        """E[σ²_t] for the replace loop without real data: σ²_0 ((n-1)/n)^t."""
        p = self.params
        return p.sigma0 ** 2 * ((p.n - 1) / p.n) ** np.arange(p.generations + 1)

    def summary(self) -> dict[str, Any]:
        w2 = self.w2
        t = self.params.generations
        return {
            "params": asdict(self.params),
            "final_variance_mean": float(self.var[:, -1].mean()),
            "final_variance_median": float(np.median(self.var[:, -1])),
            "theory_variance_replace_lambda0": float(self.theory_variance()[-1]),
            "w2_mean_by_generation": [round(float(x), 6) for x in w2.mean(0)[:: max(1, t // 20)]],
            "final_w2_mean": float(w2[:, -1].mean()),
        }


def _combine(mean_a, m2_a, n_a, mean_b, m2_b, n_b):
    """Chan et al.'s parallel update of (mean, sum of squared deviations): exact, numerically stable."""
    n = n_a + n_b
    delta = mean_b - mean_a
    mean = mean_a + delta * (n_b / n)
    m2 = m2_a + m2_b + delta ** 2 * (n_a * n_b / n)
    return mean, m2, n


def simulate_gaussian(params: GaussianParams | None = None, **overrides: Any) -> GaussianCollapse:
    """Refit N(μ, σ²) by maximum likelihood, generation after generation, for ``runs`` independent chains.

    Each generation's training set holds ``round(λ n)`` fresh samples of the true distribution and the
    rest sampled from the current model; ``accumulate`` adds it to all earlier training data (kept as
    exact sufficient statistics, so memory does not grow), ``replace`` uses it alone.
    """
    p = params or GaussianParams()
    if overrides:
        p = GaussianParams(**{**asdict(p), **overrides})
    if p.n < 2 or p.generations < 1 or p.runs < 1 or not 0.0 <= p.real_fraction <= 1.0:
        raise ValueError("need n >= 2, generations >= 1, runs >= 1 and 0 <= real_fraction <= 1")
    rng = np.random.default_rng(p.seed)
    means = np.empty((p.runs, p.generations + 1))
    variances = np.empty_like(means)
    means[:, 0], variances[:, 0] = p.mu0, p.sigma0 ** 2
    mu = np.full(p.runs, p.mu0, np.float64)
    var = np.full(p.runs, p.sigma0 ** 2, np.float64)
    n_real = int(round(p.real_fraction * p.n))
    n_syn = p.n - n_real
    acc_mean = acc_m2 = None
    acc_n = 0
    for t in range(1, p.generations + 1):
        parts = []
        if n_syn:
            parts.append(rng.normal(mu[:, None], np.sqrt(var)[:, None], (p.runs, n_syn)))
        if n_real:
            parts.append(rng.normal(p.mu0, p.sigma0, (p.runs, n_real)))
        batch = np.concatenate(parts, axis=1)
        b_mean = batch.mean(1)
        b_m2 = ((batch - b_mean[:, None]) ** 2).sum(1)
        if p.mode == "accumulate":
            if acc_mean is None:
                acc_mean, acc_m2, acc_n = b_mean, b_m2, p.n
            else:
                acc_mean, acc_m2, acc_n = _combine(acc_mean, acc_m2, acc_n, b_mean, b_m2, p.n)
            mu, var = acc_mean, acc_m2 / acc_n
        elif p.mode == "replace":
            mu, var = b_mean, b_m2 / p.n  # MLE (ddof=0), as the theory assumes
        else:
            raise ValueError(f"mode must be replace or accumulate, not {p.mode!r}")
        means[:, t], variances[:, t] = mu, var
    return GaussianCollapse(p, means, variances)


def sweep_real_fraction(lambdas: Sequence[float], params: GaussianParams | None = None
                        ) -> dict[float, GaussianCollapse]:
    """The replace loop for each real-data fraction λ (same seed: differences come from λ alone)."""
    p = params or GaussianParams()
    return {float(lam): simulate_gaussian(p, real_fraction=float(lam), mode="replace") for lam in lambdas}


# --------------------------------------------------------------------------- Gaussian mixture (EM)
@dataclass
class MixtureParams:
    weights: tuple[float, ...] = (0.6, 0.3, 0.1)
    means: tuple[float, ...] = (-2.0, 1.5, 5.0)
    stds: tuple[float, ...] = (0.7, 0.8, 0.5)
    n: int = 300
    generations: int = 40
    mode: Mode = "replace"
    real_fraction: float = 0.0
    seed: int = 0

    def label(self) -> str:
        comps = " + ".join(f"{w:g}·N({m:g}, {s:g}²)" for w, m, s in zip(self.weights, self.means, self.stds))
        return (f"{comps}; n={self.n}, generations={self.generations}, mode={self.mode}, "
                f"λ={self.real_fraction:g}, EM with {len(self.weights)} components, seed={self.seed}")


@dataclass
class MixtureCollapse:
    params: MixtureParams
    samples: list[np.ndarray]  # generated samples per generation (0 = real)
    tail_mass: np.ndarray  # share of generated samples beyond the true 1% / 99% quantiles (true: 0.02)
    minority_mass: np.ndarray  # share near the smallest true component (within 2σ of its mean)
    w1: np.ndarray  # 1-Wasserstein distance of each generation's samples to a large real sample

    def summary(self) -> dict[str, Any]:
        return {"params": asdict(self.params),
                "tail_mass": [round(float(x), 5) for x in self.tail_mass],
                "minority_mass": [round(float(x), 5) for x in self.minority_mass],
                "w1": [round(float(x), 5) for x in self.w1]}


def _sample_mixture(rng: np.random.Generator, weights, means, stds, n: int) -> np.ndarray:
    comp = rng.choice(len(weights), size=n, p=np.asarray(weights) / np.sum(weights))
    return rng.normal(np.asarray(means)[comp], np.asarray(stds)[comp])


def simulate_mixture(params: MixtureParams | None = None, **overrides: Any) -> MixtureCollapse:
    """Fit a 1-D Gaussian mixture with EM, sample from it, refit on the samples, repeat."""
    from scipy.stats import wasserstein_distance
    from sklearn.mixture import GaussianMixture

    p = params or MixtureParams()
    if overrides:
        p = MixtureParams(**{**asdict(p), **overrides})
    rng = np.random.default_rng(p.seed)
    reference = _sample_mixture(rng, p.weights, p.means, p.stds, 50000)
    lo, hi = np.quantile(reference, [0.01, 0.99])
    small = int(np.argmin(p.weights))
    near_small = lambda x: np.abs(x - p.means[small]) <= 2 * p.stds[small]  # noqa: E731

    real = _sample_mixture(rng, p.weights, p.means, p.stds, p.n)
    samples = [real]
    pool = [real]
    n_real = int(round(p.real_fraction * p.n))
    current = real
    for t in range(1, p.generations + 1):
        train = np.concatenate(pool) if p.mode == "accumulate" else current
        gm = GaussianMixture(len(p.weights), random_state=p.seed + t, reg_covar=1e-6, init_params="k-means++").fit(train[:, None])
        gm.random_state = int(rng.integers(2 ** 31))
        generated = gm.sample(p.n - n_real)[0].ravel() if p.n > n_real else np.zeros(0)
        fresh = _sample_mixture(rng, p.weights, p.means, p.stds, n_real) if n_real else np.zeros(0)
        current = rng.permutation(np.concatenate([generated, fresh]))
        samples.append(current)
        if p.mode == "accumulate":
            pool.append(current)
    tail = np.array([np.mean((s < lo) | (s > hi)) for s in samples])
    minority = np.array([np.mean(near_small(s)) for s in samples])
    w1 = np.array([wasserstein_distance(s, reference) for s in samples])
    return MixtureCollapse(p, samples, tail, minority, w1)


# --------------------------------------------------------------------------- from embeddings
def knn_radii(points: np.ndarray, k: int) -> np.ndarray:
    """Distance from each point to its k-th nearest other point."""
    from scipy.spatial import cKDTree

    k = min(k, len(points) - 1)
    dist, _ = cKDTree(points).query(points, k=k + 1)
    return dist[:, -1]


def _inside_manifold(queries: np.ndarray, ref: np.ndarray, radii: np.ndarray, block: int = 1024) -> np.ndarray:
    """For each query: is it inside any reference point's k-NN ball? (Kynkäänniemi et al.)"""
    inside = np.zeros(len(queries), bool)
    ref_sq = (ref ** 2).sum(1)
    r_sq = radii ** 2
    for s in range(0, len(queries), block):
        q = queries[s:s + block]
        d2 = (q ** 2).sum(1)[:, None] + ref_sq[None, :] - 2.0 * q @ ref.T
        inside[s:s + block] = (d2 <= r_sq[None, :] + 1e-12).any(1)
    return inside


def precision_recall(real: np.ndarray, generated: np.ndarray, k: int = 5) -> tuple[float, float]:
    """Improved precision and recall (Kynkäänniemi et al., 2019) with k-NN manifold estimates."""
    if len(real) < 2 or len(generated) < 2:
        return 0.0, 0.0
    precision = _inside_manifold(generated, real, knn_radii(real, k)).mean()
    recall = _inside_manifold(real, generated, knn_radii(generated, k)).mean()
    return float(precision), float(recall)


def tail_coverage(real: np.ndarray, generated: np.ndarray, real_radii: np.ndarray, tail: np.ndarray) -> float:
    """Share of the real tail points whose k-NN ball holds at least one generated point."""
    from scipy.spatial import cKDTree

    if not tail.any() or len(generated) == 0:
        return 0.0
    nearest, _ = cKDTree(generated).query(real[tail], k=1)
    return float(np.mean(nearest <= real_radii[tail]))


@dataclass
class EmbeddingParams:
    generations: int = 10
    components: int = 8
    mode: Mode = "replace"
    real_fraction: float = 0.0
    k: int = 5
    pca_dim: int = 16
    tail_quantile: float = 0.1
    max_points: int = 3000
    seed: int = 0

    def label(self) -> str:
        return (f"GMM {self.components} comp. on PCA-{self.pca_dim}; generations={self.generations}, "
                f"mode={self.mode}, λ={self.real_fraction:g}, k={self.k}, tail={self.tail_quantile:g}, "
                f"seed={self.seed}")


@dataclass
class EmbeddingCollapse:
    params: EmbeddingParams
    n: int
    precision: np.ndarray
    recall: np.ndarray
    tail_coverage: np.ndarray
    coverage: np.ndarray
    explained_variance: float = 0.0
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict[str, Any]:
        r = lambda a: [round(float(x), 4) for x in a]  # noqa: E731
        return {"params": asdict(self.params), "n": self.n, "precision": r(self.precision), "recall": r(self.recall),
                "tail_coverage": r(self.tail_coverage), "coverage": r(self.coverage),
                "pca_explained_variance": round(self.explained_variance, 4), "notes": self.notes}


def simulate_from_embeddings(embeddings: np.ndarray, params: EmbeddingParams | None = None,
                             **overrides: Any) -> EmbeddingCollapse:
    """Fit a GMM to real embeddings (after PCA), then retrain it on its own samples for k generations.

    Generation 0 measures the GMM fitted to real data; generation t the GMM after t refits.
    """
    from sklearn.decomposition import PCA
    from sklearn.mixture import GaussianMixture

    p = params or EmbeddingParams()
    if overrides:
        p = EmbeddingParams(**{**asdict(p), **overrides})
    x = np.asarray(embeddings, np.float64)
    if x.ndim != 2 or len(x) < 10:
        raise ValueError("need an (n, d) array of at least 10 embeddings")
    rng = np.random.default_rng(p.seed)
    notes = []
    if len(x) > p.max_points:
        x = x[np.sort(rng.choice(len(x), p.max_points, replace=False))]
        notes.append(f"subsampled to {p.max_points} embeddings (k-NN metrics are O(n²))")
    dim = max(1, min(p.pca_dim, x.shape[1], len(x) - 1))
    pca = PCA(dim, random_state=p.seed).fit(x)
    real = pca.transform(x)
    components = max(1, min(p.components, len(real) // 10))
    if components != p.components:
        notes.append(f"{components} GMM components for {len(real)} points")
    n = len(real)
    real_radii = knn_radii(real, p.k)
    tail = real_radii >= np.quantile(real_radii, 1.0 - p.tail_quantile)
    n_real = int(round(p.real_fraction * n))

    def fit(data: np.ndarray, t: int):
        return GaussianMixture(components, covariance_type="full", reg_covar=1e-6 * float(real.var()), init_params="k-means++",
                               random_state=p.seed + t).fit(data)

    model = fit(real, 0)
    pool = [real]
    prec, rec, tcov, cov = [], [], [], []
    for t in range(p.generations + 1):
        model.random_state = int(rng.integers(2 ** 31))
        generated = model.sample(n)[0]
        pr, rc = precision_recall(real, generated, p.k)
        prec.append(pr)
        rec.append(rc)
        tcov.append(tail_coverage(real, generated, real_radii, tail))
        cov.append(tail_coverage(real, generated, real_radii, np.ones(n, bool)))
        if t == p.generations:
            break
        train = generated[: n - n_real]
        if n_real:
            train = np.concatenate([train, real[rng.choice(n, n_real, replace=False)]])
        if p.mode == "accumulate":
            pool.append(train)
            train = np.concatenate(pool)
        model = fit(train, t + 1)
    return EmbeddingCollapse(p, n, np.array(prec), np.array(rec), np.array(tcov), np.array(cov),
                             float(pca.explained_variance_ratio_.sum()), notes)
