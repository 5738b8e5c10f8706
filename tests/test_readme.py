"""`.ci/run` runs the README's two commands verbatim."""

from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_ci_runs_the_readme_commands() -> None:
    readme = ROOT / "README.md"
    ci = [ln for ln in (ROOT / ".ci" / "run").read_text().splitlines()
          if ln.strip() and not ln.startswith(("#", "set ", "cd "))]
    assert ci == ['pip install torch==2.13.0 -e ".[all]"', "python -m pytest --durations=20"]
    blocks = readme.read_text().split("```")
    code = {b.strip() for b in blocks[1::2]}
    for line in ci:
        assert line in code, f"README has no code block that is exactly {line!r}"
