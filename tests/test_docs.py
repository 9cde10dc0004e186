"""The Python examples in the README and docs run as written (from the repository root).

Blocks of one page share a namespace, as a reader's session would. Examples are scaled down
to run here: the demo store (``out/demo/store``, made by ./demo.sh) and the tutorial's
``s3://bucket/store`` become a store converted from sample_data/, workers run in-process, and
the streaming example runs one short epoch."""

from __future__ import annotations

import re

import pytest

from conftest import ROOT

DOCS = ["README.md", "docs/synthetic-world.md", "docs/tutorial-training.md", "docs/store.md"]


def _blocks(path):
    text = (ROOT / path).read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.fixture(scope="module")
def demo_store(bundled_part, tmp_path_factory):
    from wildworld.store.convert import convert
    from wildworld.store.extract import ConvertOptions

    target = tmp_path_factory.mktemp("docs") / "store"
    convert([bundled_part], target, ConvertOptions(), workers=2)
    return target


@pytest.mark.parametrize("path", DOCS)
def test_python_examples_run(path, demo_store, monkeypatch):
    blocks = _blocks(path)
    assert blocks, f"{path} has no python example"
    monkeypatch.chdir(ROOT)
    namespace: dict = {"__name__": "__docs__"}
    substitutions = {
        "out/demo/store": str(demo_store),
        "s3://bucket/store": str(demo_store),
        "num_workers=2": "num_workers=0",
        "num_workers=4": "num_workers=0",
        "epoch_length=200_000": "epoch_length=32",
        "range(10)": "range(1)",
    }
    for number, block in enumerate(blocks):
        code = block
        for old, new in substitutions.items():
            code = code.replace(old, new)
        exec(compile(code, f"{path}:example{number}", "exec"), namespace)  # noqa: S102 - our own docs
