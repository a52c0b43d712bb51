"""The notebooks in notebooks/ run top to bottom on the project's own data, and are committed clean.

Each notebook is executed in a fresh IPython kernel of this interpreter, in ``notebooks/`` (the
notebooks read ``../data/``), with matplotlib's Agg backend until a notebook asks for the inline
backend (which renders PNG images, no display needed), so every figure cell must show one. The
kernel talks to the test over Unix domain sockets (ZMQ ``ipc`` transport), so no TCP port is
opened; before the first cell it blocks every other socket (pytest-socket), so a notebook that
reached the network would fail.
Cells that check their own results (``assert``) make a drifting toolkit fail here.
"""

from __future__ import annotations

import json
import os
import shutil
import sys
import tempfile
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import nbformat
import pytest
from nbclient import NotebookClient
from nbclient.exceptions import CellExecutionError
from traitlets.config import Config

from scripts.strip_notebooks import main, strip

ROOT = Path(__file__).resolve().parent.parent
NOTEBOOKS = ROOT / "notebooks"
NAMES = sorted(p.name for p in NOTEBOOKS.glob("*.ipynb"))
TEMPLATE = "05-your-own-capture.ipynb"
CELL_TIMEOUT = 120  # seconds per cell; each notebook takes a few seconds in all

# Run in the kernel before the notebook's first cell (not saved anywhere).
BLOCK_NETWORK = "import pytest_socket\npytest_socket.disable_socket(allow_unix_socket=True)"


def read(name: str) -> nbformat.NotebookNode:
    return nbformat.read(NOTEBOOKS / name, as_version=4)


def with_parameters(notebook: nbformat.NotebookNode, values: Mapping[str, Any]) -> nbformat.NotebookNode:
    """Add a cell setting ``values`` after the ``parameters`` cell, as papermill does."""
    (position,) = [i for i, cell in enumerate(notebook.cells) if "parameters" in cell.metadata.get("tags", [])]
    source = "\n".join(f"{name} = {value!r}" for name, value in values.items())
    cell = nbformat.v4.new_code_cell(source, metadata={"tags": ["injected-parameters"]})
    notebook.cells.insert(position + 1, cell)
    return notebook


def execute(notebook: nbformat.NotebookNode, folder: Path, label: str) -> list[nbformat.NotebookNode]:
    """Run every cell in a kernel started in notebooks/; return the code cells, run."""
    notebook.cells.insert(0, nbformat.v4.new_code_cell(BLOCK_NETWORK))
    client = NotebookClient(
        notebook,
        kernel_name="python3",
        timeout=CELL_TIMEOUT,
        resources={"metadata": {"path": str(NOTEBOOKS)}},
        # ipc endpoints are files named <ip>-<port>: absolute, or kernel (in notebooks/) and client differ
        config=Config({"KernelManager": {"transport": "ipc", "ip": str(folder / "kernel")}}),
    )
    try:
        client.execute()
    except CellExecutionError as error:
        pytest.fail(f"{label}: {error}")
    code_cells = [cell for cell in notebook.cells if cell.cell_type == "code"]
    assert all(cell.execution_count is not None for cell in code_cells if cell.source.strip())  # empty: not run
    assert not [o for cell in code_cells for o in cell.outputs if o.output_type == "error"]
    return code_cells[1:]


def outputs_text(cells: list[nbformat.NotebookNode]) -> str:
    """Everything the cells printed or showed as text."""
    parts = []
    for cell in cells:
        for output in cell.outputs:
            parts.append(output.get("text", "") + output.get("data", {}).get("text/plain", ""))
    return "\n".join(parts)


@pytest.fixture
def kernel_folder(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A kernel spec for this interpreter, a short-named folder for sockets and the kernel's
    temporary files (reports written by the notebooks), and the Agg backend."""
    folder = Path(tempfile.mkdtemp(prefix="nb"))  # Unix socket paths must stay under 108 bytes
    spec = folder / "kernels" / "python3"
    spec.mkdir(parents=True)
    # --colors=nocolor: tracebacks without terminal escapes in the failure message
    argv = [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}", "--colors=nocolor"]
    (spec / "kernel.json").write_text(json.dumps({"argv": argv, "display_name": "toolkit", "language": "python"}))
    (folder / "tmp").mkdir()
    monkeypatch.setenv("JUPYTER_PATH", str(folder))
    monkeypatch.setenv("JUPYTER_RUNTIME_DIR", str(folder / "runtime"))
    monkeypatch.setenv("TMPDIR", str(folder / "tmp"))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    monkeypatch.setenv("PYTHONPATH", os.pathsep.join(filter(None, [str(ROOT), os.environ.get("PYTHONPATH")])))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_the_five_notebooks_are_there() -> None:
    assert NAMES == [
        "01-quickstart.ipynb",
        "02-mi-browser-incognito.ipynb",
        "03-traffic-analysis-basics.ipynb",
        "04-checking-claims.ipynb",
        TEMPLATE,
    ]


@pytest.mark.parametrize("name", NAMES)
def test_committed_notebook_has_no_outputs(name: str) -> None:
    notebook = read(name)
    nbformat.validate(notebook)
    dirty = [
        index
        for index, cell in enumerate(notebook.cells)
        if cell.cell_type == "code" and (cell.outputs or cell.execution_count is not None)
    ]
    assert not dirty, f"{name}: cells {dirty} have outputs; run python scripts/strip_notebooks.py"
    assert strip(notebook) is False  # nothing left for the stripper to do


@pytest.mark.parametrize("name", NAMES)
def test_notebook_reads_only_the_projects_data(name: str) -> None:
    sources = "\n".join(cell.source for cell in read(name).cells)
    for outside in ("/work/", "/home/", "/tmp/", "corpus", "http://", "urlopen", "requests.get"):
        assert outside not in sources, f"{name} mentions {outside}"
    assert '"../data/' in sources


@pytest.mark.parametrize("name", NAMES)
def test_notebook_is_short_and_starts_with_a_title(name: str) -> None:
    cells = read(name).cells
    assert 10 <= len(cells) <= 30
    assert cells[0].cell_type == "markdown" and cells[0].source.startswith(f"# {name[:2]} ·")


def test_template_has_a_papermill_parameters_cell() -> None:
    tagged = [cell for cell in read(TEMPLATE).cells if "parameters" in cell.metadata.get("tags", [])]
    assert len(tagged) == 1
    for parameter in ("CAPTURE", "KEYLOG", "VISITED", "IDENTIFIERS", "VENDOR"):
        assert f"\n{parameter} = " in "\n" + tagged[0].source
    assert 'CAPTURE = "../data/lab/incognito.pcapng"' in tagged[0].source


def test_exercises_have_empty_cells_to_work_in_and_the_answers_come_last() -> None:
    cells = read("03-traffic-analysis-basics.ipynb").cells
    headings = [i for i, cell in enumerate(cells) if cell.cell_type == "markdown" and cell.source.startswith("## ")]
    (exercises,) = [i for i in headings if cells[i].source.startswith("## Exercises")]
    (answers,) = [i for i in headings if cells[i].source.startswith("## Answers")]
    assert exercises < answers and answers == headings[-1]
    asked = cells[exercises + 1 : answers]
    questions = [cell for cell in asked if cell.cell_type == "markdown"]
    assert [cell.source[:2] for cell in questions] == ["1.", "2.", "3.", "4."]
    for question, work in zip(asked[::2], asked[1::2], strict=True):  # each question, then its empty cell
        assert question.cell_type == "markdown" and work.cell_type == "code" and not work.source.strip()
    solved = cells[answers + 1 :]
    assert [cell.source[:3] for cell in solved] == ["# 1", "# 2", "# 3", "# 4"]
    assert all(cell.cell_type == "code" and "assert " in cell.source for cell in solved)


def test_the_templates_role_text_names_every_role_its_capture_shows() -> None:
    import toolkit

    template = read(TEMPLATE).cells
    text = next(cell.source for cell in template if cell.source.startswith("## 1. Load"))
    visited = ROOT / "data/xiaomi-2020.visited.txt"  # the template's defaults, as it runs them
    result = toolkit.analyze(ROOT / "data/lab/incognito.pcapng", visited=visited, vendors=("Xiaomi",))
    endpoints = result.tables["endpoints"]
    shown = set(endpoints["role"].astype(str))
    assert "unknown" in shown  # the lab's made-up hosts are on no list
    assert all(f"`{role}`" in text for role in shown), shown
    for host in endpoints.loc[endpoints["role"] == "unknown", "host"]:
        assert f"`{host}`" in text


def test_the_template_writes_its_report_into_a_visible_out_folder() -> None:
    (parameters,) = [cell for cell in read(TEMPLATE).cells if "parameters" in cell.metadata.get("tags", [])]
    assert '\nOUT = "out/' in "\n" + parameters.source
    assert "/notebooks/out/" in (ROOT / ".gitignore").read_text().splitlines()  # reports are not committed


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.slow
def test_notebook_runs_top_to_bottom(name: str, kernel_folder: Path) -> None:
    notebook = read(name)
    if name == TEMPLATE:  # its report goes to the kernel's folder, not to notebooks/out/
        notebook = with_parameters(notebook, {"OUT": str(kernel_folder / "tmp" / "toolkit-report-default")})
    cells = execute(notebook, kernel_folder, name)
    shown = outputs_text(cells)
    assert "Traceback" not in shown
    assert "sa.api.intl.miui.com" in shown  # the tables the reader is meant to see were shown
    drawing = [cell for cell in cells if "= plots." in cell.source]
    assert all(any("image/png" in o.get("data", {}) for o in cell.outputs) for cell in drawing)


@pytest.mark.slow
def test_reports_written_by_notebooks_go_to_the_temporary_folder(kernel_folder: Path) -> None:
    execute(read("04-checking-claims.ipynb"), kernel_folder, "04")
    (report,) = (kernel_folder / "tmp").glob("xiaomi-2020-*/report.html")
    page = report.read_text(encoding="utf-8")
    assert "Xiaomi Mint Browser statement (2020)" in page
    assert page.count("contradicted") >= 3


@pytest.mark.slow
def test_template_runs_on_a_har_without_visited_pages_or_vendor(kernel_folder: Path) -> None:
    notebook = with_parameters(
        read(TEMPLATE),
        {
            "CAPTURE": "../data/lab/incognito_toggle_off.har",
            "VISITED": None,
            "IDENTIFIERS": {},
            "VENDOR": None,
            "OUT": str(kernel_folder / "tmp" / "toolkit-report-har"),
        },
    )
    shown = outputs_text(execute(notebook, kernel_folder, "05 on a HAR"))
    assert "'format': 'har'" in shown
    assert "encrypted flows: none" in shown  # a HAR has no packets to decrypt
    assert len(list((kernel_folder / "tmp").glob("toolkit-report-*/report.html"))) == 1


@pytest.mark.parametrize(
    ("capture", "keylog", "expected"),
    [
        ("pcap/snet__tls1.3_curl_google.pcap", "keys/snet__tls1.3_curl_google.keys", "1 of 1 decrypted"),
        ("pcap/ja4__chrome-cloudflare-quic-with-secrets.pcapng", None, "2 of 2 decrypted"),  # TLS and QUIC (DSB)
        ("har/mitmproxy__firefox.har", None, "'format': 'har'"),
    ],
)
@pytest.mark.slow
def test_template_runs_on_third_party_captures(
    corpus: Path, kernel_folder: Path, capture: str, keylog: str | None, expected: str
) -> None:
    parameters: dict[str, Any] = {
        "CAPTURE": str(corpus / capture),
        "KEYLOG": str(corpus / keylog) if keylog else None,
        "VISITED": None,
        "IDENTIFIERS": {},
        "VENDOR": None,
        "OUT": str(kernel_folder / "tmp" / "toolkit-report-corpus"),
    }
    shown = outputs_text(execute(with_parameters(read(TEMPLATE), parameters), kernel_folder, capture))
    assert expected in shown
    assert len(list((kernel_folder / "tmp").glob("toolkit-report-*/report.html"))) == 1


def test_stripper_removes_what_a_run_leaves(tmp_path: Path) -> None:
    notebook = read("01-quickstart.ipynb")
    run = notebook.cells[1]
    run.execution_count = 1
    run.outputs = [nbformat.v4.new_output("stream", name="stdout", text="sa.api.intl.miui.com\n")]
    run.metadata["execution"] = {"iopub.status.busy": "2020-04-30T10:00:00Z"}
    notebook.metadata["language_info"] = {"name": "python", "version": "3.11.7"}
    path = tmp_path / "run.ipynb"
    nbformat.write(notebook, path)
    assert main(["--check", str(path)]) == 1
    assert nbformat.read(path, as_version=4).cells[1].outputs  # --check changes nothing
    assert main([str(path)]) == 0
    stripped = nbformat.read(path, as_version=4)
    assert stripped.cells[1].outputs == [] and stripped.cells[1].execution_count is None
    assert "execution" not in stripped.cells[1].metadata
    assert stripped.metadata["language_info"] == {"name": "python"}
    assert main(["--check", str(path)]) == 0
