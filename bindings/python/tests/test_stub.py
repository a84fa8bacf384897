# SPDX-License-Identifier: MIT
"""vpwr/_vpwr.pyi, the type stub of the SWIG module, matches the module:
every name it declares exists there (with the same parameters, for
functions), and every public function, class and constant of the module
is declared, so the stub cannot rot."""

import ast
import inspect
import os

import pytest

import vpwr
from vpwr import _vpwr

STUB = os.path.join(os.path.dirname(vpwr.__file__), "_vpwr.pyi")


def stub_names():
    with open(STUB, encoding="utf-8") as f:
        tree = ast.parse(f.read(), STUB)
    funcs, classes, consts = {}, {}, set()
    for node in tree.body:
        if isinstance(node, ast.FunctionDef):
            funcs[node.name] = [a.arg for a in node.args.args]
        elif isinstance(node, ast.ClassDef):
            classes[node.name] = {n.target.id for n in node.body
                                  if isinstance(n, ast.AnnAssign)}
        elif isinstance(node, ast.AnnAssign):
            consts.add(node.target.id)
        elif isinstance(node, ast.Assign):
            consts.update(t.id for t in node.targets)
    public = lambda names: {n for n in names if not n.startswith("_")}
    return ({n: a for n, a in funcs.items() if not n.startswith("_")},
            {n: a for n, a in classes.items() if not n.startswith("_")},
            public(consts))


def module_names():
    funcs, classes, consts = {}, set(), set()
    for name, value in vars(_vpwr).items():
        if name.startswith("_") or not name.startswith(("vpwr_", "VPWR_")):
            continue
        if isinstance(value, type):
            classes.add(name)
        elif callable(value):
            funcs[name] = value
        else:
            consts.add(name)
    return funcs, classes, consts


def test_the_stub_is_installed_with_the_package():
    assert os.path.isfile(STUB)
    assert os.path.isfile(os.path.join(os.path.dirname(STUB), "py.typed"))


def test_every_declared_name_exists():
    funcs, classes, consts = stub_names()
    for name in list(funcs) + list(classes) + sorted(consts):
        assert hasattr(_vpwr, name), f"_vpwr.pyi declares {name}, which " \
            "vpwr._vpwr does not have"


def test_every_public_name_is_declared():
    funcs, classes, consts = stub_names()
    mfuncs, mclasses, mconsts = module_names()
    assert sorted(set(mfuncs) - set(funcs)) == []
    assert sorted(mclasses - set(classes)) == []
    assert sorted(mconsts - consts) == []


def test_parameters_match():
    funcs, _, _ = stub_names()
    mfuncs, _, _ = module_names()
    wrong = {}
    for name, params in funcs.items():
        got = list(inspect.signature(mfuncs[name]).parameters)
        if got != params:
            wrong[name] = (params, got)
    assert wrong == {}


def test_struct_fields_match():
    _, classes, _ = stub_names()
    for name, fields in classes.items():
        obj = getattr(_vpwr, name)()
        have = {a for a in dir(type(obj)) if not a.startswith("_")
                and isinstance(getattr(type(obj), a), property)}
        have.discard("thisown")
        assert fields == have, name


@pytest.mark.parametrize("name", ["vpwr_py_host_new", "vpwr_py_channel_read",
                                  "vpwr_py_resolver_interfaces",
                                  "vpwr_resolver_domain_running",
                                  "vpwr_backend_policy_cpus",
                                  "vpwr_host_detach",
                                  "vpwr_py_resolver_channels",
                                  "vpwr_host_evaluate"])
def test_the_layer_uses_declared_names(name):
    """Spot check: names the pythonic layer calls are in the stub."""
    assert name in stub_names()[0]
