"""The model-collapse report: run the simulations (:mod:`artlineage.health.collapse`), draw their figures and
write report.json / report.html / PNGs."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from ..reporting import figure_png, html_table, img_tag, new_figure, section, write_report


def gaussian_figure(replace: Any, accumulate: Any) -> bytes:
    """Fitted variance per generation: replace vs accumulate, with the theory curve (median and 10–90%)."""
    fig, ax = new_figure(figsize=(8, 4.5))
    t = np.arange(replace.var.shape[1])
    for res, colour, name in ((replace, "#d62728", "replace"), (accumulate, "#2ca02c", "accumulate")):
        q10, q50, q90 = np.quantile(res.var, [0.1, 0.5, 0.9], axis=0)
        ax.fill_between(t, q10, q90, color=colour, alpha=0.2)
        ax.plot(t, q50, color=colour, label=f"{name}: median fitted σ² (band 10–90%)")
        ax.plot(t, res.var.mean(0), color=colour, ls=":", lw=1, label=f"{name}: mean over runs")
    ax.plot(t, replace.theory_variance(), "k--", lw=1, label="theory (replace): σ²₀((n−1)/n)^t")
    ax.set_yscale("log")
    ax.set_xlabel("generation")
    ax.set_ylabel("fitted variance σ²")
    ax.legend(fontsize=8)
    p = replace.params
    ax.set_title("Single Gaussian refitted on its own samples (Shumailov 2024; Gerstgrasser 2024)", fontsize=10)
    fig.text(0.01, -0.02, f"params: n={p.n}, runs={p.runs}, generations={p.generations}, "
             f"N({p.mu0:g}, {p.sigma0:g}²), MLE refit, seed={p.seed}", fontsize=8)
    return figure_png(fig)


def real_fraction_figure(sweep: dict[float, Any]) -> bytes:
    fig, (ax1, ax2) = new_figure(1, 2, figsize=(11, 4.2))
    lams = sorted(sweep)
    from matplotlib import colormaps

    cmap = colormaps["viridis"]
    for i, lam in enumerate(lams):
        w2 = sweep[lam].w2.mean(0)
        ax1.plot(np.arange(len(w2)), w2, color=cmap(i / max(1, len(lams) - 1)), label=f"λ={lam:g}")
    ax1.set_xlabel("generation")
    ax1.set_ylabel("mean W₂ to the true Gaussian")
    ax1.legend(fontsize=8)
    ax1.set_title("Error per generation by real-data fraction λ", fontsize=10)
    final = [sweep[lam].w2[:, -1].mean() for lam in lams]
    first = [sweep[lam].w2[:, 1].mean() for lam in lams]
    ax2.plot(lams, final, "o-", label="final generation")
    ax2.plot(lams, first, "s--", label="generation 1")
    ax2.set_xscale("symlog", linthresh=0.01)
    ax2.set_xlabel("real-data fraction λ")
    ax2.set_ylabel("mean W₂")
    ax2.legend(fontsize=8)
    ax2.set_title("Bounded with enough real data (Bertrand 2024)", fontsize=10)
    p = next(iter(sweep.values())).params
    fig.text(0.01, -0.03, f"params: n={p.n}, runs={p.runs}, generations={p.generations}, mode=replace, "
             f"N({p.mu0:g}, {p.sigma0:g}²), seed={p.seed}; λ share of each generation's training set is fresh real "
             "data", fontsize=8)
    return figure_png(fig)


def mixture_figure(replace: Any, accumulate: Any) -> bytes:
    fig, axes = new_figure(1, 3, figsize=(13, 4))
    p = replace.params
    xs = np.linspace(min(replace.samples[0].min(), -6), max(replace.samples[0].max(), 8), 400)
    from scipy.stats import norm

    true_pdf = sum(w * norm.pdf(xs, m, s) for w, m, s in zip(p.weights, p.means, p.stds)) / sum(p.weights)
    for ax, res, name in ((axes[0], replace, "replace"), (axes[1], accumulate, "accumulate")):
        ax.plot(xs, true_pdf, "k--", lw=1, label="true density")
        last = len(res.samples) - 1
        for g, colour in ((last // 3, "#1f77b4"), (last, "#d62728")):
            ax.hist(res.samples[g], bins=60, density=True, alpha=0.45, color=colour, label=f"generation {g}")
        ax.set_title(f"GMM refitted with EM, {name}", fontsize=10)
        ax.set_xlabel("x (sample value)")
        ax.set_ylabel("density")
        ax.legend(fontsize=8)
    g = np.arange(len(replace.tail_mass))
    axes[2].plot(g, replace.tail_mass, color="#d62728", label="tail mass, replace")
    axes[2].plot(g, accumulate.tail_mass, color="#2ca02c", label="tail mass, accumulate")
    axes[2].plot(g, replace.minority_mass, color="#d62728", ls=":", label="minority mode, replace")
    axes[2].plot(g, accumulate.minority_mass, color="#2ca02c", ls=":", label="minority mode, accumulate")
    axes[2].axhline(0.02, color="k", lw=0.8, ls="--")
    axes[2].set_xlabel("generation")
    axes[2].set_ylabel("share of samples")
    axes[2].legend(fontsize=7)
    axes[2].set_title("Tails (beyond true 1%/99%) and minority mode", fontsize=10)
    fig.tight_layout()  # keeps the third panel's y label off the second panel
    fig.text(0.01, -0.03, "params: " + p.label().replace(f"mode={p.mode}, ", ""), fontsize=8)
    return figure_png(fig)


def embedding_figure(results: dict[str, Any]) -> bytes:
    fig, ax = new_figure(figsize=(8, 4.5))
    styles = {"precision": "-", "recall": "--", "tail_coverage": ":"}
    colours = ["#d62728", "#2ca02c", "#1f77b4", "#9467bd"]
    for i, (name, res) in enumerate(results.items()):
        for metric, ls in styles.items():
            vals = getattr(res, metric)
            ax.plot(np.arange(len(vals)), vals, ls=ls, color=colours[i % len(colours)], label=f"{name}: {metric}")
    ax.set_ylim(0, 1.05)
    ax.set_xlabel("generation (0 = GMM fitted to the real embeddings)")
    ax.set_ylabel("share")
    ax.legend(fontsize=7, ncol=2)
    ax.set_title("Retraining on own samples, from your embeddings", fontsize=10)
    first = next(iter(results.values()))
    fig.text(0.01, -0.03, f"params: n={first.n}, " + first.params.label(), fontsize=8)
    return figure_png(fig)


def collapse_sections(data: dict[str, Any], figures: dict[str, bytes]) -> list[str]:
    out = []
    g = data.get("gaussian")
    if g:
        body = ("<p>A Gaussian refitted by maximum likelihood on n samples of its previous generation loses variance "
                "geometrically in expectation, E[σ²ₜ] = σ²₀((n−1)/n)ᵗ, and almost surely collapses; keeping all "
                "data (accumulate) bounds it.</p>")
        body += html_table(["loop", "mean σ² at last generation", "median", "theory (replace)", "mean W₂"], [
            (k, v["final_variance_mean"], v["final_variance_median"],
             # The closed form holds for the replace loop only; accumulate has no such line.
             v["theory_variance_replace_lambda0"] if k == "replace" else "—",
             v["final_w2_mean"]) for k, v in g.items()])
        if "gaussian" in figures:
            body += img_tag(figures["gaussian"], "gaussian collapse")
        out.append(section("Single Gaussian: replace vs accumulate", body, "gaussian"))
    s = data.get("real_fraction")
    if s:
        body = html_table(["λ (real share per generation)", "W₂ at generation 1", "W₂ at last generation"],
                          [(k, v["w2_first"], v["w2_final"]) for k, v in s.items()])
        if "real_fraction" in figures:
            body += img_tag(figures["real_fraction"], "real fraction sweep")
        out.append(section("Real-data fraction λ", body, "lambda"))
    m = data.get("mixture")
    if m:
        body = html_table(["loop", "tail mass (gen 0 → last)", "minority mode (gen 0 → last)", "W₁ (gen 0 → last)"], [
            (k, f"{v['tail_mass'][0]:.3f} → {v['tail_mass'][-1]:.3f}",
             f"{v['minority_mass'][0]:.3f} → {v['minority_mass'][-1]:.3f}", f"{v['w1'][0]:.3f} → {v['w1'][-1]:.3f}")
            for k, v in m.items()])
        if "mixture" in figures:
            body += img_tag(figures["mixture"], "mixture collapse")
        out.append(section("Gaussian mixture (EM)", body, "mixture"))
    e = data.get("embeddings")
    if e:
        body = html_table(["loop", "precision (0 → last)", "recall (0 → last)", "tail coverage (0 → last)"], [
            (k, f"{v['precision'][0]:.3f} → {v['precision'][-1]:.3f}", f"{v['recall'][0]:.3f} → {v['recall'][-1]:.3f}",
             f"{v['tail_coverage'][0]:.3f} → {v['tail_coverage'][-1]:.3f}") for k, v in e.items()])
        body += ("<p class='params'>precision: share of generated samples inside the real data's k-NN manifold; "
                 "recall: share of real samples inside the generated manifold (Kynkäänniemi et al. 2019); "
                 "tail coverage: share of the real data's sparsest points (largest k-NN radius) whose k-NN ball still "
                 "holds a generated sample.</p>")
        if "embeddings" in figures:
            body += img_tag(figures["embeddings"], "embedding collapse")
        out.append(section("From your embeddings", body, "embeddings"))
    return out


def build_collapse_report(*, n: int = 100, generations: int = 100, runs: int = 200,
                          lambdas: Sequence[float] = (0.0, 0.02, 0.05, 0.1, 0.25, 0.5), seed: int = 0,
                          mixture: bool = True, embeddings: np.ndarray | None = None,
                          embedding_generations: int = 10, embedding_lambda: float = 0.1,
                          figures: bool = True) -> tuple[dict[str, Any], dict[str, bytes]]:
    """Run the collapse experiments; return (JSON-able results, PNG figures by name)."""
    from .collapse import (EmbeddingParams, GaussianParams, MixtureParams, simulate_from_embeddings,
                           simulate_gaussian, simulate_mixture, sweep_real_fraction)

    base = GaussianParams(n=n, generations=generations, runs=runs, seed=seed)
    rep = simulate_gaussian(base, mode="replace")
    acc = simulate_gaussian(base, mode="accumulate")
    sweep = sweep_real_fraction(lambdas, base)
    data: dict[str, Any] = {
        "kind": "artlineage.collapse", "version": 1, "seed": seed,
        "gaussian": {"replace": rep.summary(), "accumulate": acc.summary()},
        "real_fraction": {f"{lam:g}": {"w2_first": float(r.w2[:, 1].mean()), "w2_final": float(r.w2[:, -1].mean()),
                                       "w2_max_mean": float(r.w2.mean(0).max())} for lam, r in sweep.items()},
    }
    figs: dict[str, bytes] = {}
    if figures:
        figs["gaussian"] = gaussian_figure(rep, acc)
        figs["real_fraction"] = real_fraction_figure(sweep)
    if mixture:
        mp = MixtureParams(generations=min(generations, 40), seed=seed)
        m_rep, m_acc = simulate_mixture(mp, mode="replace"), simulate_mixture(mp, mode="accumulate")
        data["mixture"] = {"replace": m_rep.summary(), "accumulate": m_acc.summary()}
        if figures:
            figs["mixture"] = mixture_figure(m_rep, m_acc)
    if embeddings is not None:
        ep = EmbeddingParams(generations=embedding_generations, seed=seed)
        runs_e = {"replace": simulate_from_embeddings(embeddings, ep, mode="replace"),
                  "accumulate": simulate_from_embeddings(embeddings, ep, mode="accumulate"),
                  f"replace, λ={embedding_lambda:g}": simulate_from_embeddings(
                      embeddings, ep, mode="replace", real_fraction=embedding_lambda)}
        data["embeddings"] = {k: v.summary() for k, v in runs_e.items()}
        if figures:
            figs["embeddings"] = embedding_figure(runs_e)
    return data, figs


def write_collapse_report(directory: str | os.PathLike[str], data: dict[str, Any], figs: dict[str, bytes],
                          save_pngs: bool = True) -> tuple[Path, Path]:
    d = Path(directory)
    d.mkdir(parents=True, exist_ok=True)
    if save_pngs:
        for name, png in figs.items():
            (d / f"collapse_{name}.png").write_bytes(png)
    return write_report(d, data, collapse_sections(data, figs), "Model-collapse simulation")
