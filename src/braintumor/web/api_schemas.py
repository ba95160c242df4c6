"""The component schemas of the OpenAPI document (:mod:`braintumor.web.openapi`): what each JSON answer of the API
holds, for this server's class names. Apart from the document's paths and responses (openapi.py had grown to 301
lines); its schemas are checked against real responses in tests.
"""

from __future__ import annotations

from ..orientation import TURN_ADVICE
from ..refusal_wording import TURNED_RESEND, UNLIKE_MRI
from ..wording import NOTE_KINDS, STRIPPED_NOTE, UNREADABLE, review_below_text

#: A record's ``path``: what the client named the file (web.inference._clean_name), with a zip member's name after it.
_NAME: dict = {"type": "string", "description": "The uploaded file's name as sent, less any folder part (at most 255 "
               "characters; upload-1 etc. when none), or `<zip name>:<member name>` for a NIfTI member of a zip. "
               "Control, bidi and zero-width characters are kept, as in a zip member's name (a NUL becomes _): "
               "escape them wherever the name is shown."}


def ref(name: str) -> dict:
    """A reference to the component schema ``name``."""
    return {"$ref": f"#/components/schemas/{name}"}


def component_schemas(classes: list[str]) -> dict:
    """Every answer's schema, by name, for a model of ``classes``."""
    probs = {"type": "object", "properties": {c: {"type": "number", "minimum": 0, "maximum": 1} for c in classes},
             "required": classes, "additionalProperties": False}
    b64 = {"type": "string", "contentEncoding": "base64", "contentMediaType": "image/png"}
    number = {"type": "number"}
    answers = {"results": {"type": "array", "items": {"oneOf": [ref("Prediction"), ref("FileError")]}},
               "series": {"type": "array", "items": ref("Series"),
                          "description": "One summary per multi-slice upload (absent if none)."}}
    where = {  # which slice of a volume upload a record is about (absent for 2-D images)
        "slice": {"type": "integer", "minimum": 0, "description": "0-based slice index, in anatomical order; "
                  "present when the upload has more than one slice."},
        "series": {"type": "integer", "minimum": 0, "description": "Series index when a zip held several series."},
        "notes": {"type": "array", "items": {"type": "string"}, "description": "A one-slice scan's notes (what "
                  "was left out, e.g. skipped files, 'no heat map: ...'), which a summary carries for a scan of "
                  "several slices; on an error, those of the series or zip member refused on its own (e.g. the "
                  "zip's skipped files)."},
        "dicom": {"type": "object", "description": "Safe DICOM metadata (never a patient field).",
                  "properties": {"modality": {"type": "string", "description": "Modality (0008,0060); where the file "
                                                           "has none, the one its SOP class requires (CT Image "
                                                           "Storage: CT), if any."},
                                 "series_description": {"type": "string"},
                                 "series_number": {"type": "integer"}, "instance_number": {"type": "integer"},
                                 "frame": {"type": "integer"}, "slice_location": number,
                                 "image_position": {"type": "array", "items": number},
                                 "image_position_derived": {"type": "boolean", "description": "Present (true) "
                                                            "when image_position is frame 0's plus the slice "
                                                            "spacing (a legacy multi-frame file), not read."},
                                 "rows": {"type": "integer"}, "columns": {"type": "integer"},
                                 "frames": {"type": "integer"}},
                  "additionalProperties": False},
        "nifti": {"type": "object", "description": "NIfTI geometry (canonical RAS orientation; axial slices at "
                                                   "z_mm, or a coronal or sagittal acquisition's or a thin slab's own "
                                                   "plane at y_mm (coronal) or x_mm (sagittal), named by plane; "
                                                   "file_index along the file's own axis file_axis is the slice's "
                                                   "voxel index in the file, as viewers number it).",
                  "properties": {"shape": {"type": "array", "items": {"type": "integer"}},
                                 "voxel_mm": {"type": "array", "items": number}, "orientation": {"type": "string"},
                                 "source_orientation": {"type": "string"}, "plane": {"enum": ["sagittal", "coronal"]},
                                 "volumes": {"type": "integer", "description": "Volumes the file holds, the first "
                                             "read: the header's, or its whole ones where it is short (.nii.gz: 1)."},
                                 "x_mm": number, "y_mm": number, "z_mm": number,
                                 "file_axis": {"enum": ["i", "j", "k"]}, "file_index": {"type": "integer"}},
                  "additionalProperties": False},
    }
    return {
        "Prediction": {
            "type": "object",
            "description": "One classified file: the predict CLI's jsonl record, path = uploaded file name.",
            "properties": {
                "path": _NAME,
                "label": {"type": ["string", "null"], "enum": [*classes, None],
                          "description": "null when ood is true (the label is withheld)"},
                "confidence": {"type": ["number", "null"], "minimum": 0, "maximum": 1},
                "probabilities": probs,
                "ood": {"type": "boolean",
                        "description": "true: not classified, being unlike the brain MRI slices the model was "
                                       "trained on, or a brain MRI slice turned a quarter or upside down (then "
                                       f"reason ends with '{TURN_ADVICE}')"},
                "ood_score": {"type": ["number", "null"], "description": "distance from the training MRI "
                              "slices, scaled so that values above 1 are refused for their features; the "
                              "other reasons (colour, blank, ...) refuse at any value"},
                "reason": {"type": "string", "description": "why the input was refused (only when ood); ending "
                           f"with '{TURN_ADVICE}' for a turned slice"},
                "review": {"type": "boolean", "description": "true: accepted, but the confidence is "
                           f"{review_below_text()}: such answers are wrong more often than surer ones (on scans from "
                           "a source the model never saw most errors are such answers); every answer, flagged or "
                           "not, is for a qualified clinician to interpret (the model card's disclaimer)"},
                "note": {"type": "string", "description": "only on an accepted answer with a caution: for now "
                         f"'{STRIPPED_NOTE}' (a heuristic of the input's outline: a second look, not a refusal; "
                         "the label and probabilities are the model's); its words may change: match `note_kind`"},
                "note_kind": {"enum": sorted(set(NOTE_KINDS.values())), "description": "with `note`: which caution it "
                              f"is, a name that stays ('{NOTE_KINDS[STRIPPED_NOTE]}': the slice looks skull-stripped; "
                              "the page and the CLI count these)"},
                "heatmap_png_base64": {**b64, "description": "With ?heatmap=1 (if the model supports it): "
                                       "class-activation map of the predicted class over image_png_base64."},
                "image_png_base64": {**b64, "description": "With ?heatmap=1: the cropped grayscale image "
                                     "the model saw, of a refused file too (for a volume: its most suspicious "
                                     "slices only)."},
                **where,
            },
            "required": ["path", "label", "confidence", "probabilities"],
            "additionalProperties": False,
        },
        "FileError": {
            "type": "object",
            "description": f"One file that could not be read ({UNREADABLE}, as the page and the CLI count it; "
                           "not a refusal, which is `ood`), with a user-safe reason; or one the server's model gave "
                           "scores that are not finite for (its fault, not the file's), in the 503's sentence.",
            "properties": {"path": _NAME, "error": {"type": "string"}, **where},
            "required": ["path", "error"],
            "additionalProperties": False,
        },
        "Series": {
            "type": "object",
            "description": "Summary of one multi-slice upload (DICOM series, multi-frame DICOM, NIfTI volume).",
            "properties": {
                "path": {"type": "string"},
                "series": where["series"],
                "summary": {
                    "type": "object",
                    "properties": {
                        "kind": {"enum": ["dicom", "nifti"]},
                        "slices": {"type": "integer"}, "classified": {"type": "integer"},
                        "refused": {"type": "integer", "description": "slices refused (not classified): as "
                                    f"{UNLIKE_MRI}, or as turned"},
                        "refused_turned": {"type": "integer", "description": "of the refused slices, those refused "
                                           "as turned 90 degrees or upside down, counted as "
                                           f"'{TURNED_RESEND}'"},
                        "failed": {"type": "integer", "description": f"slices that could not be read ({UNREADABLE}, "
                                   "as the page and the CLI count them)"},
                        "model_failed": {"type": "integer", "minimum": 1, "description": "slices the server's model "
                                         "gave scores that are not finite for, not counted in `failed` (only when "
                                         "there are some): its model file's fault, not the upload's"},
                        "flagged": {"type": "integer", "description": "classified slices with lower confidence "
                                    "(`review` true)"},
                        "stripped": {"type": "integer", "minimum": 1, "description": "classified slices whose "
                                     "`note` says they look skull-stripped (only when there are some)"},
                        "counts": {"type": "object", "properties": {c: {"type": "integer"} for c in classes},
                                   "required": classes, "additionalProperties": False},
                        "most_suspicious": {"type": "array", "description": "Highest 1 - p(notumor) first.",
                                            "items": {"type": "object", "properties": {
                                                "slice": {"type": "integer"}, "label": {"enum": classes},
                                                "tumour_probability": {"type": "number", "minimum": 0,
                                                                       "maximum": 1}},
                                                "required": ["slice", "label", "tumour_probability"],
                                                "additionalProperties": False}},
                        "notes": {"type": "array", "items": {"type": "string"},
                                  "description": "What was left out, e.g. skipped files, 4-D volumes, 'no heat "
                                                 "map for slices ...' (the model failed there)."},
                    },
                    "required": ["kind", "slices", "classified", "refused", "failed", "flagged", "counts",
                                 "most_suspicious"],
                    "additionalProperties": False,
                },
            },
            "required": ["path", "summary"],
            "additionalProperties": False,
        },
        "PredictResponse": {
            "type": "object",
            "properties": answers,
            "required": ["results"],
            "additionalProperties": False,
        },
        "ModelFailure": {
            "type": "object",
            "description": "No file was answered and the server's model gave scores that are not finite for one at "
                           "least: `error` says so, and each file's record is kept (which file, and why each other "
                           "one was not read).",
            "properties": {"error": {"type": "string"}, **answers},
            "required": ["error", "results"],
            "additionalProperties": False,
        },
        "Error": {
            "type": "object",
            "properties": {"error": {"type": "string"}},
            "required": ["error"],
            "additionalProperties": False,
        },
        "Health": {
            "type": "object",
            "properties": {"status": {"const": "ok"}, "model": {"type": "string"}, "model_version": {"type": "string"},
                           "int8": {"type": "boolean", "description": "Whether the model is the int8 copy (it "
                                    "carries the float file's name and version)."},
                           "model_file": {"type": ["string", "null"], "description": "The model file's base name, "
                                          "never its folder (null for a model not loaded from a file)."}},
            "required": ["status", "model", "model_version", "int8", "model_file"],
            "additionalProperties": False,
        },
        "ModelCard": {
            "type": "object",
            "description": "The model's own metadata (classes, preprocessing, metrics, provenance) and this "
                           "server's limits. The linear head's weights are left out.",
            "properties": {
                "name": {"type": "string"},
                "model_name": {"type": "string", "description": "The network's architecture."},
                "model_version": {"type": "string"},
                "package_version": {"type": "string", "description": "The braintumor version that exported it."},
                "created": {"type": "string", "description": "When it was exported (UTC, ISO 8601)."},
                "format": {"type": "integer", "description": "Version of this metadata's layout."},
                "classes": {"type": "array", "items": {"type": "string"}},
                "display_names": {"type": "object", "additionalProperties": {"type": "string"}},
                "input": {"type": "object", "description": "The ONNX graph's input: name, shape, dtype, range."},
                "outputs": {"type": "object", "description": "The ONNX graph's outputs."},
                "preprocess": {"type": "object"},
                "temperature": {"type": "number"},
                "num_parameters": {"type": "integer"},
                "data_fingerprint": {"type": "string", "description": "Hash of the training data's file list."},
                "training": {"type": "object", "description": "How it was trained: epochs, images, settings."},
                "calibration": {"type": "object", "description": "Temperature scaling's fit, on the validation "
                                "split (absent for a model exported uncalibrated)."},
                "ood": {"type": "object", "description": "The refusal check's settings, not its fitted arrays "
                        "(absent for a model without it).",
                        "properties": {"threshold": {**number, "description": "The raw distance above which an "
                                                     "input is refused (its ood_score is 1 there)."},
                                       "method": {"type": "string"}, "dim": {"type": "integer"},
                                       "num_classes": {"type": "integer"}, "dtype": {"type": "string"},
                                       "maha_scale": number, "uses_middle": {"type": "boolean"},
                                       "augmented_copies": {"type": "integer"}, "whiten_layout": {"type": "string"},
                                       "max_aspect": number, "max_colourfulness": number, "min_std": number,
                                       "val_refused": {**number, "description": "Share of validation slices "
                                                       "refused."}}},
                "orientation": {"type": "object", "description": "The check that refuses slices turned on their "
                                "side: its network and validation results (absent for a model without it)."},
                "ensemble": {"type": "array", "items": {"type": "object"}, "description": "An ensemble's members."},
                "quantization": {"type": "object", "description": "How an int8 copy was made from its float model."},
                "review_below": {"type": "number", "description": "A result's `review` is true for an accepted "
                                 "answer whose confidence is under this."},
                "refused_above_ood_score": {"type": "number", "description": "A result whose `ood_score` is above "
                                            "this is refused for its features (`ood.threshold` is the same limit "
                                            "as a raw distance); absent for a model without the check."},
                "metrics": {"type": "object"},
                "heatmap": {"type": "boolean", "description": "Whether ?heatmap=1 can return heat maps."},
                "limits": {
                    "type": "object",
                    "properties": {"max_request_bytes": {"type": "integer"}, "max_files": {"type": "integer"},
                                   "max_pixels": {"type": "integer"}, "max_request_pixels": {"type": "integer"},
                                   "max_slices": {"type": "integer"},
                                   "min_side": {"type": "integer", "description": "Smallest width and height of "
                                                "an image (not a scan's slice), in pixels."},
                                   "min_scan_side": {"type": "integer", "description": "Smallest width and height "
                                                     "of a scan's slice (DICOM, NIfTI), in pixels."},
                                   "formats": {"type": "array", "items": {"type": "string"}}},
                    "required": ["max_request_bytes", "max_files", "max_pixels", "max_request_pixels", "max_slices",
                                 "min_side", "min_scan_side", "formats"],
                    "additionalProperties": False,
                },
                "intended_use": {"type": "string"},
                "limitations": {"type": "array", "items": {"type": "string"}, "description": "What the answers "
                                "cannot say (other findings, one slice, confidence on other scanners)."},
                "disclaimer": {"type": "string"},
            },
            "required": ["classes", "heatmap", "limits", "intended_use", "limitations", "disclaimer"],
        },
    }
