"""The parameter contract shared by steps and backends (DESIGN §3, the scikit-learn rule).

Parameters are exactly the explicit keyword arguments of ``__init__``, each stored unchanged on
an attribute of the same name. Values must be JSON-able so they survive the run spec round trip.
"""

from __future__ import annotations

import abc
import copy
import difflib
import inspect
import sys
import typing
import weakref
from collections.abc import Iterable
from pathlib import Path
from typing import Any, Self

from zenml.exceptions import QUOTE_LIMIT, ConfigError, excerpt
from zenml.utils.hashing import canonical_json
from zenml.utils.importing import import_object, qualified_name
from zenml.utils.jsonable import find_non_jsonable
from zenml.utils.legacy import parameter_replacement, replacement_hint
from zenml.utils.text import with_article
from zenml.utils.typecheck import describe, matches


class ParamSpec(typing.NamedTuple):
    """One declared parameter: its name, annotation and default (``inspect.Parameter.empty``)."""

    name: str
    annotation: Any
    default: Any


def suggest(name: str, known: typing.Iterable[str]) -> str:
    """Return ``"; did you mean 'x'?"`` for the closest known name, or ``""``."""
    if len(name) > QUOTE_LIMIT:  # no name is that long; comparing with one would only cost time
        return ""
    close = difflib.get_close_matches(name, list(known), n=1)
    return f"; did you mean '{close[0]}'?" if close else ""


def unknown_name(owner: str, name: str, known: Iterable[str], legacy: str | None, what: str = "parameter") -> str:
    """``X has no parameter 'n'; did you mean 'm'? (parameters: a, b)``, with legacy ZenML's spelling explained.

    ``legacy`` is what legacy ZenML's keyword ``name`` became here (``None``: it had none).
    """
    names = list(known)
    hint = replacement_hint(name, legacy, names) or suggest(name, names)
    return f"{owner} has no {what} {excerpt(name)}{hint} ({what}s: {', '.join(names) or 'none'})"


def call_problem(
    cls: type, args: tuple[Any, ...], kwargs: dict[str, Any], legacy: typing.Callable[[str], str | None]
) -> str | None:
    """Why ``cls(*args, **kwargs)`` does not fit ``cls.__init__``, in words; ``None`` when it does."""
    init = cls.__init__  # type: ignore[misc]
    signature = inspect.signature(init if init is not object.__init__ else lambda self: None)
    try:
        signature.bind(None, *args, **kwargs)
    except TypeError as exc:
        variadic = (inspect.Parameter.VAR_POSITIONAL, inspect.Parameter.VAR_KEYWORD)
        names = [p.name for p in list(signature.parameters.values())[1:] if p.kind not in variadic]
        unknown = [key for key in kwargs if key not in names]
        if unknown:
            return unknown_name(cls.__name__, unknown[0], names, legacy(unknown[0]))
        return f"{cls.__name__}(...): {exc} (parameters: {', '.join(names) or 'none'})"
    return None


_PACKAGE = str(Path(__file__).resolve().parents[1])


def caller_location(depth: int) -> str:
    """`` (at FILE, line N)`` for the code ``depth`` frames above the caller, when it is the user's (not zenml's).

    Only ever called while raising, so the frame lookup costs nothing on the normal path.
    """
    frame = sys._getframe(depth + 1)
    filename = frame.f_code.co_filename
    if filename.startswith(_PACKAGE) or filename.startswith("<"):
        return ""
    path = Path(filename)
    shown = path.relative_to(Path.cwd()) if path.is_absolute() and path.is_relative_to(Path.cwd()) else path
    return f" (at {shown}, line {frame.f_lineno})"


class CheckedInit(abc.ABCMeta):
    """Metaclass whose constructor calls answer wrong arguments with a ``ConfigError`` naming the valid ones.

    Python's own ``TypeError`` (``__init__() got an unexpected keyword argument 'split_map'``) names
    neither the valid parameters nor the likely one; this one does, with legacy ZenML's spellings.
    Arguments that fit leave the call untouched, and a ``TypeError`` from inside ``__init__`` passes.
    """

    def __call__(cls, *args: Any, **kwargs: Any) -> Any:
        """Construct as usual; wrong arguments raise ``ConfigError`` instead of ``TypeError``."""
        try:
            return super().__call__(*args, **kwargs)
        except TypeError as exc:
            legacy = getattr(cls, "_legacy_keyword", lambda name: None)
            problem = call_problem(cls, args, kwargs, legacy)
            if problem is None:
                raise
            raise ConfigError(problem + caller_location(1)) from exc


#: ``init_param_specs`` per class, with the ``__init__`` it was read from: a signature read costs
#: ~0.1 ms and a run reads each step's and backend's several times (compile, rebuild, validation)
_SPECS_OF: weakref.WeakKeyDictionary[type, tuple[Any, dict[str, ParamSpec]]] = weakref.WeakKeyDictionary()


def init_param_specs(cls: type) -> dict[str, ParamSpec]:
    """Read the parameter specs of ``cls`` from its ``__init__`` signature (a fresh dict each call).

    Raises:
        ConfigError: ``__init__`` takes ``*args``/``**kwargs`` or positional-only arguments.
    """
    init = cls.__init__  # type: ignore[misc]
    known = _SPECS_OF.get(cls)
    if known is not None and known[0] is init:  # the same ``__init__`` (not replaced since)
        return dict(known[1])
    specs, resolved = _read_init_param_specs(cls, init)
    if resolved:  # annotations that did not resolve yet may once their names exist: read them again then
        _SPECS_OF[cls] = (init, specs)
    return dict(specs)


def _read_init_param_specs(cls: type, init: Any) -> tuple[dict[str, ParamSpec], bool]:
    """The specs, and whether the annotations resolved (``get_type_hints`` did not fail)."""
    if init is object.__init__:
        return {}, True
    signature = inspect.signature(init)
    resolved = True
    try:
        hints = typing.get_type_hints(init)
    except Exception:  # noqa: BLE001 -- unresolvable annotations: fall back to the raw ones
        hints, resolved = {}, False
    specs: dict[str, ParamSpec] = {}
    for index, parameter in enumerate(signature.parameters.values()):
        if index == 0:
            continue  # self
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise ConfigError(
                f"{cls.__name__}.__init__ takes {'*' if parameter.kind is parameter.VAR_POSITIONAL else '**'}"
                f"{parameter.name}; parameters must be explicit "
                "keyword arguments so they can be recorded and validated"
            )
        if parameter.kind is parameter.POSITIONAL_ONLY:
            raise ConfigError(
                f"{cls.__name__}.__init__ has positional-only '{parameter.name}'; make it a normal keyword argument"
            )
        annotation = hints.get(parameter.name, parameter.annotation)
        specs[parameter.name] = ParamSpec(parameter.name, annotation, parameter.default)
    return specs, resolved


class Configurable(metaclass=CheckedInit):
    """Mixin giving a class the parameter contract: get/set/clone/to_config/from_config.

    Examples:
        >>> class Scale(Configurable):
        ...     def __init__(self, factor: float = 1.0):
        ...         self.factor = factor
        >>> Scale.from_config(Scale(factor=2.0).to_config()) == Scale(factor=2.0)
        True
    """

    #: what the error messages call instances ("step", "backend")
    _config_kind: typing.ClassVar[str] = "object"

    @classmethod
    def _legacy_keyword(cls, name: str) -> str | None:
        """What legacy ZenML's keyword ``name`` of this class (or a base) is called here, if it had one."""
        return parameter_replacement(cls.__mro__, name)

    def param_specs(self) -> dict[str, ParamSpec]:
        """Return the declared parameters (name → spec) of this object."""
        return init_param_specs(type(self))

    def config_type(self) -> str:
        """Return the dotted path that ``from_config`` imports to rebuild this object."""
        return qualified_name(type(self))

    def display_name(self) -> str:
        """Return the name used in messages about this object."""
        return type(self).__name__

    def get_params(self) -> dict[str, Any]:
        """Return a deep copy of the parameters, read from the attributes of the same names.

        Raises:
            ConfigError: ``__init__`` did not store a parameter on ``self``.
        """
        params: dict[str, Any] = {}
        for name in self.param_specs():
            if not hasattr(self, name):
                raise ConfigError(
                    f"{self.display_name()}.__init__ takes '{name}' but does not store it as "
                    f"self.{name}; assign every parameter unchanged (the scikit-learn rule)"
                )
            params[name] = copy.deepcopy(getattr(self, name))
        return params

    def set_params(self, **params: Any) -> Self:
        """Set parameters in place after validating names, types and JSON-ability; return self."""
        self.check_params(params)
        for name, value in params.items():
            setattr(self, name, copy.deepcopy(value))
        return self

    def check_params(self, params: dict[str, Any]) -> None:
        """Validate ``params`` against the declared parameters without applying them.

        Raises:
            ConfigError: an unknown name, a wrong type or a value that is not JSON-able.
        """
        specs = self.param_specs()
        for name, value in params.items():
            if name not in specs:
                raise ConfigError(unknown_name(self.display_name(), name, specs, self._legacy_keyword(name)))
            self._check_value(specs[name], value)

    def _check_value(self, spec: ParamSpec, value: Any) -> None:
        problem = find_non_jsonable(value)
        if problem:
            raise ConfigError(
                f"parameter '{spec.name}' of {self.display_name()} must be JSON-able, but {problem}; "
                "pass plain values (numbers, strings, lists, dicts) and send data through inputs"
            )
        if not matches(value, spec.annotation):
            raise ConfigError(
                f"parameter '{spec.name}' of {self.display_name()} must be "
                f"{describe(spec.annotation)}, got {type(value).__name__} {excerpt(value)}"
            )

    def validate(self) -> None:
        """Check that the current parameter values obey the contract."""
        self.check_params(self.get_params())

    def clone(self) -> Self:
        """Return a new, equal object rebuilt from ``get_params()``."""
        return type(self)(**self.get_params())

    def to_config(self) -> dict[str, Any]:
        """Return ``{"type": "pkg.module.Class", "params": {...}}``."""
        return {"type": self.config_type(), "params": self.get_params()}

    @classmethod
    def from_config(cls, config: dict[str, Any]) -> Self:
        """Rebuild an object from ``to_config()`` output, validating every parameter.

        Raises:
            ConfigError: the type is missing, not a ``cls``, or the parameters are invalid.
        """
        type_path = config.get("type")
        params = config.get("params") or {}
        if not isinstance(type_path, str) or not isinstance(params, dict):
            raise ConfigError(
                f"{with_article(cls._config_kind)} config needs 'type' (a string) and 'params' (a mapping)"
            )
        target = import_object(type_path)
        return cls._build_from(target, type_path, params)

    @classmethod
    def _build_from(cls, target: Any, type_path: str, params: dict[str, Any]) -> Self:
        if not (isinstance(target, type) and issubclass(target, cls)):
            raise ConfigError(f"'{type_path}' is not {with_article(cls.__name__)} class")
        probe = target.__new__(target)
        probe.check_params(params)
        missing = [
            name
            for name, spec in probe.param_specs().items()
            if spec.default is inspect.Parameter.empty and name not in params
        ]
        if missing:
            raise ConfigError(f"{target.__name__} needs parameter(s) {', '.join(missing)}")
        instance: Self = target(**params)
        return instance

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Configurable) or self.config_type() != other.config_type():
            return NotImplemented
        return self.get_params() == other.get_params()

    def __hash__(self) -> int:
        return hash((self.config_type(), canonical_json(self.get_params(), strict=False)))

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{self.display_name()}({args})"
