"""How an input the model gave no answer for is said: a refusal as unlike brain MRI or as turned, in counts
(``3 not classified (unlike brain MRI)``), and the note under a refused card or scan on the page.

Apart from :mod:`braintumor.wording` (at the 300-line limit), for the same reason it stands apart: the CLI, evaluate,
report.html and the web page all say these words, and none should import another's text helpers. It imports nothing.
"""

from __future__ import annotations

#: How a refusal by the out-of-distribution check is said in counts (the CLI's last line, evaluate, report.html, a
#: volume's summary; the page says the same). Not "not brain MRI": most refused Testing slices are brain MRI (or CT
#: filed as MRI) far from the training slices; the check measures a distance, it cannot tell what an image is.
UNLIKE_MRI: str = "unlike brain MRI"
#: How a refusal by the orientation check (a slice turned a quarter, or upside down: a brain MRI) is said in counts,
#: everywhere :data:`UNLIKE_MRI` is (the page gets it as the form's ``data-turned-resend``). It said "on their side:
#: rotate and resend" after upside-down slices were refused too, and counted them in it.
TURNED_RESEND: str = "turned: rotate upright and resend"


#: What the reason ends in where an input is no MRI by what it says it is: a DICOM of another modality
#: (``ood.input_reason``), a NIfTI of CT values or labels (``nifti_values``). The page tells such a refusal by it
#: (``pages.refused_kind``, card.js), as it tells a turned one by its advice: its note cannot speak of a brain MRI.
MRI_ONLY: str = "the model reads MRI only"


#: What the page says of an input the model gave no answer for, after why (the note under a refused card, and under a
#: scan none of whose slices was classified): the answer is the clinician's alone.
READ_WITHOUT_MODEL: str = "it must be read without the model's help"
#: Those notes, by what was refused (the page's _card.html and _series.html, through ``refused_note``): a slice unlike
#: brain MRI; one refused as turned, told to rotate it, so its note speaks of one upright already (it said "it must be
#: read without the model's help" after "rotate it upright and send it again"), and so does a scan with such slices;
#: a scan none of whose slices was classified, which said nothing of it (a grey block of all-zero class counts); a
#: slice refused for what it says it is (:data:`MRI_ONLY`: a CT), which was told "If this is a brain MRI slice, ..."
#: under "CT image (DICOM modality CT)". A screen reader hears the note with the card's answer, a scan's with its line.
REFUSED_NOTES: dict[str, str] = {
    "unlike": f"If this is a brain MRI slice, it is unlike those the model learned from: {READ_WITHOUT_MODEL}.",
    "turned": f"If it is upright already, the model cannot read it: {READ_WITHOUT_MODEL}.",
    "not_mri": f"{READ_WITHOUT_MODEL[:1].upper()}{READ_WITHOUT_MODEL[1:]}.",
    "scan": f"No slice of this scan was classified: {READ_WITHOUT_MODEL}.",
}


def not_classified_texts(unlike: int, side: int, zero: bool = False) -> list[str]:
    """Counts of refusals as people read them, in the page's words (run-status.js, series.js): ``3 not classified
    (unlike brain MRI)``, then those refused as turned apart, ``1 not classified (turned: rotate upright and
    resend)``. A count of 0 is left out, the first kept with ``zero``. The CLI said "refused" where the page said
    "not classified", and evaluate and report.html "refused as unlike brain MRI" (the CLI's last line, a scan's
    summary, evaluate's console and report.html all say these)."""
    said = [f"{unlike} not classified ({UNLIKE_MRI})"] if unlike or zero else []
    if side:
        said.append(f"{side} not classified ({TURNED_RESEND})")
    return said


def refusals_text(refused: int, side: int | None = None) -> str:
    """All ``refused`` inputs, ``side`` of them as turned (brain MRI, to be turned upright), in one line:
    ``36 not classified (unlike brain MRI), 9 not classified (turned: rotate upright and resend)``, the first count
    kept at 0: the CLI's last line, evaluate's console and report.html (which said "refused as unlike brain MRI: 37"
    and "2 image(s) were refused as unlike brain MRI")."""
    return ", ".join(not_classified_texts(refused - (side or 0), side or 0, zero=True))
