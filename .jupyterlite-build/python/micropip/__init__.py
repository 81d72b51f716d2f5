"""A small stand-in for micropip in the tutor's offline lab (MIT, part of AI Coding Tutor).

The real micropip downloads wheels from PyPI, which this lab never reaches. This stub offers what
the JupyterLite kernel and ``piplite`` import, and installs only packages that the lab ships (those
in its Pyodide lock file), through Pyodide's own ``loadPackage``. Anything else fails with a clear
message instead of trying the network.
"""

from __future__ import annotations

from typing import Any

__version__ = "0.0.0+tutor"
__all__ = ["install", "list", "freeze", "uninstall", "add_mock_package", "set_index_urls"]


class OfflineError(ValueError):
    """A package that the lab does not ship was requested."""


def _name_of(requirement: str) -> str:
    name = requirement.strip()
    for sep in ("[", "=", "<", ">", "!", "~", ";", " ", "@"):
        name = name.split(sep, 1)[0]
    return name.strip().lower().replace("_", "-").replace(".", "-")


async def install(
    requirements: str | list[str],
    keep_going: bool = False,
    deps: bool = True,
    credentials: str | None = None,
    pre: bool = False,
    index_urls: Any = None,
    *,
    verbose: bool | int = False,
    **kwargs: Any,
) -> None:
    import pyodide_js

    if isinstance(requirements, str):
        requirements = [requirements]
    names = [_name_of(r) for r in requirements]
    errors: list[str] = []
    try:
        await pyodide_js.loadPackage(names, errorCallback=errors.append)
    except Exception as err:  # Pyodide raises for names it does not know
        errors.append(str(err))
    if errors:
        raise OfflineError(
            "This lab runs offline and cannot install "
            + ", ".join(names)
            + " (only the standard library and the packages the lab ships are available): "
            + "; ".join(str(e) for e in errors)
        )


def list() -> dict[str, Any]:  # noqa: A001 - the micropip API name
    import pyodide_js

    return pyodide_js.loadedPackages.to_py()


def freeze() -> str:
    return "{}"


def uninstall(*args: Any, **kwargs: Any) -> None:
    raise OfflineError("Packages cannot be uninstalled in this lab.")


def add_mock_package(*args: Any, **kwargs: Any) -> None:
    raise OfflineError("Mock packages are not supported in this lab.")


def set_index_urls(*args: Any, **kwargs: Any) -> None:
    return None
