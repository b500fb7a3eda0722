"""The three assertions of ``aws_cdk.assertions.Template`` the template tests use, in plain Python.

Same matching rules as CDK's (``Match.object_like``, ``Match.array_with``, ``Match.absent``, a literal
pattern's nested objects partial inside an ``object_like``, arrays exact unless ``array_with``), without
starting jsii in the test worker: ``Template.from_json`` over the four templates cost ~15 s of a worker.
The synthesis itself still runs aws-cdk-lib (``tests/infra/synth_all.py``); ``test_template_match.py``
checks these rules, failures included.
"""

from __future__ import annotations

from dataclasses import dataclass


class Matcher:
    def errors(self, actual, path: str) -> list[str]:  # pragma: no cover - every matcher overrides it
        raise NotImplementedError


@dataclass
class _Absent(Matcher):
    def errors(self, actual, path: str) -> list[str]:
        return [f"{path}: expected absent, found {actual!r}"]


@dataclass
class _Object(Matcher):
    pattern: dict
    partial: bool

    def errors(self, actual, path: str) -> list[str]:
        if not isinstance(actual, dict):
            return [f"{path}: expected an object, found {actual!r}"]
        out = [] if self.partial else [f"{path}.{k}: unexpected key" for k in actual if k not in self.pattern]
        for key, want in self.pattern.items():
            if key not in actual:
                if not isinstance(want, _Absent):
                    out.append(f"{path}.{key}: missing")
                continue
            out += _literal(want, self.partial).errors(actual[key], f"{path}.{key}")
        return out


@dataclass
class _Array(Matcher):
    pattern: list
    subsequence: bool
    partial: bool

    def errors(self, actual, path: str) -> list[str]:
        if not isinstance(actual, list):
            return [f"{path}: expected an array, found {actual!r}"]
        matchers = [_literal(p, self.partial) for p in self.pattern]
        if not self.subsequence:
            if len(actual) != len(matchers):
                return [f"{path}: expected {len(matchers)} elements, found {len(actual)}"]
            return [e for i, (m, a) in enumerate(zip(matchers, actual)) for e in m.errors(a, f"{path}[{i}]")]
        at = 0
        for m in matchers:  # each pattern element matches a later element than the one before it
            while at < len(actual) and m.errors(actual[at], path):
                at += 1
            if at == len(actual):
                return [f"{path}: no element in order matches {m!r}"]
            at += 1
        return []


@dataclass
class _Exact(Matcher):
    value: object

    def errors(self, actual, path: str) -> list[str]:
        same = type(actual) is type(self.value) and actual == self.value
        return [] if same else [f"{path}: expected {self.value!r}, found {actual!r}"]


def _literal(pattern, partial: bool) -> Matcher:
    if isinstance(pattern, Matcher):
        return pattern
    if isinstance(pattern, dict):
        return _Object(pattern, partial)
    if isinstance(pattern, list):
        return _Array(pattern, subsequence=False, partial=partial)
    return _Exact(pattern)


class Match:
    @staticmethod
    def object_like(pattern: dict) -> Matcher:
        return _Object(pattern, partial=True)

    @staticmethod
    def array_with(pattern: list) -> Matcher:
        return _Array(pattern, subsequence=True, partial=False)

    @staticmethod
    def absent() -> Matcher:
        return _Absent()


class Template:
    def __init__(self, body: dict) -> None:
        self.body = body

    @classmethod
    def from_json(cls, body: dict) -> "Template":
        return cls(body)

    def _of_type(self, kind: str) -> dict[str, dict]:
        return {k: r for k, r in self.body.get("Resources", {}).items() if r.get("Type") == kind}

    def resource_count_is(self, kind: str, count: int) -> None:
        found = len(self._of_type(kind))
        assert found == count, f"expected {count} resources of type {kind}, found {found}"

    def has_resource(self, kind: str, props) -> None:
        matcher = props if isinstance(props, Matcher) else Match.object_like(props)
        candidates = self._of_type(kind)
        failures = {k: matcher.errors(r, k) for k, r in candidates.items()}
        if not any(not errs for errs in failures.values()):
            closest = min(failures.items(), key=lambda kv: len(kv[1]), default=(None, ["no resource of that type"]))
            raise AssertionError(f"no {kind} matches; closest {closest[0]}: " + "; ".join(closest[1][:5]))

    def has_resource_properties(self, kind: str, props) -> None:
        self.has_resource(kind, {"Properties": props if isinstance(props, Matcher) else Match.object_like(props)})
