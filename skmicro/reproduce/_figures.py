"""PNG figures of the Lubbers 2017 reproduction, in the style of the paper's Figs. 5-9."""

from __future__ import annotations

import os

from ..plotting import plot_embedding

_COLORS = {"power_spectrum": "tab:blue", "vgg_gram": "tab:red", "scattering": "tab:green"}


def _pyplot():
    from ..plotting._common import pyplot

    return pyplot()


def fig_rings(examples, path):
    """Fig. 5: D* = 2 embeddings of the angle sweep; arrows show each image's angle."""
    plt = _pyplot()
    names = sorted({n for n, _ in examples})
    amps = sorted({a for _, a in examples})
    fig, axes = plt.subplots(len(names), len(amps), figsize=(2.4 * len(amps), 2.4 * len(names)),
                             squeeze=False)
    for i, name in enumerate(names):
        for j, amp in enumerate(amps):
            ax = axes[i, j]
            emb, theta = examples[(name, amp)]
            plot_embedding(emb, angles=theta, ax=ax, s=10)
            ax.set_aspect("equal")
            ax.set_xticks([])
            ax.set_yticks([])
            if i == 0:
                ax.set_title(f"A = {amp:g}")
            if j == 0:
                ax.set_ylabel(name)
    fig.suptitle("D* = 2 embeddings of the angle sweep (arrow: generating angle)")
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def fig_vs_amplitude(rows, key, ylabel, path, title):
    """Figs. 6 and 7: a per-descriptor curve against noise amplitude, one line per N."""
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    groups = {}
    for r in rows:
        groups.setdefault((r["descriptor"], r["n_images"]), []).append(r)
    for (name, n), rs in sorted(groups.items()):
        rs = sorted(rs, key=lambda r: r["noise_amplitude"])
        a = [r["noise_amplitude"] for r in rs]
        ax.errorbar(a, [r[key] for r in rs], yerr=[r[key + "_std"] for r in rs],
                    color=_COLORS.get(name), marker="o" if n <= 50 else "s",
                    ls="-" if n <= 50 else "--", capsize=2, label=f"{name}, N={n}")
    ax.set_xlabel("noise amplitude A")
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.legend(fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def fig_stress_vs_dim(grid, path):
    """Fig. 8: stress against embedding dimension for the grid data set, every D* computed.

    Both axes are logarithmic, so D* = 50 (a Table I column) shows beside D* = 1-10.
    """
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(5, 3.6))
    all_dims = set()
    for name, g in grid.items():
        ax.loglog(g["embedding_dims"], g["stress"], "o-", color=_COLORS.get(name), label=name)
        all_dims.update(g["embedding_dims"])
    labels, last = [], None
    for d in sorted(all_dims):  # label ticks at least a factor 1.2 apart (no 7, 8, 9, 10 crowd)
        show = last is None or d >= 1.2 * last
        labels.append(str(d) if show else "")
        last = d if show else last
    ax.set_xticks(sorted(all_dims), labels)
    ax.minorticks_off()
    ax.set_xlabel("embedding dimension D*")
    ax.set_ylabel("Kruskal stress")
    ax.set_title("Fig. 8: stress vs D* (grid task)")
    ax.legend(fontsize=8)
    fig.tight_layout()
    fig.savefig(path, dpi=110)
    plt.close(fig)


def fig_embedding_3d(embedding, params, name, path):
    """Fig. 9: the D* = 3 embedding colored by each generating parameter."""
    plt = _pyplot()
    fig = plt.figure(figsize=(12, 4))
    for j, (key, label) in enumerate((("noise_amplitude", "A"), ("scale", "k"),
                                      ("angle", "theta"))):
        ax = fig.add_subplot(1, 3, j + 1, projection="3d")
        plot_embedding(embedding, color=params[key], color_label=label, components=(0, 1, 2),
                       cmap="twilight" if key == "angle" else "viridis", ax=ax, s=6)
        ax.set_title(f"{name}: colored by {label}")
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_figures(out, results, examples, grid_embeddings):
    """Write the figures of the tasks that ran into ``out``; returns their paths."""
    paths = []
    if results["angle_task"]:
        p = os.path.join(out, "fig5_rings.png")
        fig_rings(examples, p)
        paths.append(p)
        for key, ylabel, name, title in (
                ("rmse", "angle RMSE (rad)", "fig6_rmse_vs_A.png",
                 "Fig. 6: angle recovery (k = 15, D* = 2)"),
                ("stress", "Kruskal stress", "fig7_stress_vs_A.png",
                 "Fig. 7: embedding stress (k = 15, D* = 2)")):
            p = os.path.join(out, name)
            fig_vs_amplitude(results["angle_task"], key, ylabel, p, title)
            paths.append(p)
    if results["grid_task"]:
        p = os.path.join(out, "fig8_stress_vs_dim.png")
        fig_stress_vs_dim(results["grid_task"], p)
        paths.append(p)
        embeddings, params = grid_embeddings
        for name, emb in embeddings.items():
            p = os.path.join(out, f"fig9_embedding3d_{name}.png")
            fig_embedding_3d(emb, params, name, p)
            paths.append(p)
    return paths
