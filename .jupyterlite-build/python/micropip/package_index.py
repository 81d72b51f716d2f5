"""What ``piplite`` imports from ``micropip.package_index``; nothing here touches the network."""

from __future__ import annotations

from typing import Any


class CompatibilityLayer:
    @staticmethod
    async def fetch_string_and_headers(url: str, kwargs: dict[str, Any]) -> tuple[str, dict]:
        raise ValueError(f"This lab runs offline: {url} cannot be fetched.")


class ProjectInfo:
    def __init__(self, name: str, releases: Any = None) -> None:
        self.name = name
        self.releases = releases or {}

    @classmethod
    def _compatible_only(cls, name: str, releases: Any) -> "ProjectInfo":
        return cls(name, releases)


async def query_package(name: str, *args: Any, **kwargs: Any) -> ProjectInfo:
    raise ValueError(f"This lab runs offline and cannot look up {name!r}.")
