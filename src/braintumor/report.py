"""One static HTML page summarising an evaluation, to open straight from disk or attach to a PR.

No JavaScript, no external URLs, CSS inline: the page shows the same wherever it is opened,
and every string that reaches it (file names, metadata, error messages) is escaped.
"""

from __future__ import annotations

from pathlib import Path

from .atomic_files import require_file_destination, written_whole
from .classes import display_name
from .ignored_files import VOLUME_ENDINGS, VOLUME_HINT
from .prediction import DISCLAIMER as TOOL_DISCLAIMER
from .refusal_wording import UNLIKE_MRI, refusals_text
from .report_tables import confusion_table, esc, kv_table, per_class_table, summary_cards
from .stripped import note_text
from .wording import LOWER_CONFIDENCE, counted, review_text

#: Caption shown under each known figure (key of the ``figures`` mapping).
CAPTIONS: dict[str, str] = {
    "confusion_matrix": "Confusion matrix: rows are the true class, columns the prediction; "
                        "each cell gives the count and the share of its true class.",
    "roc": "One-vs-rest ROC curves: sensitivity against false positive rate as the threshold moves.",
    "pr": "One-vs-rest precision-recall curves; AP is the average precision.",
    "reliability": "Reliability diagram: accuracy within each bin of top-1 confidence (bars), the bin's mean "
                   "confidence (red line) and the gap between them (hatched). Bars on the diagonal mean the "
                   "confidence can be read as a probability.",
    "reliability_uncalibrated": "The same diagram before temperature scaling (temperature 1).",
    "confidence_hist": "Top-1 confidence of correct and of wrong predictions.",
    "training_curves": "Training curves recorded by the training run (loss, accuracy, learning rate).",
    "samples": "Sample images per class, after the model's cropping and resizing.",
    "gallery_correct": "Examples of correct predictions.",
    "gallery_wrong": "Wrong predictions, most confident first: the mistakes worth looking at.",
    "gallery_refused": "Images refused, farthest from the training slices first (score 1 = the refusal threshold): "
                       f"as {UNLIKE_MRI}, or, where said under them, as turned (brain MRI to rotate upright and "
                       "resend); their answers are withheld from users.",
}

#: The tool's disclaimer (one home: prediction.py) and what a report adds: its numbers are this dataset's.
DISCLAIMER = (f"{TOOL_DISCLAIMER} Results on this dataset do not predict performance on other scanners, protocols "
              "or patient populations.")

#: Metadata keys shown in the model summary, in this order (others are listed after them).
META_ORDER = ("model_name", "package_version", "num_parameters", "train_images", "val_images",
              "temperature", "data_fingerprint", "classes", "preprocess")

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", sans-serif; margin: 2rem auto; max-width: 1100px;
       padding: 0 1rem; color: #1f2328; line-height: 1.45; }
h1 { margin-bottom: .2rem; } h2 { border-bottom: 1px solid #d0d7de; padding-bottom: .3rem; margin-top: 2rem; }
.muted { color: #656d76; }
.disclaimer { background: #fff8c5; border: 1px solid #d4a72c; padding: .7rem 1rem; border-radius: 6px; }
.cards { display: flex; flex-wrap: wrap; gap: .8rem; margin: 1rem 0; }
.card { border: 1px solid #d0d7de; border-radius: 6px; padding: .6rem 1rem; min-width: 8rem; }
.card .v { font-size: 1.6rem; font-weight: 600; } .card .k { color: #656d76; font-size: .9rem; }
table { border-collapse: collapse; margin: .6rem 0; }
th, td { border: 1px solid #d0d7de; padding: .3rem .6rem; text-align: right; }
th { background: #f6f8fa; } td.l, th.l { text-align: left; }
td.code { font-family: ui-monospace, monospace; font-size: .85rem; text-align: left; word-break: break-all; }
figure { margin: 1.2rem 0; } figure img { max-width: 100%; border: 1px solid #d0d7de; }
figcaption { color: #656d76; font-size: .95rem; }
"""


def _model_section(model: dict) -> str:
    meta = model.get("metadata") or {}
    keys = [k for k in META_ORDER if k in meta] + sorted(k for k in meta if k not in META_ORDER)
    pairs: list[tuple[str, object]] = [("Model file", str(model.get("path", "n/a"))),
                                       ("Name", str(model.get("name", "n/a"))),
                                       ("Version", str(model.get("version", "n/a")))]
    pairs += [(f"metadata: {k}", meta[k]) for k in keys]
    return kv_table(pairs)


def _data_section(data: dict) -> str:
    pairs: list[tuple[str, object]] = [("Data root", str(data.get("root", "n/a"))),
                                       ("Images listed", str(data.get("n_images", "n/a")))]
    if data.get("split"):
        pairs.append(("Split", str(data["split"])))
    if data.get("fingerprint"):
        pairs.append(("Data fingerprint (sha256)", str(data["fingerprint"])))
    html = kv_table(pairs)
    if n := data.get("n_not_images"):  # a hospital's DICOM files: the numbers above are not theirs, the reader is told
        endings = data.get("not_image_endings") or []
        volumes = VOLUME_HINT.split(" (see")[0] if set(endings) & VOLUME_ENDINGS else ""
        html += (f"<p>Not scored: {esc(counted(n, 'file'))} in the class folders that "
                 f"{'is not an image by its' if n == 1 else 'are not images by their'} name"
                 f"{' (' + esc(', '.join(endings)) + ')' if endings else ''}. Evaluate reads image files "
                 f"(JPEG, PNG, BMP, TIFF, WebP){esc(volumes)}.</p>")
    if n := data.get("n_outside_class_folders"):  # EXT/Testing/scan.jpg: in no class folder, so no class to score with
        html += (f"<p>Not scored: {esc(counted(n, 'image'))} beside the class folders in "
                 f"{esc(data.get('root', 'the data folder'))}: an image's class is the class folder it is in, and "
                 f"{'it is' if n == 1 else 'these are'} in none.</p>")
    if n := data.get("n_special_files"):  # a FIFO scan.jpg: never opened (it may never end), and the reader is told
        html += (f"<p>Not scored: {esc(counted(n, 'pipe or device', 'pipes or devices'))} named like "
                 f"{'an image' if n == 1 else 'images'} in the data folder: reading one may never end.</p>")
    errors = data.get("errors") or []
    if errors:
        items = "".join(f'<tr><td class="code">{esc(p)}</td><td class="l">{esc(m)}</td></tr>' for p, m in errors)
        html += (f"<h3>Skipped: {counted(len(errors), 'unreadable file')}</h3>"
                 f'<table><tr><th class="l">File</th><th class="l">Reason</th></tr>{items}</table>')
    else:
        html += '<p class="muted">Every listed image could be read.</p>'
    return html


def _leak_free_section(block: dict | None, note: str | None = None) -> str:
    """The same summary, per-class table and confusion matrix on the test images not seen in Training; without
    them, ``note``: why there are none (a folder without a Training split), so a reader does not take the numbers
    above for leak-free ones."""
    if not block:
        return f"<h2>Leak-free subset</h2>\n<p>{esc(note[:1].upper() + note[1:])}.</p>\n" if note else ""
    n_all = block.get("n", 0) + block.get("n_excluded", 0)
    compared = esc(block.get("reference") or "Training")  # the folder compared with: EXT's own Training, or the model's
    if not block.get("n"):  # every test image has a near duplicate in Training: nothing to score, not 0 %
        return (f"<h2>Leak-free subset</h2>\n<p>None: all {esc(n_all)} test images have a near duplicate in {compared} "
                f"(Hamming distance &lt;= {esc(block.get('threshold', ''))} of 256 bits).</p>\n")
    return f"""<h2>Leak-free subset</h2>
<p>Compared with {compared}: a test image with a near duplicate there may have been trained on. These are the
same metrics on the {esc(block.get("n", 0))} of {esc(n_all)} test images with no near duplicate there
({esc(block.get("hash", ""))}, Hamming distance &gt; {esc(block.get("threshold", ""))} of 256 bits);
{esc(block.get("n_excluded", 0))} were left out. They are the better estimate for images the model
has not seen; note that the class mix differs from the full split.</p>
{summary_cards(block)}
<h3>Per class (leak-free)</h3>
{per_class_table(block)}
<h3>Confusion matrix (leak-free)</h3>
{confusion_table(block)}
{_refused_and_flagged(block.get("ood_refused"), block.get("review"), "h3", block.get("ood_refused_turned"))}"""


def _refused_and_flagged(refused: int | None, review: dict | None, heading: str = "h2", side: int | None = None) -> str:
    """What the tool withholds (refusals) and flags (lower confidence) on this split (or subset): users see both. Those
    refused as turned (``side``: a quarter, or upside down) are said apart: they are brain MRI, to be turned."""
    if refused is None and not review:
        return ""
    parts = []
    if refused is not None:  # the CLI's and the page's words (it said "2 image(s) were refused as unlike brain MRI")
        parts.append(esc(refusals_text(refused, side)) + (": users are shown no answer for these, but the network's "
                                                          "answers are counted above." if refused else "."))
    if review:
        parts.append(esc((said := review_text(review))[:1].upper() + said[1:]) + ".")  # evaluate's console line
    return f"<{heading}>Refusals and {LOWER_CONFIDENCE}</{heading}>\n<p>{' '.join(parts)}</p>\n"


def _no_curve(metrics: dict) -> str:
    """What the ROC and PR captions add when a class had no image scored, or every one (no negatives): no curve."""
    per = {display_name(c): m.get("support") or 0 for c, m in metrics.get("per_class", {}).items()}
    absent, alone = [c for c, n in per.items() if not n], [c for c, n in per.items() if n and n == sum(per.values())]
    return (f" No curve for {', '.join(absent)}: no images of {'it' if len(absent) == 1 else 'them'} were scored."
            if absent else "") + "".join(f" Nor for {c}: no image of another class was scored." for c in alone)


def _temperature_did(calibration: dict | None) -> str:
    """What the uncalibrated diagram's caption adds: both ECEs, and whether the temperature narrowed the gap here.
    It said "the gap the validation-fitted temperature closes" of a smoke run's temperature, fitted on 8 images, that
    took Testing's ECE from 0.0383 to 0.0497."""
    if not calibration:
        return ""
    before, after = calibration["before"]["ece"], calibration["after"]["ece"]
    return (f" ECE {before:.4f} there, {after:.4f} with the temperature ({calibration['temperature']:.4f}, fitted on "
            f"validation): it {'narrowed' if after < before else 'did not narrow'} the gap on these images.")


def _figures_section(figures: dict[str, str], no_curve: str = "", calibration: dict | None = None) -> str:
    parts = []
    for key, file in figures.items():
        src = Path(file).name  # always a sibling of report.html
        caption = CAPTIONS.get(key, key.replace("_", " ").capitalize()) + (no_curve if key in ("roc", "pr") else "") \
            + (_temperature_did(calibration) if key == "reliability_uncalibrated" else "")
        parts.append(f'<figure><img src="{esc(src)}" alt="{esc(caption)}"><figcaption>{esc(caption)}</figcaption>'
                     "</figure>")
    return "".join(parts) or '<p class="muted">No figures were written.</p>'


def _stripped_paragraph(info: dict) -> str:
    """How many answers carry the skull-stripped note, under the refusals and flags (evaluate's console line): a note
    users see, so the report says how often, and how often on the wrong answers (none where ``info`` has no count)."""
    if "stripped" not in info:
        return ""
    said = note_text(info["stripped"])
    return f"<p>{esc(said[:1].upper() + said[1:])}.</p>\n"


def render_report(metrics: dict, figures: dict[str, str], info: dict) -> str:
    """The report as an HTML string (see :func:`write_report`)."""
    title = info.get("title") or "Brain tumour MRI classifier: evaluation report"
    created = info.get("created", "")
    return f"""<!DOCTYPE html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{esc(title)}</title><style>{CSS}</style></head>
<body>
<h1>{esc(title)}</h1>
<p class="muted">{esc(created)}</p>
<p class="disclaimer"><strong>{esc(DISCLAIMER)}</strong></p>
<h2>Summary</h2>
{summary_cards(metrics)}
<p class="muted">Top-1 accuracy over the images that could be read. Macro scores weight every class
equally; ECE is the expected calibration error of the top-1 confidence ({esc(metrics.get("n_bins", ""))} bins).</p>
{"".join(f"<p>{esc(n[:1].upper() + n[1:])}.</p>" for n in info.get("sample") or [])}
<h2>Per class</h2>
{per_class_table(metrics)}
{"".join(f"<p>{esc(n[:1].upper() + n[1:])}.</p>" for n in info.get("absent") or [])}
<h2>Confusion matrix</h2>
{confusion_table(metrics)}
{_refused_and_flagged(info.get("ood_refused"), info.get("review"), side=info.get("ood_refused_turned"))}
{_stripped_paragraph(info)}{_leak_free_section(info.get("leak_free"), info.get("leak_free_note"))}<h2>Model</h2>
{_model_section(info.get("model") or {})}
<h2>Data</h2>
{_data_section(info.get("data") or {})}
<h2>Figures</h2>
{_figures_section(figures, _no_curve(metrics), info.get("calibration"))}
<hr><p class="muted">{esc(DISCLAIMER)}</p>
</body></html>
"""


def write_report(out_dir: Path, metrics: dict, figures: dict[str, str], info: dict) -> Path:
    """Write ``out_dir/report.html``; ``figures`` maps a figure key to its PNG in ``out_dir``.

    ``info`` may hold ``model`` ({path, name, version, metadata}), ``data`` ({root,
    n_images, split, fingerprint, errors}), ``leak_free`` (metrics on the leak-free subset) or ``leak_free_note``
    (why there are none), ``sample`` (what the counts allow: the accuracy's interval, a smoke run), ``calibration``
    (ECE before and after the temperature),
    ``title`` and ``created``.
    """
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    return write_text_atomic(out_dir / "report.html", render_report(metrics, figures, info))


def write_text_atomic(path: Path, text: str) -> Path:
    """Write via a temporary sibling and ``os.replace``: readers never see a half-written file. A symbolic link's
    target is written, the link kept; /dev/null or a FIFO is written through, its temporary file not in /dev (only
    root may create one there): :func:`~braintumor.atomic_files.written_whole`. Into a folder that exists: evaluate
    and train make their ``--out`` folder first; a file's path typed by a user (``data audit --out``, a script's
    ``--json``) with a missing folder is said, not made (a mistyped path made a tree of folders)."""
    path = Path(path)
    require_file_destination(path)
    with written_whole(path) as tmp:  # its name cut to fit: a 250-byte --out's '.NAME.PID.tmp' was too long
        tmp.write_text(text, encoding="utf-8", errors="surrogateescape", newline="")  # non-UTF-8 names as bytes
    return path
