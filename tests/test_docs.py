"""The Python examples in the README and docs run as written (from the repository root)."""

from __future__ import annotations

import os
import re

import pytest

from conftest import ROOT

DOCS = ["README.md", "docs/synthetic-world.md"]


def _blocks(path):
    text = (ROOT / path).read_text()
    return re.findall(r"```python\n(.*?)```", text, flags=re.S)


@pytest.mark.parametrize("path", DOCS)
def test_python_examples_run(path, bundled_part, monkeypatch):
    blocks = _blocks(path)
    assert blocks, f"{path} has no python example"
    monkeypatch.chdir(ROOT)
    for block in blocks:
        namespace: dict = {}
        exec(compile(block, f"{path}:example", "exec"), namespace)  # noqa: S102 - our own docs
