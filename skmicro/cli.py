"""The ``skmicro`` command line (also ``python -m skmicro``): a thin argparse parser.

Each subcommand is a self-contained ``_add_<name>_parser(sub)`` function whose one-line handler
calls ONE documented public function; no logic lives here. Help texts are plain text (they are
printed by ``--help``, not rendered as reST) and document every option.
"""

from __future__ import annotations

import argparse
import sys

DESCRIPTION = "skmicro: scikit-learn estimators that turn micrographs into microstructure " \
              "descriptors."
EPILOG = """examples:
  skmicro datasets uhcs24 --out uhcs24
  skmicro demo --size 64
  skmicro reproduce lubbers2017 --quick --out results-quick
  skmicro synthesize micrograph.tif --out new.png --size 256
  skmicro features micrographs/ --out features.parquet
  skmicro evaluate features.parquet --target metadata.csv:hardness --groups specimen
  skmicro map micrographs/ --metadata metadata.csv --color hardness --out map.html
  skmicro segment fit micrographs/ --labels labels/ --out model.skops
  skmicro segment predict model.skops micrographs/ --out phase-maps/

Run 'skmicro COMMAND --help' for the options of one command."""

DEVICE_HELP = "where tensor work runs: auto (a GPU when there is one), cpu, cuda or cuda:N " \
              "(default: %(default)s)"
SEED_HELP = "random seed, for repeatable results (default: %(default)s)"


def _add_verbosity(p, default, what):
    """--verbose N and its shorthand --quiet/-q (the same as --verbose 0; the last one given
    wins)."""
    p.add_argument("--verbose", type=int, default=default,
                   help=f"0: quiet; 1 or more: {what} (default: %(default)s)")
    p.add_argument("--quiet", "-q", action="store_const", const=0, dest="verbose",
                   help="no progress output (the same as --verbose 0)")


def _command(sub, name, help, description):
    """A subparser whose --help shows a plain-text description (wrapped by argparse).

    Its options are stored under the Python parameter names of the function it calls (``dest``),
    so that ``main`` can name the option where a message names the parameter.
    """
    p = sub.add_parser(name, help=help, description=description)
    p.set_defaults(command_parser=p)
    return p


def _add_demo_parser(sub):
    p = _command(sub, "demo", "power-spectrum distances on Perlin textures",
                 "Power-spectrum distance (eq. 7 of Lubbers et al. 2017) from Perlin textures "
                 "to the 0-degree ones, by angle difference: a Markdown table on stdout. "
                 "Python: skmicro.reproduce.run_demo.")
    p.add_argument("--size", type=int, default=128,
                   help="texture side in pixels (default: %(default)s)")
    p.add_argument("--noise-amplitude", type=float, default=2.5,
                   help="Perlin noise amplitude A (default: %(default)s)")
    p.add_argument("--n-pairs", type=int, default=8, dest="n_realizations",
                   help="noise realizations per angle, at least 2 (default: %(default)s)")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--seed", type=int, default=0, dest="random_state", help=SEED_HELP)
    _add_verbosity(p, 0, "a progress bar over the descriptor's batches")
    p.set_defaults(func=_demo)


def _demo(args):
    from .reproduce import run_demo

    print(run_demo(size=args.size, noise_amplitude=args.noise_amplitude,
                   n_realizations=args.n_realizations, device=args.device,
                   random_state=args.random_state,
                   verbose=args.verbose))
    return 0


def _add_reproduce_parser(sub):
    p = _command(sub, "reproduce", "reproduce a paper's results",
                 "Reproduce a paper's results on built-in data: tables (table.md, results.json) "
                 "and figures in the output folder. Python: "
                 "skmicro.reproduce.run_lubbers2017.")
    p.add_argument("paper", choices=["lubbers2017"],
                   help="the paper: lubbers2017 (Lubbers, Lookman & Barros, Phys. Rev. E 2017)")
    p.add_argument("--quick", action="store_true",
                   help="5 noise amplitudes, 5 trials, a 6x6x6 grid: minutes on a laptop CPU "
                        "(default: the paper's full design)")
    p.add_argument("--out", default=None,
                   help="output folder (default: results, or results-quick with --quick)")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--seed", type=int, default=0, help=SEED_HELP)
    p.add_argument("--descriptors", nargs="+", default=None,
                   choices=["power_spectrum", "vgg_gram", "scattering"], metavar="NAME",
                   help="descriptors to run, any of power_spectrum, vgg_gram, scattering "
                        "(default: all three)")
    p.add_argument("--no-figures", action="store_true",
                   help="write the tables only, no PNG figures")
    _add_verbosity(p, 1, "a progress bar over the steps and the tables; 2: also one bar per "
                         "descriptor")
    p.set_defaults(func=_reproduce)


def _reproduce(args):
    from .reproduce import run_lubbers2017

    out = args.out or ("results-quick" if args.quick else "results")
    run_lubbers2017(quick=args.quick, out=out, device=args.device, seed=args.seed,
                    descriptors=args.descriptors, verbose=args.verbose,
                    figures=not args.no_figures)
    print(f"\nwrote {out}/results.json, {out}/table.md and figures")
    return 0


def _add_synthesize_parser(sub):
    p = _command(sub, "synthesize", "a new texture with the statistics of micrographs",
                 "Synthesize a new micrograph whose descriptor matches the input's (a file, or "
                 "a folder whose images are pooled) and write it to an image file. Python: "
                 "skmicro.workflow.synthesize_file.")
    p.add_argument("input", help="micrograph file, or a folder whose images are pooled")
    p.add_argument("--out", required=True,
                   help="output image; .tif keeps the values, .png and the others hold 8 bits")
    p.add_argument("--size", type=int, default=None,
                   help="output side in pixels (default: the first input's size)")
    p.add_argument("--descriptor", default="vgg_gram", choices=["vgg_gram", "scattering"],
                   help="the statistics to match: vgg_gram or scattering (default: %(default)s)")
    p.add_argument("--n-iter", type=int, default=100,
                   help="L-BFGS iterations (default: %(default)s)")
    p.add_argument("--periodic", action="store_true", help="seamlessly tileable output")
    p.add_argument("--spectrum-weight", type=float, default=None,
                   help="weight of the Fourier-modulus constraint, 0 turns it off (default: "
                        "synthesize_texture's, 0.1)")
    p.add_argument("--coarse-to-fine", type=lambda v: v if v == "auto" else int(v),
                   default="auto",
                   help="pyramid levels, coarsest first: auto (from 512 px) or a number "
                        "(default: %(default)s)")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--seed", type=int, default=0, dest="random_state", help=SEED_HELP)
    _add_verbosity(p, 1, "a progress bar over the iterations")
    p.set_defaults(func=_synthesize)


def _synthesize(args):
    from .workflow import synthesize_file

    out = synthesize_file(args.input, args.out, size=args.size, descriptor=args.descriptor,
                          n_iter=args.n_iter, periodic=args.periodic,
                          spectrum_weight=args.spectrum_weight,
                          coarse_to_fine=args.coarse_to_fine, random_state=args.random_state,
                          device=args.device, verbose=args.verbose)
    print(f"wrote {args.out} ({out.shape[0]}x{out.shape[1]}, {args.descriptor})")
    return 0


def _add_pixel_size_argument(p):
    p.add_argument("--pixel-size", default=None, metavar="UM|TABLE:COLUMN|TABLE:LENGTH/PIXELS",
                   help="micrometres per pixel: one number for every image; a spreadsheet "
                        "column of them (e.g. metadata.csv:pixel_um); or a scale bar, a column "
                        "of its length in micrometres and one of its length in pixels (e.g. "
                        "metadata.csv:micron_bar/micron_bar_px); spreadsheet rows are matched to "
                        "the files by file name (default: what each TIFF declares, if anything)")


def _add_preparation_arguments(p, *, tiles=True):
    """The options of skmicro.workflow.Preparation, as one argument group (features, map,
    segment); _preparation_options(args) gives them back as its keyword arguments."""
    g = p.add_argument_group(
        "preparation", "how each micrograph is prepared before it is described (Python: "
                       "skmicro.workflow.Preparation)")
    g.add_argument("--no-crop-data-bar", action="store_true",
                   help="keep the whole image (default: detect the microscope's data bar at "
                        "the top or bottom edge and cut it)")
    g.add_argument("--data-bar-rows", type=int, default=None, metavar="N",
                   help="cut exactly N rows at the bottom instead of detecting the data bar")
    _add_pixel_size_argument(g)
    g.add_argument("--target-pixel-size", type=float, default=None, metavar="UM",
                   help="resample every image to this many micrometres per pixel first, for "
                        "images taken at different magnifications")
    g.add_argument("--contrast", choices=["percentile", "clahe"], default=None,
                   help="normalize each image's contrast after the data bar is cut: stretch "
                        "its 1st-99th grey-level percentiles to 0-1 (percentile) or equalize it "
                        "adaptively (clahe); use it for collections that mix detectors, bit "
                        "depths or exposures (default: grey levels as stored)")
    if tiles:
        g.add_argument("--tile", type=int, default=None, metavar="PIXELS",
                       help="describe each image by square tiles of this side, averaged: mixes "
                            "image sizes for descriptors that need one size, bounds memory on "
                            "huge images")
        g.add_argument("--aggregate", choices=["mean", "mean_std"], default="mean",
                       help="with --tile: the mean over tiles, or the mean and the standard "
                            "deviation (default: %(default)s)")


def _preparation_options(args):
    """The keyword arguments of skmicro.workflow.Preparation from the options above."""
    options = dict(
        crop_data_bar=args.data_bar_rows if args.data_bar_rows is not None
        else not args.no_crop_data_bar,
        pixel_size=args.pixel_size, target_pixel_size=args.target_pixel_size,
        contrast=args.contrast)
    if hasattr(args, "tile"):
        options.update(tile=args.tile, aggregate=args.aggregate)
    return options


def _add_features_parser(sub):
    p = _command(sub, "features", "describe every micrograph in a folder: a features table",
                 "Describe every micrograph in FOLDER (one row per file: its data bar cut, "
                 "then each descriptor) and write the table as Parquet or CSV. Results are "
                 "cached per file, keyed by its content and the descriptor's options: a second "
                 "run computes only new or changed files, and an interrupted run keeps what it "
                 "finished. Python: skmicro.workflow.describe_folder.")
    p.add_argument("paths", nargs="+", metavar="FOLDER",
                   help="folder(s) of micrographs (.tif .tiff .png .jpg .jpeg .bmp; other files "
                        "are ignored), or image files")
    p.add_argument("--out", required=True, metavar="FILE",
                   help="output table: a .parquet or .csv file (its folder must exist)")
    p.add_argument("--descriptor", "-d", action="append", dest="descriptors",
                   metavar="NAME[:key=value,...]",
                   help="descriptor to compute, repeatable: power_spectrum (64 numbers per "
                        "image), scattering (681) or vgg_gram (2048), optionally with options "
                        "of its estimator, e.g. scattering:J=4,L=8 or vgg_gram:n_components=1024; "
                        "LABEL=NAME:... names the columns LABEL__... (default: power_spectrum "
                        "and scattering)")
    _add_preparation_arguments(p)
    p.add_argument("--recursive", action="store_true",
                   help="also describe micrographs in sub-folders (except those --exclude "
                        "leaves out)")
    p.add_argument("--exclude", action="append", default=None, metavar="PATTERN",
                   help="leave out files whose folder or file name below FOLDER matches this "
                        "glob pattern (e.g. labels, '*_overview.tif', or batch2/old* for a "
                        "path), repeatable; any case (default: sub-folders named labels, label, "
                        "masks, mask, annotations, ground_truth, where label masks usually "
                        "are; --exclude '' leaves out nothing)")
    p.add_argument("--cache-dir", default=None, metavar="DIR",
                   help="cache folder (default: $XDG_CACHE_HOME/skmicro or ~/.cache/skmicro)")
    p.add_argument("--no-cache", action="store_true",
                   help="compute everything and keep nothing between runs")
    p.add_argument("--on-error", choices=["raise", "skip"], default="raise",
                   help="a file that cannot be read or described: stop with its name (raise) or "
                        "warn and leave it out (skip) (default: %(default)s)")
    p.add_argument("--scheduler", default=None, metavar="ADDRESS",
                   help="a Dask scheduler address (tcp://host:8786): describe the files on its "
                        "workers, which must see the same paths")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--n-jobs", type=int, default=None, metavar="N",
                   help="CPU threads (default: all cores)")
    _add_verbosity(p, 1, "a progress bar and a summary line on stderr")
    p.set_defaults(func=_features, python_names=dict(
        crop_data_bar="--data-bar-rows",
        cache="--cache-dir or --no-cache"))


def _features(args):
    from .workflow import DEFAULT_DESCRIPTORS, describe_folder

    table = describe_folder(
        args.paths, args.descriptors or DEFAULT_DESCRIPTORS, out=args.out,
        **_preparation_options(args), cache=False if args.no_cache else (args.cache_dir or True),
        on_error=args.on_error, recursive=args.recursive, exclude=args.exclude,
        device=args.device, n_jobs=args.n_jobs, scheduler=args.scheduler, verbose=args.verbose)
    print(f"wrote {args.out}: {table.shape[0]} micrographs x {table.shape[1]} columns")
    return 0


def _add_evaluate_parser(sub):
    p = _command(sub, "evaluate",
                 "cross-validate each descriptor of a features table against a property",
                 "Join a features table (from 'skmicro features') with a spreadsheet by file "
                 "name, cross-validate each descriptor and their union with ridge regression "
                 "and k-nearest neighbours (both after standard scaling) against one numeric "
                 "column, and print a table of R^2 (per test fold: mean, spread, worst; and "
                 "pooled over all out-of-fold predictions) and the mean absolute error, next to "
                 "a baseline that predicts the training mean; then one line, the verdict: the "
                 "best descriptor and model, whether it beats the baseline by more than the "
                 "noise of the folds, and which R^2 to read. Python: "
                 "skmicro.workflow.evaluate_features.")
    p.add_argument("features", metavar="FEATURES",
                   help="features table, .parquet or .csv, as 'skmicro features' writes it")
    p.add_argument("--target", required=True, metavar="TABLE:COLUMN",
                   help="the property to predict: a spreadsheet (.csv, .parquet; .xlsx with "
                        "openpyxl) and its numeric column, e.g. metadata.csv:hardness; its rows "
                        "are matched to the micrographs by the column holding file names "
                        "(found automatically); rows without a value are left out")
    p.add_argument("--groups", default=None, metavar="COLUMN",
                   help="a column of the same spreadsheet naming samples whose micrographs must "
                        "stay in one fold (e.g. the specimen): GroupKFold instead of KFold")
    p.add_argument("--cv", type=int, default=5, metavar="N",
                   help="number of folds, at least 2; lowered to the number of micrographs (or "
                        "groups) when there are fewer (default: %(default)s)")
    p.add_argument("--repeats", type=int, default=1, metavar="N",
                   help="repeat the cross-validation with N draws of the folds (seeds SEED, "
                        "SEED+1, ...) and report means, and the spread of r2_pooled over them: "
                        "on a few dozen micrographs one draw misleads (default: %(default)s)")
    p.add_argument("--models", nargs="+", default=["ridge", "knn"], choices=["ridge", "knn"],
                   metavar="MODEL",
                   help="regressors: ridge (alpha chosen inside each training fold) and/or knn "
                        "(k = min(5, training size - 1)) (default: ridge knn)")
    p.add_argument("--descriptors", nargs="+", default=None, metavar="NAME",
                   help="descriptors (column prefixes) to evaluate (default: all in the table)")
    p.add_argument("--figures", default=None, metavar="DIR",
                   help="folder for one predicted-vs-measured PNG per descriptor, from its best "
                        "model; created if missing, in a folder that must exist (default: no "
                        "figures)")
    p.add_argument("--out", default=None, metavar="FILE",
                   help="also write the table to a .csv or .parquet file (its folder must "
                        "exist; default: print only)")
    p.add_argument("--seed", type=int, default=0, dest="random_state",
                   help="random seed of the fold assignment (default: %(default)s)")
    _add_verbosity(p, 0, "a progress bar over the fits")
    p.set_defaults(func=_evaluate)


def _evaluate(args):
    from .workflow import evaluate_features, format_table

    table = evaluate_features(args.features, args.target, groups=args.groups, cv=args.cv,
                              repeats=args.repeats, models=args.models,
                              descriptors=args.descriptors, random_state=args.random_state,
                              figures=args.figures, out=args.out, verbose=args.verbose)
    print(format_table(table, above=["n_samples", "n_splits", "n_repeats"]))
    print(f"\n{table.attrs['verdict']}")
    if args.figures is not None or args.out is not None:
        print()  # the verdict stays a paragraph of its own (the output is Markdown)
    if args.figures is not None:
        print(f"wrote {', '.join(table.attrs['figures'])}")
    if args.out is not None:
        print(f"wrote {args.out}")
    return 0


def _add_map_parser(sub):
    p = _command(
        sub, "map", "an interactive map of a collection: thumbnails on its embedding (HTML)",
        "Describe a folder of micrographs (or read a features table), embed one "
        "descriptor in 2-D by metric MDS and write one self-contained HTML page (no network "
        "needed to open it): each micrograph a point with its thumbnail on hover, thumbnails in "
        "place of the dots when zoomed in, coloured by a spreadsheet column; a click shows the "
        "file name, its spreadsheet row and a larger view. Needs the map extra (pip install "
        "'skmicro[map]'). Python: skmicro.workflow.map_collection.")
    p.add_argument("source", metavar="FOLDER_OR_FEATURES",
                   help="a folder of micrographs (described with the per-file cache of "
                        "'skmicro features'), or a features table (.parquet or .csv) that "
                        "'skmicro features' wrote")
    p.add_argument("--out", required=True, metavar="MAP.html", help="the page to write")
    p.add_argument("--metadata", default=None, metavar="TABLE.csv",
                   help="a spreadsheet (.csv, .parquet; .xlsx with openpyxl) whose rows name "
                        "the micrographs (the column holding file names is found "
                        "automatically); shown on a click")
    p.add_argument("--color", default=None, metavar="COLUMN",
                   help="colour the points by this spreadsheet column: numbers get a colour "
                        "bar, other values a legend; missing values are grey")
    p.add_argument("--descriptor", default="power_spectrum", metavar="NAME",
                   help="the descriptor to embed: power_spectrum, scattering or vgg_gram "
                        "(for a features table: any of its column prefixes) (default: "
                        "%(default)s)")
    p.add_argument("--images", default=None, metavar="FOLDER",
                   help="for a features table: the folder its file names are relative to, "
                        "for the thumbnails (default: the table's folder)")
    _add_preparation_arguments(p)
    p.add_argument("--max-points", type=int, default=5000, metavar="N",
                   help="above N micrographs show a sample of N, stratified by the colour "
                        "(default: %(default)s)")
    p.add_argument("--thumbnail-size", type=int, default=96, metavar="PX",
                   help="longer side of each thumbnail in pixels (default: %(default)s)")
    p.add_argument("--title", default=None,
                   help="page title (default: the source's name, the descriptor and the "
                        "embedding)")
    p.add_argument("--cache-dir", default=None, metavar="DIR",
                   help="for a folder: the descriptors' cache folder (default: "
                        "$XDG_CACHE_HOME/skmicro or ~/.cache/skmicro)")
    p.add_argument("--no-cache", action="store_true",
                   help="for a folder: compute every descriptor afresh and store nothing")
    p.add_argument("--seed", type=int, default=0, dest="random_state", help=SEED_HELP)
    _add_verbosity(p, 1, "progress bars over the descriptors, the embedding and the thumbnails")
    p.set_defaults(func=_map, python_names=dict(
        crop_data_bar="--data-bar-rows",
        cache="--cache-dir or --no-cache"))


def _map(args):
    from .workflow import map_collection

    out = map_collection(args.source, metadata=args.metadata, color=args.color,
                         descriptor=args.descriptor, images=args.images,
                         **_preparation_options(args),
                         cache=False if args.no_cache else (args.cache_dir or True),
                         max_points=args.max_points, thumbnail_size=args.thumbnail_size,
                         title=args.title, out=args.out, random_state=args.random_state,
                         verbose=args.verbose)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.1f} MB)")
    return 0


def _add_datasets_parser(sub):
    p = _command(sub, "datasets", "write the example micrographs that ship with skmicro",
                 "Write a copy of an example data set that ships with skmicro to a folder, to "
                 "try the other commands on: uhcs24, 24 SEM micrographs of ultrahigh-carbon "
                 "steel (TIFFs with their data bar, 491x to 4910x), labels/ (the experts' "
                 "microconstituent masks), metadata.csv (processing, scale bar and pixel size, "
                 "area fractions) and folds.json. The data are CC BY-SA 3.0 US, not under "
                 "skmicro's licence: README.md and LICENSE.txt in the folder say how to "
                 "attribute them. Python: skmicro.datasets.export_uhcs24 (or load_uhcs24 for "
                 "arrays).")
    p.add_argument("name", choices=["uhcs24"], help="the data set: uhcs24")
    p.add_argument("--out", required=True, metavar="DIR",
                   help="the folder to write: created if missing, refused if not empty")
    p.set_defaults(func=_datasets)


def _datasets(args):
    from .datasets import export_uhcs24

    out = export_uhcs24(args.out)
    print(f"wrote {out}: 24 micrographs, labels/, metadata.csv, folds.json, README.md and "
          "LICENSE.txt (CC BY-SA 3.0 US: attribute as in README.md)")
    return 0


def _add_segment_parser(sub):
    p = _command(sub, "segment", "train a pixel classifier on labelled micrographs; apply it",
                 "Trainable segmentation: 'segment fit' trains a classifier of every pixel "
                 "from micrographs and label images (a class index per pixel, 255 where "
                 "unlabelled) and writes a model file; 'segment predict' applies it to a "
                 "folder: label maps, overlays and a measurements table.")
    seg = p.add_subparsers(dest="action", required=True, metavar="ACTION", title="actions")
    _add_segment_fit_parser(seg)
    _add_segment_predict_parser(seg)


def _add_segment_fit_parser(sub):
    p = _command(sub, "fit", "train a segmenter and write a model file",
                 "Train a pixel classifier on the micrographs of IMAGES_DIR that have a label "
                 "image in LABELS_DIR (matched by file stem: a.tif -> a.png), of the "
                 "micrograph's full size, data bar included: one class index 0, 1, 2, ... per "
                 "pixel, 255 where unlabelled (scribbles work like full masks). Each "
                 "micrograph and its mask are prepared alike (data bar cut, resampled), and "
                 "the preparation is stored in the model file for 'segment predict'. A rerun "
                 "on the same files and settings recomputes nothing. Python: "
                 "skmicro.workflow.fit_segmenter.")
    p.add_argument("images", metavar="IMAGES_DIR", help="folder of micrographs")
    p.add_argument("--labels", required=True, metavar="LABELS_DIR",
                   help="folder of label images (PNG or TIFF), named like the micrographs")
    p.add_argument("--out", required=True, metavar="MODEL.skops",
                   help="the model file to write (a skops file; its folder must exist)")
    p.add_argument("--features", action="append", metavar="NAME[:key=value,...]",
                   help="dense descriptor, repeatable: filter_bank (Gaussian, gradient, "
                        "Hessian and DoG filters; cheap, e.g. filter_bank:sigmas=[1,2,4]), "
                        "scattering (wavelet scattering maps) or vgg_hypercolumn (VGG-19 "
                        "hypercolumns), with options of its estimator (default: the "
                        "segmenter's default descriptors)")
    p.add_argument("--class-names", default=None, metavar="NAME,NAME,...",
                   help="names of the classes 0, 1, 2, ... separated by commas, e.g. "
                        "matrix,network,spheroidite: a mask value beyond them is an error, and "
                        "so is a class without any labelled pixel (default: the values found)")
    p.add_argument("--pixels-per-image", type=int, default=2000, metavar="N",
                   help="labelled pixels drawn from each micrograph, stratified by class "
                        "(default: %(default)s)")
    p.add_argument("--context", type=_sigmas, default="8,32", metavar="SIGMAS|none",
                   help="Gaussian widths in pixels of the auto-context pass, separated by "
                        "commas, or none for a single pass (default: %(default)s)")
    _add_preparation_arguments(p, tiles=False)
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--n-jobs", type=int, default=None, metavar="N",
                   help="CPU threads (default: all cores)")
    p.add_argument("--seed", type=int, default=0, dest="random_state", help=SEED_HELP)
    _add_verbosity(p, 1, "progress bars and a summary line on stderr")
    p.set_defaults(func=_segment_fit, python_names=dict(crop_data_bar="--data-bar-rows"))


def _sigmas(text):
    """'8,32' -> [8.0, 32.0]; 'none' -> None (an argparse type: a bad value is a usage error)."""
    if text.strip().lower() == "none":
        return None
    try:
        return [float(v) for v in text.split(",") if v.strip()] or None
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"expected Gaussian widths in pixels separated by commas (e.g. 8,32) or none; got "
            f"{text!r}") from None


def _segment_fit(args):
    from .workflow import fit_segmenter

    names = None if args.class_names is None else args.class_names.split(",")
    fit_segmenter(args.images, args.labels, args.out, features=args.features,
                  class_names=names, pixels_per_image=args.pixels_per_image, context=args.context,
                  **_preparation_options(args), random_state=args.random_state,
                  device=args.device, n_jobs=args.n_jobs, verbose=args.verbose)
    print(f"wrote {args.out}")
    return 0


def _add_segment_predict_parser(sub):
    p = _command(sub, "predict", "segment a folder: label maps, overlays, measurements",
                 "Segment every micrograph of IMAGES_DIR with a model from 'segment fit', "
                 "prepared as the model says. Writes OUT_DIR/<stem>.png (one class index per "
                 "pixel, uint8, the micrograph's height and width, 255 in the data bar), "
                 "OUT_DIR/overlays/<stem>.png (the classes' colours over the micrograph, with "
                 "a legend) and a measurements table (area fraction of each class; particle "
                 "statistics with --particle-class) whose 'file' column joins the features "
                 "table. Predictions are cached per file: a rerun recomputes nothing, and an "
                 "interrupted run keeps what it finished. Python: "
                 "skmicro.workflow.segment_folder.")
    p.add_argument("model", metavar="MODEL.skops", help="a model file from 'segment fit'")
    p.add_argument("images", metavar="IMAGES_DIR", help="folder of micrographs (or one file)")
    p.add_argument("--out", required=True, metavar="OUT_DIR",
                   help="output folder (created if missing; not the micrographs' folder)")
    p.add_argument("--measurements", default=None, metavar="FILE",
                   help="the measurements table, .csv or .parquet (default: "
                        "OUT_DIR/measurements.csv)")
    p.add_argument("--particle-class", default=None, metavar="CLASS",
                   help="a class name or index whose connected regions are measured as "
                        "particles: count and equivalent diameters (default: no particle "
                        "statistics)")
    _add_pixel_size_argument(p)
    p.add_argument("--data-bar-rows", type=int, default=None, metavar="N", dest="crop_data_bar",
                   help="cut exactly N rows at the bottom instead of what the model was "
                        "trained with (for micrographs from another microscope)")
    p.add_argument("--no-overlays", action="store_true", help="write no overlay images")
    p.add_argument("--uncertainty", action="store_true",
                   help="also write OUT_DIR/uncertainty/<stem>.png: the normalized entropy of "
                        "the class probabilities, 0 (sure) to 255 (no idea)")
    p.add_argument("--cache-dir", default=None, metavar="DIR",
                   help="cache folder (default: $XDG_CACHE_HOME/skmicro or ~/.cache/skmicro)")
    p.add_argument("--no-cache", action="store_true",
                   help="compute everything and keep nothing between runs")
    p.add_argument("--device", default="auto", help=DEVICE_HELP)
    p.add_argument("--n-jobs", type=int, default=None, metavar="N",
                   help="CPU threads (default: all cores)")
    _add_verbosity(p, 1, "a progress bar and a summary line on stderr")
    p.set_defaults(func=_segment_predict, python_names=dict(
        cache="--cache-dir or --no-cache", overlays="--no-overlays"))


def _segment_predict(args):
    from .workflow import segment_folder

    particle = args.particle_class
    if particle is not None and particle.isdigit():
        particle = int(particle)
    table = segment_folder(
        args.model, args.images, args.out, pixel_size=args.pixel_size,
        particle_class=particle, measurements=args.measurements,
        overlays=not args.no_overlays, uncertainty=args.uncertainty,
        crop_data_bar=args.crop_data_bar,
        cache=False if args.no_cache else (args.cache_dir or True), device=args.device,
        n_jobs=args.n_jobs, verbose=args.verbose)
    print(f"wrote {len(table)} label maps to {args.out}")
    return 0


def build_parser():
    parser = argparse.ArgumentParser(prog="skmicro", description=DESCRIPTION, epilog=EPILOG,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--traceback", action="store_true",
                        help="on an error, show Python's full traceback instead of the "
                             "one-line message")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND",
                                title="commands")
    _add_datasets_parser(sub)
    _add_demo_parser(sub)
    _add_reproduce_parser(sub)
    _add_synthesize_parser(sub)
    _add_features_parser(sub)
    _add_evaluate_parser(sub)
    _add_map_parser(sub)
    _add_segment_parser(sub)
    return parser


def _option_names(parser):
    """Python parameter name -> what the user types for it (its long option, or the name of
    the positional argument), from the dests of a subcommand's parser."""
    names = {}
    for action in parser._actions:  # the first option of a dest names it (--verbose, not -q)
        long = [o for o in action.option_strings if o.startswith("--")]
        names.setdefault(action.dest, long[0] if long else action.metavar or action.dest.upper())
    names.update(parser.get_default("python_names") or {})
    return names


def main(argv=None):
    """Run the command line; messages of the Python API name the options (--out), and its
    warnings print as one line each, ``skmicro COMMAND: notice: ...``."""
    from ._messages import command_line_notices, for_command_line

    args = build_parser().parse_args(argv)
    options = _option_names(args.command_parser)
    try:
        with command_line_notices(f"skmicro {args.command}", options):
            return args.func(args)
    except KeyboardInterrupt:  # Ctrl-C: the command has said what was kept; no traceback
        return 130
    except (ValueError, TypeError, OSError) as exc:  # bad input: the message names the fix
        if args.traceback:
            raise
        print(f"skmicro {args.command}: error: {for_command_line(str(exc), options)}\n"
              f"(skmicro --traceback {args.command} ... shows where it was raised)",
              file=sys.stderr)
        return 2


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
