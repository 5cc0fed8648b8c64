"""tfmodels installs like a library: its two wheels (tfmodels, and the edge kit
tfmodels-edge from export/) built as ``make wheels`` does, then ``pip install
"tfmodels[app]"`` from them into a scratch virtualenv with no package index, and the
installed ``tfmodels`` command works there, away from this checkout.

Nothing is downloaded for the install: the scratch environment sees the packages this
environment already has (its dependencies) through a ``.pth`` file pointing at a folder
of links to them, which leaves out tfmodels and tfmodels-edge themselves (installed
here in editable mode), so pip must resolve both, and the ``app`` extra's Streamlit,
from the wheels and what is installed.
"""
import os
import subprocess
import sys
import sysconfig
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
OURS = ("tfmodels", "tfmodels_edge", "tfmodels_app", "__editable__", "pip", "setuptools", "_distutils_hack",
        "distutils-precedence.pth")


def _run(*command, cwd, env=None, timeout=600) -> str:
    proc = subprocess.run([str(c) for c in command], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=timeout)
    assert proc.returncode == 0, f"{command}:\n{proc.stdout[-3000:]}\n{proc.stderr[-3000:]}"
    return proc.stdout


@pytest.fixture(scope="module")
def wheels(tmp_path_factory) -> Path:
    dist = tmp_path_factory.mktemp("dist")
    _run(sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", dist, ROOT, ROOT / "export", cwd=dist)
    return dist


def test_the_wheels_hold_the_packages_the_app_and_the_license(wheels):
    [core] = wheels.glob("tfmodels-*.whl")
    [edge] = wheels.glob("tfmodels_edge-*.whl")
    names = zipfile.ZipFile(core).namelist()
    assert "tfmodels/__init__.py" in names and "tfmodels/models/gnn/gcn.py" in names
    assert "tfmodels_app/app.py" in names and "tfmodels_app/views/digits.py" in names
    assert not [n for n in names if n.startswith(("tests/", "benchmarks/", "saved_models/"))]
    assert any(n.endswith("licenses/LICENSE") for n in names)
    metadata = zipfile.ZipFile(core).read(next(n for n in names if n.endswith("METADATA"))).decode()
    assert "Requires-Dist: tfmodels-edge[litert]<0.2,>=0.1" in metadata
    assert "Provides-Extra: app" in metadata and "License-Expression: Apache-2.0" in metadata
    assert "tfmodels_edge/__init__.py" in zipfile.ZipFile(edge).namelist()


def test_pip_installs_tfmodels_with_the_app_from_the_wheels_and_the_command_runs(wheels, tmp_path):
    scratch = tmp_path / "venv"
    _run(sys.executable, "-m", "venv", scratch, cwd=tmp_path)
    python = scratch / "bin" / "python"
    # this environment's dependencies, without our own packages, visible to the scratch one
    deps = tmp_path / "deps"
    deps.mkdir()
    here = Path(sysconfig.get_paths()["purelib"])
    for entry in here.iterdir():
        if not entry.name.startswith(OURS):
            (deps / entry.name).symlink_to(entry)
    site = Path(_run(python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])", cwd=tmp_path).strip())
    (site / "dependencies.pth").write_text(f"{deps}\n")
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "VIRTUAL_ENV")}
    env["PIP_NO_INDEX"] = "1"  # from the wheels and what is installed, nothing downloaded
    log = _run(python, "-m", "pip", "install", "--find-links", wheels, "tfmodels[app]", cwd=tmp_path, env=env)
    assert "Successfully installed tfmodels-" in log and "tfmodels-edge-" in log

    where = _run(python, "-c", "import tfmodels, tfmodels_edge, tfmodels_app, streamlit; "
                 "print(tfmodels.__file__, tfmodels_edge.__file__, list(tfmodels_app.__path__)[0] + '/app.py')", cwd=tmp_path, env=env)
    assert all(path.startswith(str(site)) for path in where.split()), where  # not this checkout's
    command = scratch / "bin" / "tfmodels"
    assert _run(command, "--version", cwd=tmp_path, env=env).strip() == "tfmodels 0.1.0"
    listing = _run(command, "list", cwd=tmp_path, env=env)
    assert "seed_cnn" in listing and "gcn" in listing and "gpt" in listing
    assert "start the Streamlit app" in _run(command, "--help", cwd=tmp_path, env=env)
    assert "--zoo" in _run(command, "app", "--help", cwd=tmp_path, env=env)
