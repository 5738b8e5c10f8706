"""A non-editable install finds the shipped datasets: build the wheel, install it in a fresh venv."""

from __future__ import annotations

import json
import os
import site
import subprocess
import sys
import venv
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


@pytest.mark.slow
def test_wheel_install_solves_a_dataset_name(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist),
                    str(ROOT)], check=True, timeout=600, capture_output=True)
    wheel = next(dist.glob("vrp_toolkit-*.whl"))
    env_dir = tmp_path / "venv"
    venv.create(env_dir, with_pip=True)
    py = env_dir / "bin" / "python"
    purelib = subprocess.run([str(py), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             capture_output=True, text=True, check=True).stdout.strip()
    # Dependencies come from this interpreter's site-packages as plain path entries, so that its
    # editable install of vrp-toolkit (a .pth hook) is NOT active in the new environment.
    (Path(purelib) / "_deps.pth").write_text("\n".join(site.getsitepackages()) + "\n")
    subprocess.run([str(py), "-m", "pip", "install", "--no-deps", "-q", str(wheel)], check=True, timeout=600,
                   capture_output=True)
    work = tmp_path / "elsewhere"
    work.mkdir()
    env = {k: v for k, v in os.environ.items() if k not in ("VRP_DATA", "PYTHONPATH")}
    where = subprocess.run([str(py), "-c", "import vrp; print(vrp.__file__)"], capture_output=True, text=True,
                           cwd=work, env=env, check=True).stdout.strip()
    assert where.startswith(str(env_dir)), where
    r = subprocess.run([str(env_dir / "bin" / "vrp"), "solve", "berlin52", "--solver", "nearest", "--json"],
                       capture_output=True, text=True, cwd=work, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    obj = json.loads(r.stdout)
    assert obj["instance"] == "berlin52" and obj["bks"] == 7542 and obj["feasible"]
    # The shipped checkpoints and reference costs travel with the wheel too.
    r = subprocess.run([str(py), "-c", "from solvers.neural import checkpoint_dir; from envs.train import "
                        "reference_path; print(checkpoint_dir()); print(reference_path('tsp', 20, 'test'))"],
                       capture_output=True, text=True, cwd=work, env=env, timeout=120, check=True)
    ckpt_dir, ref = (Path(x) for x in r.stdout.split())
    assert ckpt_dir.is_relative_to(env_dir) and (ckpt_dir / "am-tsp20.pt").is_file(), ckpt_dir
    assert ref.is_relative_to(env_dir) and ref.is_file(), ref
    r = subprocess.run([str(env_dir / "bin" / "vrp"), "solve", "burma14", "--solver", "am:tsp20", "--json"],
                       capture_output=True, text=True, cwd=work, env=env, timeout=300)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout)["feasible"]


def test_the_explicit_package_list_names_every_package() -> None:
    import tomllib

    listed = set(tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["packages"])
    found = {".".join(p.parent.relative_to(ROOT).parts) for top in ("vrp", "solvers", "envs")
             for p in (ROOT / top).rglob("__init__.py")}
    assert listed == found
