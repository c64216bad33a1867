"""The ``teachkit`` command: serve the lessons, or check an installation.

``teachkit lessons [--port 8866]`` starts Voilà on the lessons that ship with
teachkit (or on ``--source DIR``), with the page settings of ``voila.json``
(sources stripped, no tracebacks), pre-heated kernels and the bounds of a class
server (``--learners N`` sizes it for a class; see teachkit._lessonserver).

``teachkit check`` prints the versions of the stack and proves that the parts
a lesson needs work: widgets serialise, matplotlib draws, and a Jupyter kernel
starts and imports teachkit.  It exits with status 1 and says what to install
when something is missing.
"""

from __future__ import annotations

import argparse
import importlib
import importlib.util
import os
import shutil
import sys
from pathlib import Path

#: Packages reported by ``teachkit check``: (import name, needed for).
STACK = (
    ("numpy", "everything"),
    ("scipy", "everything"),
    ("matplotlib", "figures"),
    ("ipywidgets", "explorers"),
    ("ipykernel", "lessons (pip install 'teachkit[lessons]')"),
    ("jupyter_client", "lessons (pip install 'teachkit[lessons]')"),
    ("voila", "lessons (pip install 'teachkit[lessons]')"),
    ("nbgrader", "graded exercises (pip install 'teachkit[grading]')"),
)
REQUIRED = {"numpy", "scipy", "matplotlib", "ipywidgets"}
#: Needed only by instructors: reported, never a failure.
OPTIONAL = {"nbgrader"}


def lessons_dir() -> Path:
    """Where the lessons are: inside the installed package, or the source checkout."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "_lessons", here.parent / "lessons"):
        if (candidate / "voila.json").is_file():
            return candidate
    raise FileNotFoundError(
        "the lessons folder was not found next to teachkit; "
        "run from a source checkout or reinstall teachkit"
    )


#: Where teachkit's Voila template ("teachkit": Voila's lab template with nothing loaded
#: from a CDN) lies inside the package, as a Jupyter data folder (voila/templates/teachkit).
#: A wheel also installs it into <prefix>/share/jupyter, where the Voila server extension
#: (Binder, a hub) finds it; `teachkit lessons` puts this folder on JUPYTER_PATH as well,
#: so the template is found from an editable install or a source checkout too.
JUPYTER_DATA = Path(__file__).resolve().parent / "_jupyter"


def voila_env(environ=None) -> dict[str, str]:
    """The environment Voila runs in: ``environ`` with teachkit's Jupyter data folder first
    on JUPYTER_PATH.

    >>> env = voila_env({"JUPYTER_PATH": "/srv/jupyter"})
    >>> env["JUPYTER_PATH"].split(os.pathsep)[1]
    '/srv/jupyter'
    >>> Path(env["JUPYTER_PATH"].split(os.pathsep)[0], "voila", "templates", "teachkit").is_dir()
    True
    """
    env = dict(os.environ if environ is None else environ)
    env["JUPYTER_PATH"] = os.pathsep.join(p for p in (str(JUPYTER_DATA), env.get("JUPYTER_PATH")) if p)
    return env


#: Voila's markdown renderer for the lessons: formulas as MathML (see teachkit._mathml).
MARKDOWN_RENDERER = "teachkit._mathml.MathMLRenderer"     # = teachkit._mathml.RENDERER


#: ``teachkit lessons`` options that set the lessons server's bounds (teachkit._lessonserver):
#: option -> LessonServer trait.
SERVER_OPTIONS = {
    "learners": "learners",
    "max_kernels": "max_kernels",
    "kernels_per_learner": "kernels_per_learner",
    "kernel_memory": "kernel_memory",
}


def voila_command(source: Path, port: int, preheat: bool = True, open_browser: bool = False,
                  **server) -> list[str]:
    """The command line that serves ``source`` with Voilà (settings from its voila.json);
    ``server``: LessonServer settings (``learners=30``, ``max_kernels=40``...).

    >>> cmd = voila_command(Path("lessons"), 8866, learners=30)
    >>> "--LessonServer.learners=30" in cmd, "--pool_size=0" in cmd
    (True, True)
    """
    # teachkit._wsguard runs Voila with a guard on its kernel websockets (malformed
    # frames that hang Voila, tracebacks sent to the page); it takes Voila's arguments.
    cmd = [sys.executable, "-m", "teachkit._wsguard", f"--port={int(port)}", "--Voila.ip=127.0.0.1"]
    # Formulas as MathML, made by the server (teachkit._mathml), not typeset by MathJax in
    # the page; where Voila is a server extension, teachkit._mathml's own hook does the same.
    cmd.append(f"--VoilaExporter.markdown_renderer_class={MARKDOWN_RENDERER}")
    if not open_browser:
        cmd.append("--no-browser")
    if preheat:
        # Kernels that already ran a lesson wait for its visitors (Voila's pools); teachkit's
        # lessons server fills them in the background, lesson 00 first, sized by
        # LessonServer.learners (Voila's own fill, all lessons at once, is off: pool_size=0).
        cmd += ["--preheat_kernel=True", "--pool_size=0"]
    for name, value in server.items():
        if name not in SERVER_OPTIONS.values():
            raise ValueError(f"unknown lessons server setting {name!r}; known: {', '.join(SERVER_OPTIONS)}")
        if value is not None:
            cmd.append(f"--LessonServer.{name}={value}")
    return cmd


def _cmd_lessons(args) -> int:
    if importlib.util.find_spec("voila") is None:
        print("teachkit lessons needs Voilà: pip install 'teachkit[lessons]'", file=sys.stderr)
        return 1
    source = Path(args.source).resolve() if args.source else lessons_dir()
    if not source.is_dir():
        print(f"--source {args.source!r} is not a folder", file=sys.stderr)
        return 2
    if not 1 <= args.port <= 65535:
        print(f"--port must be between 1 and 65535, got {args.port}", file=sys.stderr)
        return 2
    for name in ("learners", "max_kernels", "kernels_per_learner"):
        value = getattr(args, name)
        if value is not None and value < 1:
            print(f"--{name.replace('_', '-')} must be at least 1, got {value}", file=sys.stderr)
            return 2
    if args.kernel_memory is not None:
        from teachkit._lessonserver import parse_bytes

        try:
            parse_bytes(args.kernel_memory)
        except (TypeError, ValueError) as exc:
            print(f"--kernel-memory: {exc}", file=sys.stderr)
            return 2
    server = {trait: getattr(args, option) for option, trait in SERVER_OPTIONS.items()}
    cmd = voila_command(source, args.port, preheat=not args.no_preheat, open_browser=args.open, **server)
    print(f"Serving the lessons in {source} at http://localhost:{args.port}/", flush=True)
    # Become the Voila process (voila.json is read from the working directory): signals
    # such as Ctrl-C or a terminate then reach Voila itself, and no server is left behind.
    os.chdir(source)
    os.execve(cmd[0], cmd, voila_env())
    return 0  # pragma: no cover - execv does not return


def _version(name: str) -> str | None:
    try:
        module = importlib.import_module(name)
    except Exception:  # noqa: BLE001 - any import failure means "not usable"
        return None
    return str(getattr(module, "__version__", "installed"))


def _check_widgets() -> str:
    import ipywidgets as widgets

    slider = widgets.IntSlider(value=3, min=0, max=10, description="events")
    state = slider.get_state()
    if state.get("value") != 3:
        raise RuntimeError("an IntSlider did not report its value")
    return "an IntSlider serialises its state"


def _check_matplotlib() -> str:
    import io

    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(2, 2), dpi=50)
    ax = fig.add_subplot()
    ax.step([0, 1, 2], [1.0, 0.8, 0.5], where="post")
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    if not buf.getvalue().startswith(b"\x89PNG"):
        raise RuntimeError("matplotlib did not produce a PNG")
    return f"a step plot renders to PNG ({len(buf.getvalue())} bytes)"


def _check_kernel(timeout: float = 60) -> str:
    import tempfile

    from jupyter_client.manager import KernelManager

    # IPC transport: the kernel's sockets are files in a private folder, not TCP ports.
    folder = tempfile.mkdtemp(prefix="teachkit-check-")
    km = KernelManager(kernel_name="python3", transport="ipc", ip=os.path.join(folder, "kernel"))
    km.start_kernel()
    kc = km.client()
    kc.start_channels()
    kc.wait_for_ready(timeout=timeout)
    try:
        code = "import teachkit, ipywidgets, matplotlib; print(teachkit.__version__)"
        outputs: list[str] = []

        def hook(msg):
            if msg["msg_type"] == "stream":
                outputs.append(msg["content"]["text"])
            elif msg["msg_type"] == "error":
                outputs.append("ERROR " + msg["content"]["ename"] + ": " + msg["content"]["evalue"])

        reply = kc.execute_interactive(code, timeout=timeout, output_hook=hook)
        if reply["content"]["status"] != "ok":
            raise RuntimeError("the kernel could not import teachkit: " + " ".join(outputs))
        return "a python3 kernel started and imported teachkit " + "".join(outputs).strip()
    finally:
        kc.stop_channels()
        km.shutdown_kernel(now=True)
        shutil.rmtree(folder, ignore_errors=True)


def _cmd_check(args) -> int:
    from teachkit import __version__

    print(f"teachkit {__version__} (Python {sys.version.split()[0]}, {sys.executable})")
    problems = []
    for name, purpose in STACK:
        version = _version(name)
        missing = "not installed" if name in OPTIONAL else "MISSING"
        print(f"  {name:<15} {version or missing:<13} for {purpose}")
        if version is None and name not in OPTIONAL and (name in REQUIRED or not args.core):
            problems.append(f"{name} is missing (needed for {purpose})")
    checks = [("widgets", _check_widgets), ("matplotlib", _check_matplotlib)]
    if not args.core:
        checks.append(("kernel", _check_kernel))
    for label, check in checks:
        try:
            detail = check()
        except Exception as exc:  # noqa: BLE001 - reported, not raised
            problems.append(f"{label}: {type(exc).__name__}: {exc}")
            print(f"  [FAIL] {label}: {exc}")
        else:
            print(f"  [ok]   {label}: {detail}")
    if problems:
        print("\nteachkit check FAILED:", file=sys.stderr)
        for p in problems:
            print(f"  - {p}", file=sys.stderr)
        print("Install everything with: pip install 'teachkit[lessons,grading]'", file=sys.stderr)
        return 1
    print("teachkit check: everything works.")
    return 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="teachkit", description=__doc__.split("\n\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("lessons", help="serve the lessons with Voilà")
    p.add_argument("--port", type=int, default=8866, help="port to serve on (default 8866)")
    p.add_argument("--source", default=None, help="lessons folder (default: the installed lessons)")
    p.add_argument("--no-preheat", action="store_true", help="do not pre-start a kernel per lesson")
    p.add_argument("--learners", type=int, default=None, metavar="N",
                   help="size the server for a class of N (pre-heats N kernels of lesson 00, N/4 of "
                        "each other lesson; default 1)")
    p.add_argument("--max-kernels", type=int, default=None, metavar="N",
                   help="lesson kernels at most (default: from the memory, about 200 MB each)")
    p.add_argument("--kernels-per-learner", type=int, default=None, metavar="N",
                   help="lesson kernels at most per learner (default 6)")
    p.add_argument("--kernel-memory", default=None, metavar="SIZE",
                   help="address-space limit of a lesson kernel, e.g. 1G (default 1G; 0: none)")
    p.add_argument("--open", action="store_true", help="open a browser tab")
    p.set_defaults(func=_cmd_lessons)
    c = sub.add_parser("check", help="check that this installation can run the lessons")
    c.add_argument("--core", action="store_true", help="check only the library (no kernel, Voilà, nbgrader)")
    c.set_defaults(func=_cmd_check)
    return parser


def main(argv: list[str] | None = None) -> int:
    """Entry point of the ``teachkit`` console script."""
    args = build_parser().parse_args(argv)
    return int(args.func(args) or 0)


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
