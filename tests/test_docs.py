"""The Python examples in the README and docs run as written (from the repository root).

Blocks of one page share a namespace, as a reader's session would. Examples are scaled down
to run here: the demo store (``out/demo/store``, made by ./demo.sh) and the tutorial's
``s3://bucket/store`` become a store converted from sample_data/, workers run in-process, and
the streaming example runs one short epoch. The benchmark the demo writes (``out/demo/bench``)
becomes a small one made here from the same store.

The docstring examples (``>>>``) of the modules in ``DOCTEST_MODULES`` run as doctests against
the same data, and every public function or class of the model-author and viewer modules must
have one. The example script ``examples/camera_following.py`` runs from inputs to a
leaderboard row, and the generated inputs reference of docs/quickstart-model-authors.md must be
up to date and name every key ``wildbench inputs`` writes."""

from __future__ import annotations

import doctest
import importlib
import importlib.util
import inspect
import json
import re
import sys

import pytest

from conftest import ROOT

DOCS = ["README.md", "docs/synthetic-world.md", "docs/tutorial-training.md", "docs/store.md", "docs/quickstart-model-authors.md"]
#: Modules whose docstring examples run; those in REQUIRE_EXAMPLES must have one per public name.
DOCTEST_MODULES = ["wildbench.authoring", "wildbench.submission", "wildworld.viewer", "wildworld.render", "examples/camera_following.py"]
REQUIRE_EXAMPLES = ["wildbench.authoring", "wildworld.viewer"]


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


@pytest.fixture(scope="module")
def demo_bench(demo_store):
    """What ./demo.sh writes under out/demo/bench, scaled down: split, inputs, the frozen reference and its results."""
    import wildbench

    root = demo_store.parent / "bench"
    split = wildbench.make_split(demo_store, root / "split", wildbench.SplitRules(cases=6, horizon=81, seed=0))
    wildbench.write_inputs(split, root / "inputs")
    wildbench.make_baseline("frozen", split, root / "subs" / "frozen")
    wildbench.evaluate(root / "subs" / "frozen", root / "split", root / "results" / "frozen.json")
    return root


def _substitutions(demo_store, demo_bench) -> dict[str, str]:
    return {"out/demo/bench": str(demo_bench), "out/demo/store": str(demo_store), "out/view": str(demo_bench / "view")}


@pytest.mark.parametrize("path", DOCS)
def test_python_examples_run(path, demo_store, demo_bench, monkeypatch):
    blocks = _blocks(path)
    assert blocks, f"{path} has no python example"
    monkeypatch.chdir(ROOT)
    namespace: dict = {"__name__": "__docs__"}
    substitutions = {
        **_substitutions(demo_store, demo_bench),
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


def _module(name: str):
    if name.endswith(".py"):
        spec = importlib.util.spec_from_file_location(name.rsplit("/", 1)[-1][:-3], ROOT / name)
        module = importlib.util.module_from_spec(spec)
        sys.modules[spec.name] = module
        spec.loader.exec_module(module)
        return module
    return importlib.import_module(name)


@pytest.mark.parametrize("name", DOCTEST_MODULES)
def test_docstring_examples_run(name, demo_store, demo_bench, monkeypatch):
    monkeypatch.chdir(ROOT)
    module = _module(name)
    tests = doctest.DocTestFinder().find(module, globs={**vars(module)})
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    ran = 0
    for test in tests:
        for example in test.examples:
            for old, new in _substitutions(demo_store, demo_bench).items():
                example.source = example.source.replace(old, new)
        if test.examples:
            runner.run(test)
            ran += len(test.examples)
    assert ran > 0, f"{name} has no docstring example"
    assert runner.failures == 0, f"{runner.failures} docstring examples of {name} failed (output above)"


@pytest.mark.parametrize("name", REQUIRE_EXAMPLES)
def test_every_public_function_and_class_has_a_docstring_example(name):
    module = importlib.import_module(name)
    lacking = [attr for attr in module.__all__
               if (inspect.isfunction(obj := getattr(module, attr)) or inspect.isclass(obj))
               and not (inspect.isclass(obj) and issubclass(obj, Exception))
               and ">>>" not in (obj.__doc__ or "")]
    assert not lacking, f"{name}: no docstring example for {lacking}"


def test_the_example_script_goes_from_inputs_to_a_leaderboard_row(demo_bench, capsys):
    example = _module("examples/camera_following.py")
    # the cheap families: the path from inputs to a row is the point (Camera Control's SfM has its own tests)
    assert example.main(["--bench", str(demo_bench), "--metrics", "video_quality,state_alignment,explicit_state"]) == 0
    board = capsys.readouterr().out
    assert re.search(r"\| camera-following \| 1\.0 \| first_frame, camera \| \d+\.\d", board), board
    assert "frozen (trivial baseline" in board  # next to the reference row
    results = json.loads((demo_bench / "results" / "camera_following.json").read_text())
    assert results["submission"]["model"] == "camera-following" and results["metrics"]["state_alignment"]["cases"] > 0


def test_the_model_stub_says_where_a_model_plugs_in_and_leaves_nothing_half_written(demo_bench, capsys):
    example = _module("examples/camera_following.py")
    with pytest.raises(NotImplementedError, match="call your model here"):
        example.run(example.YourWorldModel(), demo_bench / "inputs", demo_bench / "split", demo_bench / "stub", references=[])
    assert not (demo_bench / "stub").exists() or not any((demo_bench / "stub").iterdir())
    assert example.main(["--bench", str(demo_bench), "--model", "yours"]) == 2
    assert "YourWorldModel.generate" in capsys.readouterr().err
    assert not (demo_bench / "subs" / "your_model").exists()


def test_the_camera_homographies_move_far_points_where_the_camera_sees_them(demo_bench):
    import numpy as np

    import wildbench
    from wildworld import project_points

    example = _module("examples/camera_following.py")
    for case in wildbench.load_inputs(demo_bench / "inputs"):
        camera = case.camera
        homographies = example.rotation_homographies(camera)
        rotation, _ = camera.extrinsics()
        pixels = np.array([[40.0, 30.0, 1.0], [160.0, 90.0, 1.0], [300.0, 150.0, 1.0]])
        rays = pixels @ np.linalg.inv(np.array([[camera.K[0, 0], 0, camera.K[0, 2]], [0, camera.K[0, 1], camera.K[0, 3]], [0, 0, 1]])).T
        far = camera.position[0] + 1e8 * rays @ rotation[0]  # world points far along each pixel's ray
        truth = project_points(np.repeat(far[None], case.horizon, 0), camera.K, camera.position, camera.rotation).uv
        mapped = np.einsum("tij,pj->tpi", homographies, pixels)
        grazing = np.abs(mapped[..., 2]) < 1e-3  # rays at 90 degrees: the camera's translation decides
        in_front = mapped[..., 2] > 0
        mapped = mapped[..., :2] / mapped[..., 2:]
        seen = np.isfinite(truth).all(-1)
        assert (seen == in_front)[~grazing].all()
        np.testing.assert_allclose(mapped[seen & ~grazing], truth[seen & ~grazing], atol=0.1, rtol=1e-5)


def test_the_inputs_reference_is_generated_from_the_schemas_and_names_every_key_written(demo_bench):
    import wildbench
    from wildworld.schemas import load_state_schema

    generator = _module("scripts/gen_inputs_doc.py")
    assert generator.main(["--check"]) == 0, "run python scripts/gen_inputs_doc.py"
    page = (ROOT / "docs" / "quickstart-model-authors.md").read_text()
    inputs = wildbench.load_inputs(demo_bench / "inputs")  # cases.json is checked against the schema
    for case in inputs:  # every file is: the schema allows no key it does not describe
        case.first_frame, case.actions, case.captions, case.camera, case.skeletons, case.state
    keys = set()

    def collect(value):
        if isinstance(value, dict):
            for key, child in value.items():
                keys.add(key)
                collect(child)
        elif isinstance(value, list):
            for child in value:
                collect(child)

    case_dir = demo_bench / "inputs" / inputs.case_ids[0]
    for name in ("actions.json", "captions.json", "camera.json"):
        collect(json.loads((case_dir / name).read_text()))
    collect(json.loads((demo_bench / "inputs" / "cases.json").read_text())["cases"])
    keys |= set(json.loads((demo_bench / "inputs" / "cases.json").read_text()))
    missing = sorted(k for k in keys if f"`{k}`" not in page and f".{k}`" not in page and f"]{k}`" not in page)
    assert not missing, f"keys written by wildbench inputs but not in the quickstart: {missing}"
    for slot, skeleton in json.loads((case_dir / "skeleton_first.json").read_text()).items():
        assert re.fullmatch(r"[nwm][0-9]+", slot) and set(skeleton) == {"type_id", "joints"}
    state = load_state_schema()
    for column in json.loads((case_dir / "state_first.json").read_text()):
        spec = state.column_spec(column)
        assert spec is not None and f"{spec.name}`" in page, column
