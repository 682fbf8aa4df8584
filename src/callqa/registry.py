"""Versioned plug-in names: ``phrase.v1``, ``card.v1``, ...

A :class:`Registry` maps names of the form ``family.vN`` to plug-ins (rule
kinds, sensitive-data detectors). Its contract:

- a name is registered once; registering it again is an error (a changed
  behaviour gets a new version, ``phrase.v2``, and ``phrase.v1`` keeps its
  meaning forever, so stored results stay comparable);
- asking for an unknown name raises :class:`~callqa.errors.ConfigError` that
  lists the known names (and the closest one, for typos);
- iteration is in name order, so listings are stable.

Example::

    RULE_KINDS: Registry[type[RuleKind]] = Registry("rule kind")

    @RULE_KINDS.register("phrase.v1")
    class RequiredPhrase: ...

    RULE_KINDS.get("phrase.v1")   # -> RequiredPhrase
    RULE_KINDS.get("phrase")      # ConfigError: unknown rule kind 'phrase' (did you mean 'phrase.v1'?); known: ...
"""

from __future__ import annotations

import difflib
import re
from typing import Callable, Generic, Iterator, TypeVar

from callqa.errors import ConfigError

T = TypeVar("T")

#: ``family.vN``: lower-case family (letters, digits, ``_``, dots between parts), then ``.v`` and a number.
NAME_RE = re.compile(r"^[a-z][a-z0-9_]*(?:\.[a-z][a-z0-9_]*)*\.v[1-9][0-9]*$")


def unknown_name(what: str, name: str, known: list[str]) -> ConfigError:
    """The error for an unknown plug-in name: lists the known ones and the closest match."""
    close = difflib.get_close_matches(name, known, n=1, cutoff=0.6)
    hint = f" (did you mean {close[0]!r}?)" if close else ""
    return ConfigError(f"unknown {what} {name!r}{hint}; known: {', '.join(known) or '(none)'}")


class Registry(Generic[T]):
    """Name -> plug-in, for one kind of plug-in (``what`` names it in errors)."""

    def __init__(self, what: str):
        self.what = what
        self._items: dict[str, T] = {}

    def register(self, name: str) -> Callable[[T], T]:
        """Decorator: register the decorated object under ``name`` (``family.vN``)."""
        if not NAME_RE.match(name):
            raise ValueError(f"{self.what} name {name!r} must look like 'family.v1' (lower case, versioned)")
        if name in self._items:
            raise ValueError(
                f"{self.what} {name!r} is already registered; a changed behaviour needs a new version "
                f"(e.g. {_next_version(name)!r})")

        def decorator(obj: T) -> T:
            if name in self._items:  # registered between decorator creation and application
                raise ValueError(f"{self.what} {name!r} is already registered")
            self._items[name] = obj
            return obj

        return decorator

    def add(self, name: str, obj: T) -> T:
        """Register ``obj`` without the decorator syntax."""
        return self.register(name)(obj)

    def get(self, name: str) -> T:
        try:
            return self._items[name]
        except KeyError:
            raise unknown_name(self.what, str(name), self.names()) from None

    def names(self) -> list[str]:
        return sorted(self._items)

    def latest(self, family: str) -> str:
        """The highest registered version of ``family`` (``"phrase"`` -> ``"phrase.v2"``)."""
        versions = [(int(n.rsplit(".v", 1)[1]), n) for n in self._items if n.rsplit(".v", 1)[0] == family]
        if not versions:
            raise unknown_name(self.what, family, self.names())
        return max(versions)[1]

    def __contains__(self, name: object) -> bool:
        return name in self._items

    def __iter__(self) -> Iterator[str]:
        return iter(self.names())

    def __len__(self) -> int:
        return len(self._items)

    def items(self) -> list[tuple[str, T]]:
        return [(n, self._items[n]) for n in self.names()]

    def __repr__(self) -> str:
        return f"Registry({self.what!r}, {self.names()})"


def _next_version(name: str) -> str:
    family, _, version = name.rpartition(".v")
    return f"{family}.v{int(version) + 1}" if version.isdigit() else name


__all__ = ["NAME_RE", "Registry", "unknown_name"]
