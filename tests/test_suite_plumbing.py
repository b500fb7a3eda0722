"""The suite's own plumbing: the modules on the session's ``make run`` stack are the ones listed for the
scheduler that keeps them on one worker (tests/running_stack.py)."""

from __future__ import annotations

import re

from tests import running_stack


def test_every_module_on_the_make_run_stack_is_listed_and_every_listed_one_uses_it():
    def uses(text: str) -> bool:  # the fixture, or the browser tests' ``local`` built on it
        return bool(re.search(r"\(make_run\)|from tests\.web\.test_citizen_pages import .*\blocal\b|running_stack\.start", text))

    users = sorted(str(p.relative_to(running_stack.REPO)) for p in (running_stack.REPO / "tests").rglob("test_*.py")
                   if p.name != "test_suite_plumbing.py" and uses(p.read_text()))
    assert users == sorted(running_stack.MODULES)


def test_the_listed_modules_are_one_scope_for_the_scheduler():
    assert {running_stack.scope(m) for m in running_stack.MODULES} == {"make-run"}
    assert running_stack.scope("tests/test_plates.py") == "tests/test_plates.py"


def test_the_modules_that_read_templates_are_handed_out_after_the_others():
    """Every module using the synthesis (its fixtures) ranks after the others, so no worker idles waiting for
    it; among them the longest, test_assets, first."""
    readers = sorted(str(p.relative_to(running_stack.REPO)) for p in (running_stack.REPO / "tests" / "infra").glob("test_*.py")
                     if re.search(r"\b(synth_dir|raw_templates|templates|cfn_lint)\b", p.read_text()))
    assert readers and all(running_stack.rank(m) >= 2 for m in readers)
    assert running_stack.rank("tests/infra/test_assets.py") < running_stack.rank("tests/infra/test_template_iam.py")
    assert running_stack.rank("make-run") == 0 and running_stack.rank("tests/test_plates.py") == 1


def test_the_second_worker_writes_the_rewrites_from_the_last_module_back_to_one_found_cached(request, tmp_path, monkeypatch):
    """tests/rewrite_ahead.py: the cache files are pytest's own (read back by its import hook), the last module
    first, and a module found cached (the other worker's, an earlier run's) ends the walk."""
    from _pytest.assertion.rewrite import PYC_TAIL, _read_pyc

    from tests import rewrite_ahead

    monkeypatch.setattr("sys.dont_write_bytecode", False)
    (tmp_path / "b").mkdir()
    for name in ("test_a.py", "conftest.py", "b/test_c.py", "b/helper.py", "test_d.py"):
        (tmp_path / name).write_text("def test_x():\n    assert 1 + 1 == 2\n")
    order = rewrite_ahead._in_collection_order(tmp_path)
    assert [p.relative_to(tmp_path).as_posix() for p in order] == ["b/test_c.py", "conftest.py", "test_a.py", "test_d.py"]

    assert rewrite_ahead.modules_of([str(tmp_path)], tmp_path) == order
    assert rewrite_ahead.modules_of(["b", "test_d.py::test_x", "test_a.py"], tmp_path) == [order[0], order[3], order[2]]
    assert rewrite_ahead.rewrite_from_the_end(request.config, order) == 4
    for fn in order:
        assert _read_pyc(fn, fn.parent / "__pycache__" / (fn.name[:-3] + PYC_TAIL), lambda *a: None) is not None
    assert rewrite_ahead.rewrite_from_the_end(request.config, order) == 0  # the last one is cached: done

    (tmp_path / "conftest.py").unlink()
    (tmp_path / "test_d.py").write_text("def test_x():\n    assert 3 == 3\n")  # changed: its cache is stale
    order.remove(tmp_path / "conftest.py")
    assert rewrite_ahead.rewrite_from_the_end(request.config, order) == 1  # then test_a.py is found cached

    monkeypatch.setattr("sys.dont_write_bytecode", True)
    (tmp_path / "test_d.py").write_text("def test_x():\n    assert 4 == 4\n")
    assert rewrite_ahead.rewrite_from_the_end(request.config, order) == 0

    (tmp_path / "test_e.py").write_text("def test_x(:\n")  # broken: left to collection, which reports it
    monkeypatch.setattr("sys.dont_write_bytecode", False)
    assert rewrite_ahead.rewrite_from_the_end(request.config, [*order, tmp_path / "test_e.py"]) == 0
