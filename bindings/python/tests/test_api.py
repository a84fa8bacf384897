# SPDX-License-Identifier: MIT
"""The public API's surface: every public name documented and annotated,
the package marked as typed (PEP 561), and what it exports."""

import inspect
import os

import pytest

import vpwr
import vpwr.decide
import vpwr.experiment

MODULES = (vpwr, vpwr.experiment, vpwr.decide)


def public_members():
    for mod in MODULES:
        for name in mod.__all__:
            obj = getattr(mod, name)
            if inspect.isclass(obj):
                yield f"{mod.__name__}.{name}", obj
                for attr, value in vars(obj).items():
                    if attr.startswith("_"):
                        continue
                    if isinstance(value, (staticmethod, classmethod)):
                        value = value.__func__
                    if isinstance(value, property) or \
                            inspect.isfunction(value):
                        yield f"{mod.__name__}.{name}.{attr}", value
            elif inspect.isfunction(obj):
                yield f"{mod.__name__}.{name}", obj


MEMBERS = dict(public_members())


@pytest.mark.parametrize("name", sorted(MEMBERS))
def test_documented(name):
    assert (MEMBERS[name].__doc__ or "").strip(), f"{name} has no docstring"


@pytest.mark.parametrize("name", sorted(n for n, o in MEMBERS.items()
                                        if not inspect.isclass(o)))
def test_annotated(name):
    obj = MEMBERS[name]
    fn = obj.fget if isinstance(obj, property) else obj
    sig = inspect.signature(fn)
    assert sig.return_annotation is not inspect.Signature.empty, \
        f"{name} has no return annotation"


def test_typed_marker():
    assert os.path.exists(os.path.join(os.path.dirname(vpwr.__file__),
                                       "py.typed"))


def test_exports():
    for name in vpwr.__all__:
        assert hasattr(vpwr, name), name
    assert issubclass(vpwr.Error, OSError)
    assert issubclass(vpwr.DecodeError, vpwr.Error)
    for cls in (vpwr.Guest, vpwr.Host, vpwr.Backend, vpwr.SimBackend,
                vpwr.Resolver, vpwr.StaticResolver, vpwr.Meter):
        assert hasattr(cls, "__enter__") and hasattr(cls, "__exit__")
