"""What ``make autograde`` prints after grading: flags, and submissions that could not be graded.

    python grading/report.py [--failed "a b"] ASSIGNMENT...      (run from course/)

For each assignment: how many submissions are graded, each flagged submission with the
reason (tampering, a by-hand part that calls teachkit, a time budget that ran out), and each
submission that **could not be graded** (graded 0 with a flag: a crafted or oversized notebook,
or a step of the grading that failed on it). Exit status 1 if any submission could not be
graded or an ``nbgrader autograde`` run failed (``--failed``, from the Makefile), else 0.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent


def db_url(course: Path) -> str:
    from traitlets.config.loader import PyFileConfigLoader

    cfg = PyFileConfigLoader("nbgrader_config.py", path=str(course)).load_config()
    return cfg.CourseDirectory.db_url


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("assignments", nargs="*")
    parser.add_argument("--failed", default="", help="assignments whose nbgrader run failed")
    parser.add_argument("--course", default=str(HERE.parent))
    args = parser.parse_args(argv)
    from nbgrader.api import Gradebook, MissingEntry

    failed_runs = args.failed.split()
    ungraded = 0
    with Gradebook(db_url(Path(args.course))) as gb:
        names = args.assignments or [a.name for a in gb.assignments]
        for name in names:
            try:
                assignment = gb.find_assignment(name)
            except MissingEntry:
                print(f"{name}: not in the gradebook (nbgrader generate_assignment {name} --create)")
                continue
            subs = list(assignment.submissions)
            lines = []
            for sub in sorted(subs, key=lambda s: s.student.id):
                for nb in sub.notebooks:
                    for comment in nb.comments:
                        text = comment.auto_comment or ""
                        if text.startswith("AUTOGRADER FLAG"):
                            text = text[len("AUTOGRADER FLAG") + 2:]
                            bad = "could not be graded" in text
                            ungraded += bad
                            mark = "NOT GRADED (0)" if bad else "flagged"
                            lines.append(f"  {sub.student.id}/{nb.name}: {mark}: {text}")
            print(f"{name}: {len(subs)} submissions, {len(lines)} flagged")
            for line in lines:
                print(line)
    for name in failed_runs:
        print(f"{name}: nbgrader autograde failed (see its messages above)")
    if ungraded or failed_runs:
        print(f"\n{ungraded} submission(s) could not be graded and {len(failed_runs)} run(s) failed: "
              "read them (the submitted notebook, the formgrader comment).")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
