"""Deprecated names that still work for one release, each with a ``DeprecationWarning`` that names its replacement.

* :func:`renamed_keyword`: a function's keyword argument renamed (positional calls are unaffected);
* :func:`deprecated_function`: a function or method kept under an old name that calls the new one;
* :func:`module_getattr`: a module-level ``__getattr__`` for old module attributes (classes and other objects),
  which warns on access and keeps the old names out of ``__all__``.
"""

from __future__ import annotations

import functools
import warnings
from collections.abc import Callable
from typing import Any


def warn_deprecated(old: str, new: str, stacklevel: int = 3) -> None:
    """Warn that ``old`` is deprecated in favour of ``new``."""
    warnings.warn(f"{old} is deprecated; use {new} instead", DeprecationWarning, stacklevel=stacklevel)


def renamed_keyword(**renames: str) -> Callable[[Callable], Callable]:
    """Decorator: accept each old keyword (``old="new"``) as the new one, with a DeprecationWarning. Passing both
    raises TypeError, as a repeated argument would."""

    def decorate(func: Callable) -> Callable:
        name = f"{func.__module__}.{func.__qualname__}()"

        @functools.wraps(func)
        def wrapper(*args, **kwargs):
            for old, new in renames.items():
                if old in kwargs:
                    if new in kwargs:
                        raise TypeError(f"{name} got both {old!r} (deprecated) and {new!r}")
                    warn_deprecated(f"the keyword {old!r} of {name}", repr(new))
                    kwargs[new] = kwargs.pop(old)
            return func(*args, **kwargs)

        return wrapper

    return decorate


def deprecated_function(new: Callable, old_name: str, new_name: str | None = None) -> Callable:
    """A function (or method, when assigned in a class body) named ``old_name`` that warns and calls ``new``."""

    @functools.wraps(new)
    def wrapper(*args, **kwargs):
        warn_deprecated(old_name, new_name or new.__qualname__)
        return new(*args, **kwargs)

    wrapper.__name__ = old_name.rsplit(".", 1)[-1]
    wrapper.__qualname__ = old_name
    wrapper.__doc__ = f"Deprecated alias of :func:`{new_name or new.__qualname__}`."
    return wrapper


def module_getattr(module_name: str, aliases: dict[str, tuple[str, Callable[[], Any]]]) -> Callable[[str], Any]:
    """A module ``__getattr__`` serving ``aliases`` (``{old name: (new name, a function returning the object)}``):
    each access warns with the new name; any other name raises AttributeError as usual."""

    def __getattr__(name: str) -> Any:
        if name in aliases:
            new_name, get = aliases[name]
            warn_deprecated(f"{module_name}.{name}", new_name)
            return get()
        raise AttributeError(f"module {module_name!r} has no attribute {name!r}")

    return __getattr__
