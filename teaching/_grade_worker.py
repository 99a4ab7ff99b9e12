"""Grade one submission with otter, in a process of its own (``teaching.grade`` starts it).

``python -m teaching._grade_worker AUTOGRADER_ZIP SUBMISSION OUT_DIR`` runs ``otter run``'s
grading in this process and writes otter's ``results.json`` and ``errors.json``: the exceptions
the submission's cells raised while it was executed for grading (the cell's source, error type,
message), so the report can say why an answer is missing. Cells tagged ``raises-exception`` (a
chapter's deliberate demonstrations of an error) are left out.
"""

import json
import sys
from pathlib import Path


def main(ag_zip: str, submission: str, out_dir: str) -> None:
    import otter.run
    results = otter.run.main(submission, autograder=ag_zip, output_dir=out_dir, no_logo=True)
    errors = []
    nb = getattr(results, "notebook", None)
    if nb is not None:
        for cell in nb.cells:
            for out in cell.get("outputs", []):
                if (out.get("output_type") == "error"
                        and "raises-exception" not in cell.metadata.get("tags", [])):
                    errors.append({"source": cell.source, "ename": out.get("ename"),
                                   "evalue": out.get("evalue")})
    (Path(out_dir) / "errors.json").write_text(json.dumps(errors), encoding="utf-8")


if __name__ == "__main__":
    main(*sys.argv[1:4])
