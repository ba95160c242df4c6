"""Uploads that are volumes (DICOM, NIfTI, a .zip of a DICOM series): per-slice results and summaries.

An upload is a volume when its *content* says so (DICOM preamble, NIfTI magic, zip signature; see
:func:`braintumor.scan_sniff.sniff`); everything else goes through the 2-D image path unchanged.
Volumes are read in memory like every upload. One request holds at most ``max_slices`` slices in
all; heat maps are drawn for the most suspicious slices of each volume only. A process decodes the scans of one request
at a time (:func:`scans_in_turn`): what they take does not follow from their upload's size.
"""

from __future__ import annotations

import contextlib
import threading
from collections import Counter
from collections.abc import Iterator
from dataclasses import dataclass, field

from ..checkpoint_inputs import CheckpointInput
from ..heatmap import explain_apart
from ..image_headers import declared_size
from ..image_io import MAX_PIXELS, MAX_REQUEST_PIXELS, ImageError
from ..model_scores import NonFiniteScores, unscored
from ..predictor import Classifier
from ..scan_sniff import sniff
from ..series import NO_TUMOUR, error_record, summary_record, tumour_probability, turned, volume_records
from ..volume_io import MAX_INPUT_PIXELS, MAX_SLICES, BudgetError, read_volumes
from ..volume_objects import Slice, taken_pixels
from ..wording import INPUT_KINDS, NOT_ANALYSED, UNREADABLE, size_text
from .inference import Upload, base64_text, classify
from .model_failures import maps_failed_note, model_failure_text
from .monitoring import count_model_failure

#: A torch checkpoint uploaded, as its page or API user is told: what to send instead, not the CLI's '--model' advice
#: (choosing the model is its server operator's, who exports a checkpoint with 'braintumor export').
CHECKPOINT_UPLOAD: str = (f"a torch checkpoint (what 'braintumor train' writes), not an image or scan: send the MRI "
                          f"images or scans to classify ({INPUT_KINDS}); the model this page uses is chosen by the "
                          "server's operator, who can export a checkpoint to ONNX for it")

#: How many of a scan's slices of lower confidence its line names, each a link to its line in "Every slice as text",
#: the rest counted ("; 7 more in Every slice as text"): the line is said when the scan's answer comes, and an unsure
#: model's 155 slices were 155 names (_series.html, series.js, which reads it from the form's data-review-named).
REVIEW_NAMED: int = 5


@dataclass
class Entry:
    """What one upload (or one series of it) produced: records, and a summary for multi-slice volumes."""

    records: list[dict]
    summary: dict | None = None
    strip: list[dict] = field(default_factory=list)  # per slice: :func:`strip_entry`
    upload: int = 0  # which of the request's uploads it is of (a zip's volumes: several entries of one upload)
    copy: str = ""  # the page's " (2)" for an upload whose name an earlier one had (done_line.copy_suffixes)

    @property
    def top(self) -> list[dict]:
        """The records of the most suspicious slices, most suspicious first."""
        order = [t["slice"] for t in (self.summary or {}).get("summary", {}).get("most_suspicious", [])]
        by_slice = {r.get("slice"): r for r in self.records}
        return [by_slice[k] for k in order if k in by_slice]

    @property
    def shown_top(self) -> list[dict]:
        """What the page shows as suspicious: of :attr:`top`, the slices called a tumour or with lower confidence (a
        sure 'No tumour' slice is among the five most suspicious of a healthy volume, and was shown as such)."""
        return [r for r in self.top if r["label"] != NO_TUMOUR or r.get("review")]

    @property
    def refusals(self) -> list[tuple[str, str, int]]:
        """Why slices were not classified: ("not classified", "unreadable" or "not analysed" (the model failed on it),
        each reason the refused or unreadable slices were given, how many were), most first (ties: first given first),
        as series.js counts them: the page said only "4 not classified (unlike brain MRI)", and a series stored on its
        side never said so (a refused slice has no card); a 2 x 2 x 3 volume's "3 unreadable" said nothing of their
        size, which the CLI and API said."""
        return [(*said, n) for said, n in Counter(
            ("not classified", r["reason"]) if r.get("ood") and r.get("reason") else
            (NOT_ANALYSED if unscored(r) else UNREADABLE, r["error"])
            for r in self.records if (r.get("ood") and r.get("reason")) or r.get("error")).most_common()]


def strip_entry(rec: dict) -> dict:
    """One slice of the page's strip; a refused or unreadable slice is marked as such, not drawn as a tumour
    probability (a refused slice's probabilities mean nothing); ``turned``: refused as turned (its text says to
    rotate it, not that it is unlike brain MRI); ``review``: the confidence of an answer with lower confidence, said
    on its line with its class (the summary counted "1 with lower confidence" and nothing on the page said which
    slice, when it was not among the cards of the most suspicious; its tumour probability may be >99.9 %);
    ``model_failed``: a failed slice the model failed on (said "not analysed", not "unreadable")."""
    state = "failed" if "error" in rec else ("refused" if rec.get("ood") else "ok")
    return {"slice": rec["slice"], "label": rec.get("label"), "state": state, "turned": turned(rec),
            "model_failed": unscored(rec),
            "p": tumour_probability(rec["probabilities"]) if state == "ok" else None,
            "review": rec["confidence"] if state == "ok" and rec.get("review") else None}


def _add_heatmaps(clf: Classifier, entry: Entry, slices: dict[int, Slice]) -> None:
    """The crop the model saw and its heat map for the most suspicious slices (each Slice explained with the DICOM
    modality and colour its record was checked with, as the image uploads of :func:`classify` are). A slice the model
    fails on in this second pass keeps its record, without a map, said in the scan's notes (:func:`maps_failed_note`):
    the whole scan's records were lost to a 503."""
    targets = entry.top if entry.summary else [r for r in entry.records if "label" in r]
    if not targets:
        return
    crops, infos = zip(*(clf.inspect_crop(slices[r.get("slice", 0)]) for r in targets), strict=True)
    failed: list[tuple[dict, NonFiniteScores]] = []
    for rec, ex in zip(targets, explain_apart(clf, list(crops), list(infos)), strict=True):
        if isinstance(ex, NonFiniteScores):
            failed.append((rec, ex))
            continue
        rec["image_png_base64"] = base64_text(ex.image_png())
        png = ex.heatmap_png() if rec.get("label") is not None else None  # a refused slice: no class to explain
        if png is not None:
            rec["heatmap_png_base64"] = base64_text(png)
    if failed:  # a scan of one slice has no summary: its record carries the scan's notes (series.volume_records)
        holder = entry.summary["summary"] if entry.summary else failed[0][0]
        note = maps_failed_note(failed[0][1], sorted(r["slice"] for r, _ in failed if "slice" in r))
        holder.setdefault("notes", []).append(note)
        count_model_failure()  # in /metrics as a file the model failed on, as a record with MODEL_FAILED is


#: Held by the request of this process whose scans are decoded and classified (:func:`scans_in_turn`).
_SCANS = threading.Lock()


@contextlib.contextmanager
def scans_in_turn(uploads: list[Upload]) -> Iterator[None]:
    """Hold the process's scan turn while a request that holds a scan (DICOM, NIfTI, zip) is answered; a request of
    images only never waits. A scan's decoding takes hundreds of MB whatever its upload's size, and each of a worker's
    threads decoded one: four 130 kB .nii.gz uploads of 512 x 512 x 256 voxels at once took a worker from 0.1 to
    1.8 GB (in 20 s); in turn, to 0.75 GB (in 12 s). Its CPUs are the same either way (the model's threads use them)."""
    if not any(sniff(u.data, u.name) is not None for u in uploads):
        yield
        return
    with _SCANS:
        yield


def classify_entries(clf: Classifier, uploads: list[Upload], heatmap: bool = False,
                     max_slices: int = MAX_SLICES, max_pixels: int = MAX_REQUEST_PIXELS) -> list[Entry]:
    """One Entry per image upload and per volume (series) upload, in upload order; a request with scans in its turn
    (:func:`scans_in_turn`).

    A request holds at most ``max_slices`` volume slices and ``max_pixels`` decoded image pixels (as
    the headers declare them, checked before decoding); a file past either gets an error record."""
    with scans_in_turn(uploads):
        return _classify_entries(clf, uploads, heatmap, max_slices, max_pixels)


def _classify_entries(clf: Classifier, uploads: list[Upload], heatmap: bool, max_slices: int,
                      max_pixels: int) -> list[Entry]:
    entries: list[Entry] = []
    images: list[Upload] = []
    of_images: list[int] = []  # which upload each of ``images`` is
    budget = max_slices
    pixels_left = max_pixels
    scan_pixels_left = MAX_INPUT_PIXELS  # the request's scans share one input's pixel budget, checked on headers

    def flush() -> None:
        entries.extend(Entry([rec], upload=i) for rec, i in zip(classify(clf, images, heatmap=heatmap), of_images,
                                                                   strict=True))
        images.clear()
        of_images.clear()

    for index, upload in enumerate(uploads):
        if sniff(upload.data, upload.name) is None:
            size = declared_size(upload.data)
            # an image over the per-image cap is refused by decode_image itself, with that precise message
            pixels = size[0] * size[1] if size and size[0] * size[1] <= MAX_PIXELS else 0
            if pixels > pixels_left:
                flush()
                entries.append(Entry([{"path": upload.name, "error": f"its {size_text(*size)} pixels would take this "
                                       f"request past {max_pixels:,} pixels, the most one request may decode: "
                                       "send it on its own"}], upload=index))
                continue
            pixels_left -= pixels
            images.append(upload)
            of_images.append(index)
            continue
        flush()
        if budget < 1 or scan_pixels_left < 1:
            spent = f"{max_slices} slices" if budget < 1 else f"{MAX_INPUT_PIXELS:,} scan pixels"
            entries.append(Entry([{"path": upload.name, "error": f"this request's earlier scans took all of its "
                                   f"{spent}: send it on its own"}], upload=index))
            continue
        try:  # what is left of the request's budgets, so that a scan past them is refused before decoding
            volumes = read_volumes(upload.data, name=upload.name, max_slices=budget, max_pixels=scan_pixels_left,
                                   per_input=True)
        except ImageError as exc:
            said = CHECKPOINT_UPLOAD if isinstance(exc, CheckpointInput) else str(exc)
            # a study of several series past one request's budget: each of them may fit one (braintumor predict
            # reads a study series by series); it said only the limit
            what = "its series one by one" if getattr(exc, "series", 0) > 1 else "it on its own"
            earlier = budget < max_slices or scan_pixels_left < MAX_INPUT_PIXELS
            took = {"slices": (max_slices, max_slices - budget),
                    "pixels": (MAX_INPUT_PIXELS, MAX_INPUT_PIXELS - scan_pixels_left)}.get(getattr(exc, "unit", ""))
            if isinstance(exc, BudgetError) and not exc.whole and earlier and took:  # whole: its own advice
                # the request's limit and what its earlier scans took: "the limit is 212", what they left, read as if
                # 212 were the limit (a budget refusal says its limit against what it was given)
                said = (f"{exc.held}{exc.after}; the limit is {took[0]:,} {exc.unit} per request, and this request's "
                        f"earlier scans took {took[1]:,} of them: send {what}")
            elif getattr(exc, "series", 0) > 1:
                said += f": send {what}, each within the limit"
            entries.append(Entry([{"path": upload.name, "error": said}], upload=index))
            continue
        scan_pixels_left -= taken_pixels(volumes)
        for volume in volumes:  # read_volumes kept within ``budget``: checked on the headers, before decoding
            if volume.error:  # a zip's member refused on its own (a segmentation map): its others are answered
                entries.append(Entry([error_record(volume)], upload=index))
                continue
            budget -= len(volume.slices)
            pairs = list(volume_records(clf, volume, unscored=model_failure_text))  # no model path to clients
            entry = Entry([rec for rec, _ in pairs], upload=index)
            if len(volume.slices) > 1:
                entry.summary = summary_record(volume, entry.records, clf.classes)
                entry.strip = [strip_entry(r) for r in entry.records if "slice" in r]
            if heatmap:
                _add_heatmaps(clf, entry, {r.get("slice", 0): sl for r, sl in pairs})
            entries.append(entry)
    flush()
    return entries


def flatten(entries: list[Entry]) -> tuple[list[dict], list[dict]]:
    """(every record in order, every series summary) for the JSON API."""
    return [r for e in entries for r in e.records], [e.summary for e in entries if e.summary]
