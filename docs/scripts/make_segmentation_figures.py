"""Regenerate the figures of docs/segmentation.md from the packaged UHCS micrographs.

    PYTHONPATH=. python docs/scripts/make_segmentation_figures.py [--features SPEC ...]
        [--image uhcs0477.tif] [--out docs/img/segmentation]

The route of the page, as a user runs it: ``fit_segmenter`` on the micrographs of the five
folds (folds.json, DeCost et al. 2019) that do not hold ``--image``, then ``segment_folder``
on the four micrographs of its fold (held out). Writes ``held_out.png`` (micrograph, experts'
labels, prediction, uncertainty of ``--image``), ``overlay.png`` (the overlay ``skmicro
segment predict`` writes for it) and prints the measurements table and the held-out scores
that the page quotes. Minutes on a 2-core CPU with the filter bank; the data are CC BY-SA
3.0 US (DeCost et al., see skmicro/datasets/data/uhcs24/README.md) and every figure says so.
"""

from __future__ import annotations

import argparse
import os
import shutil
import tempfile
import time
from pathlib import Path

import numpy as np

ATTRIBUTION = ('Data: "Ultrahigh Carbon Steel Microconstituent Annotations", B. DeCost, '
               "M. Hecht, T. Sibley, T. Francis, B. Webler, Y. Picard, E. Holm,\n"
               "https://hdl.handle.net/11256/940. CC BY-SA 3.0 US.")


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--features", action="append", default=None,
                        help="dense descriptor spec(s) of fit_segmenter (default: filter_bank)")
    parser.add_argument("--image", default="uhcs0477.tif", help="the micrograph to show")
    parser.add_argument("--out", default="docs/img/segmentation", help="figure folder")
    parser.add_argument("--pixels-per-image", type=int, default=2000,
                        help="labelled pixels drawn from each training micrograph")
    parser.add_argument("--n-jobs", type=int, default=1,
                        help="CPU threads (1: robust on a shared machine, where OpenMP "
                             "threads of the classifier stall)")
    parser.add_argument("--work", default=None,
                        help="keep the model and outputs here (a rerun then reuses the model: "
                             "fit_segmenter finds it up to date); default: a temporary folder")
    args = parser.parse_args(argv)

    from skmicro.datasets import load_uhcs24
    from skmicro.workflow import fit_segmenter, segment_folder

    uhcs = load_uhcs24()
    names = list(uhcs.file_names)
    fold = uhcs.folds[names.index(args.image)]
    features = args.features or ["filter_bank"]
    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    sizes = dict(zip(uhcs.metadata["file"], uhcs.metadata["pixel_size_um"]))
    with tempfile.TemporaryDirectory(prefix="skmicro-segfig-") as tmp:
        tmp = Path(args.work or tmp)
        for where, members in (("train", uhcs.folds != fold), ("test", uhcs.folds == fold)):
            (tmp / where).mkdir(parents=True, exist_ok=True)
            for name in np.asarray(names)[members]:
                shutil.copy(uhcs.folder / name, tmp / where / name)
        t0 = time.perf_counter()
        fit_segmenter(tmp / "train", uhcs.folder / "labels", tmp / "model.skops",
                      features=features, class_names=uhcs.class_names, contrast="percentile",
                      pixels_per_image=args.pixels_per_image, random_state=0,
                      n_jobs=args.n_jobs, verbose=1)
        t1 = time.perf_counter()
        table = segment_folder(tmp / "model.skops", tmp / "test", tmp / "out",
                               pixel_size=sizes, particle_class="spheroidite",
                               uncertainty=True, cache=False, n_jobs=args.n_jobs, verbose=1)
        t2 = time.perf_counter()
        stem = Path(args.image).stem
        pred = np.asarray(_png(tmp / "out" / f"{stem}.png"))
        unsure = np.asarray(_png(tmp / "out" / "uncertainty" / f"{stem}.png")) / 255
        _small_png(tmp / "out" / "overlays" / f"{stem}.png", out / "overlay.png")
        scores = _scores(uhcs, names, tmp / "out", uhcs.folds == fold)
    print(f"features {features}: fit {t1 - t0:.0f} s on {np.sum(uhcs.folds != fold)} "
          f"micrographs, predict {(t2 - t1) / 4:.1f} s per micrograph (load: "
          f"{os.getloadavg()[0]:.1f})")
    i = names.index(args.image)
    _figure(uhcs.images[i], uhcs.labels[i], pred, unsure, uhcs.class_names, args.image,
            features, out / "held_out.png")
    print(f"wrote {out / 'held_out.png'} and {out / 'overlay.png'}")
    print(f"held-out fold {fold}: {scores}")
    print(_markdown(table.round(3)))


def _markdown(table):
    """A DataFrame as a Markdown table (index first), without the optional tabulate."""
    head = [table.index.name or ""] + [str(c) for c in table.columns]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    for name, row in table.iterrows():
        lines.append("| " + " | ".join([str(name)] + [f"{v:g}" for v in row]) + " |")
    return "\n".join(lines)


def _png(path):
    from PIL import Image

    with Image.open(path) as im:
        return np.asarray(im)


def _scores(uhcs, names, folder, held):
    """Pixel accuracy and mean IU of the held-out fold (rows 0-483), pooled."""
    conf = np.zeros((4, 4), np.int64)
    for name in np.asarray(names)[held]:
        truth = uhcs.labels[names.index(name)][:484].astype(np.int64)
        pred = _png(folder / f"{Path(name).stem}.png")[:484].astype(np.int64)
        conf += np.bincount(truth.ravel() * 4 + pred.ravel(), minlength=16).reshape(4, 4)
    tp = np.diag(conf).astype(float)
    iu = tp / (conf.sum(0) + conf.sum(1) - tp)
    return {"pixel_accuracy": round(float(tp.sum() / conf.sum()), 3),
            "mean_iu": round(float(iu.mean()), 3),
            "iu": dict(zip(uhcs.class_names, np.round(iu, 2).tolist()))}


def _figure(image, truth, pred, unsure, class_names, name, features, path):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from matplotlib.colors import ListedColormap
    from matplotlib.patches import Patch

    from skmicro.workflow._segment_files import COLOURS

    colours = COLOURS[:len(class_names)] / 255
    cmap = ListedColormap(colours)
    rows = 484  # the data bar below is not segmented
    fig, axes = plt.subplots(2, 2, figsize=(11, 9.6), constrained_layout=True)
    panels = [("micrograph", image[:rows], dict(cmap="gray")),
              ("experts' labels", truth[:rows], dict(cmap=cmap, vmin=-0.5,
                                                     vmax=len(class_names) - 0.5)),
              ("prediction (held out)", pred[:rows], dict(cmap=cmap, vmin=-0.5,
                                                          vmax=len(class_names) - 0.5)),
              ("uncertainty (normalized entropy)", unsure[:rows], dict(cmap="magma", vmin=0,
                                                                       vmax=1))]
    for ax, (title, data, style) in zip(axes.ravel(), panels):
        shown = ax.imshow(data, interpolation="nearest", **style)
        ax.set_title(title, fontsize=13)
        ax.set_axis_off()
    fig.colorbar(shown, ax=axes[1, 1], shrink=0.8, label="0 sure, 1 uniform")
    # the title is the legend's (a suptitle and an outside legend overlap in constrained layout)
    legend = fig.legend(handles=[Patch(color=c, label=n) for c, n in zip(colours, class_names)],
                        loc="outside upper center", ncol=len(class_names), fontsize=12,
                        frameon=False, title=f"{name}, held out; trained on the five other "
                                             f"folds ({' + '.join(features)})")
    legend.get_title().set_fontsize(14)
    fig.text(0.5, -0.01, ATTRIBUTION, ha="center", va="top", fontsize=9)
    fig.savefig(path, dpi=80, bbox_inches="tight")
    plt.close(fig)
    _small_png(path, path)


def _small_png(source, path):
    """256 colours, optimized: a third of the bytes, no visible change at this size."""
    from PIL import Image

    with Image.open(source) as im:
        im.convert("RGB").quantize(256, dither=Image.Dither.NONE).save(path, optimize=True)


if __name__ == "__main__":
    main()
