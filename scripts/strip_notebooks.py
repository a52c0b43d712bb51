"""Strip outputs, execution counts and run-time metadata from notebooks before they are committed.

    python scripts/strip_notebooks.py                 # every notebooks/*.ipynb, in place
    python scripts/strip_notebooks.py --check         # exit 1 (and name them) if any needs stripping
    python scripts/strip_notebooks.py a.ipynb b.ipynb

Outputs of a run hold captured values and machine-specific paths; the repository keeps notebooks
as sources only. tests/test_notebooks.py fails when a committed notebook has outputs.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parent.parent

#: Cell metadata written by a run (timings, scroll state) rather than by the author.
RUN_METADATA = ("execution", "ExecuteTime", "collapsed", "scrolled")


def strip(notebook: nbformat.NotebookNode) -> bool:
    """Remove outputs, execution counts and run metadata, in place; True when anything changed.

    >>> nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell("1 + 1", execution_count=3)])
    >>> nb.cells[0].outputs = [nbformat.v4.new_output("execute_result", {"text/plain": "2"}, execution_count=3)]
    >>> strip(nb), nb.cells[0].outputs, nb.cells[0].execution_count, strip(nb)
    (True, [], None, False)
    """
    changed = False
    for cell in notebook.cells:
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None):
            cell.outputs, cell.execution_count = [], None
            changed = True
        for key in RUN_METADATA:
            if key in cell.metadata:
                del cell.metadata[key]
                changed = True
    language = notebook.metadata.get("language_info")
    if isinstance(language, dict) and set(language) - {"name"}:
        notebook.metadata["language_info"] = {"name": language.get("name", "python")}
        changed = True
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("paths", nargs="*", type=Path, help="notebooks (default: notebooks/*.ipynb)")
    parser.add_argument("--check", action="store_true", help="change nothing; exit 1 if a notebook needs stripping")
    args = parser.parse_args(argv)
    paths = args.paths or sorted((ROOT / "notebooks").glob("*.ipynb"))
    dirty = []
    for path in paths:
        notebook = nbformat.read(path, as_version=4)
        if strip(notebook):
            dirty.append(path)
            if not args.check:
                nbformat.write(notebook, path)
    for path in dirty:
        print(f"{path}: {'has outputs' if args.check else 'stripped'}")
    return 1 if dirty and args.check else 0


if __name__ == "__main__":
    sys.exit(main())
